import { readdirSync, readFileSync } from 'node:fs';
import { allProcesses } from '../process/group.js';
import type { Libc } from './libc.js';

/** Pids of usher's direct children, zombies included, from every thread's children list. */
export function listChildren(): number[] {
  const pids: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return pids;
  }
  for (const task of tasks) {
    let text = '';
    try {
      text = readFileSync(`/proc/self/task/${task}/children`, 'latin1');
    } catch (error) {
      // A kernel without CONFIG_PROC_CHILDREN has no such file: find children by their parent.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && task === String(process.pid)) return childrenByParent();
      continue; // the thread ended between readdir and read
    }
    for (const word of text.split(' ')) if (word) pids.push(Number(word));
  }
  return pids;
}

/** The slow way: every process whose parent is usher (/proc/PID/stat). */
export function childrenByParent(): number[] {
  return (allProcesses() ?? []).filter((stat) => stat.ppid === process.pid).map((stat) => stat.pid);
}

/**
 * Reaps orphans, and the app when usher spawned it itself with posix_spawn: every child that
 * libuv did not spawn (libuv reaps those by pid, and would never learn of their exit if anyone
 * else reaped them first). Never waitpid(-1).
 */
export class Reaper {

  constructor(
    private readonly libc: Libc,
    private readonly isOwnChild: (pid: number) => boolean,
  ) {}

  /**
   * One pass; repeats while it finds zombies, since SIGCHLDs coalesce during a burst. Returns
   * each reaped pid with its wait status (the app, when usher spawned it itself, is among them).
   */
  reap(): { pid: number; status: number }[] {
    const reaped: { pid: number; status: number }[] = [];
    for (;;) {
      let found = 0;
      for (const pid of listChildren()) {
        if (this.isOwnChild(pid)) continue;
        const status = this.libc.reapIfExited(pid);
        if (status === undefined) continue;
        reaped.push({ pid, status });
        found += 1;
      }
      if (found === 0) break;
    }
    return reaped;
  }
}
