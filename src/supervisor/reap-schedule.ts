import type { Reaped, Reaper } from '../reaper/reaper.js';

/** How often the app and the orphans are looked at without a SIGCHLD: a lost one costs at most this. */
const SLOW_PASS_MS = 1000;

export interface ReapScheduleOptions {
  /** Orphan reaping; undefined without libc. */
  readonly reaper: Reaper | undefined;
  /** What usher spawned itself with posix_spawn and so reaps by pid: the app, its guardian. */
  readonly reapedByPid: () => readonly { collect(): unknown }[];
  /** The app's process group once the app was collected: reaped by group where usher cannot list its children. */
  readonly leftGroup: () => number | undefined;
  readonly onOrphans: (reaped: readonly Reaped[]) => void;
  /** After every pass: the leftover watch counts again. */
  readonly afterPass: () => void;
  /** Once a second, on the same wake-up: what else polls that slowly (a ready app's ports). */
  readonly everySecond: () => void;
}

export interface ReapSchedule {
  /** A pass soon (SIGCHLD, a signal just sent): SIGCHLDs coalesce, one pass per loop turn catches every zombie. */
  soon(): void;
  /** One pass now. */
  now(): void;
  stop(): void;
}

/**
 * When usher reaps: on SIGCHLD, after each signal it sends, and on a slow timer. The app is
 * collected by its own pid first (waitpid needs no /proc), then orphans. The slow timer is
 * also what holds Node's event loop open while a posix-spawned app runs: nothing of libuv's
 * watches that child, and an empty loop would make Node exit 0 under a running app.
 */
export function createReapSchedule(options: ReapScheduleOptions): ReapSchedule {
  let scheduled = false;
  const pass = (): void => {
    for (const spawned of options.reapedByPid()) spawned.collect();
    const result = options.reaper?.reap(options.leftGroup());
    if (result && result.reaped.length > 0) options.onOrphans(result.reaped);
    options.afterPass();
  };
  const slow = setInterval(() => {
    pass();
    options.everySecond();
  }, SLOW_PASS_MS);
  return {
    soon() {
      if (scheduled) return;
      scheduled = true;
      setImmediate(() => {
        scheduled = false;
        pass();
      });
    },
    now: pass,
    stop: () => clearInterval(slow),
  };
}
