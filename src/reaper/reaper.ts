import type { Libc } from '../sys/libc.js';
import { listChildren } from '../sys/proc.js';

export interface Reaped {
  readonly pid: number;
  /** The waitpid(2) status. */
  readonly status: number;
}

/**
 * Reaps orphans: every child of usher's that usher did not start itself. libuv reaps the
 * children Node spawned, by pid, and would never learn of their exit if anyone else reaped
 * them first; the app started with posix_spawn is reaped by its own handle, by pid. So: never
 * waitpid(-1), and never a child that is `own`.
 */
export class Reaper {
  constructor(
    private readonly libc: Libc,
    private readonly isOwnChild: (pid: number) => boolean,
  ) {}

  /**
   * One pass; repeats while it finds zombies, since SIGCHLDs coalesce during a burst. `complete`
   * is false when the children could not be listed (no /proc): the caller tries again later.
   * `leftGroup`, the app's process group once the app itself was collected, is then reaped by
   * group: none of its members is a child Node or usher waits for by pid, and without this its
   * zombies would keep the group alive to a signal, and usher waiting for it, for ever.
   */
  reap(leftGroup?: number): { readonly reaped: Reaped[]; readonly complete: boolean } {
    const reaped: Reaped[] = [];
    for (;;) {
      const children = listChildren();
      if (!children) {
        for (let got = leftGroup && this.libc.reapFromGroup(leftGroup); got; got = this.libc.reapFromGroup(leftGroup!)) reaped.push(got);
        return { reaped, complete: false };
      }
      let found = 0;
      for (const pid of children) {
        if (this.isOwnChild(pid)) continue;
        const status = this.libc.reapIfExited(pid);
        if (status === undefined) continue;
        reaped.push({ pid, status });
        found += 1;
      }
      if (found === 0) return { reaped, complete: true };
    }
  }
}
