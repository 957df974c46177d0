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
   * is false when the children could not be listed: the caller tries again later.
   */
  reap(): { readonly reaped: Reaped[]; readonly complete: boolean } {
    const reaped: Reaped[] = [];
    for (;;) {
      const children = listChildren();
      if (!children) return { reaped, complete: false };
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
