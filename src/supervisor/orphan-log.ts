import type { Logger } from '../log/logger.js';
import type { Reaped } from '../reaper/reaper.js';
import { decodeWaitStatus } from '../sys/wait-status.js';

/** At most one line a second about reaped orphans: an app that forks all day must not flood the log. */
const LINE_EVERY_MS = 1000;
/** The pids a line names; the count says how many there were. */
const PIDS_SHOWN = 10;

export interface OrphanLog {
  reaped(orphans: readonly Reaped[]): void;
  /** At exit: the orphans not yet counted in a line get theirs. */
  flush(): void;
}

/**
 * Each reaped orphan at debug; at info (warn with -w) one line with the count, at once when
 * none was said in the last second, else when the second is up, with every orphan reaped since.
 * `total` adds the orphans it is given to the running count (/metrics) and returns it.
 */
export function createOrphanLog(log: Logger, level: 'info' | 'warn', total: (added: number) => number): OrphanLog {
  let count = 0;
  let pids: number[] = [];
  let lastLineAt = -Infinity;
  let timer: NodeJS.Timeout | undefined;
  const say = (): void => {
    clearTimeout(timer);
    timer = undefined;
    if (count === 0) return;
    log[level]({ count, pids, total: total(0) }, 'orphans reaped');
    count = 0;
    pids = [];
    lastLineAt = performance.now();
  };
  return {
    reaped(orphans) {
      total(orphans.length);
      if (log.isLevelEnabled('debug')) for (const { pid, status } of orphans) log.debug({ pid, ...decodeWaitStatus(status) }, 'orphan reaped');
      count += orphans.length;
      for (const { pid } of orphans) if (pids.length < PIDS_SHOWN) pids.push(pid);
      const wait = lastLineAt + LINE_EVERY_MS - performance.now();
      if (wait <= 0) return say();
      // unref: what holds usher's loop open is the app, not a pending log line (flush says it at exit).
      timer ??= setTimeout(say, wait).unref();
    },
    flush: say,
  };
}
