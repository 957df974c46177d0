import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { childProcess } from './child-process.js';
import { liveGroupMembers, sendSignal } from './group.js';

/**
 * A child usher starts for itself (an init script, a command check) in a process group of its
 * own, so that a timeout or a stop reaches everything it forked and leaves no residue. Its pid
 * is registered as usher's own while it runs: libuv reaps it, the orphan reaper must not.
 */
export function spawnInGroup(file: string, args: readonly string[], options: SpawnOptions, ownChildren: Set<number>): ChildProcess {
  const child = childProcess().spawn(file, args, { ...options, detached: true });
  const pid = child.pid;
  if (pid !== undefined) {
    ownChildren.add(pid);
    child.once('exit', () => ownChildren.delete(pid));
  }
  return child;
}

/** Signals the whole group led by pid; true when anything was there to signal. */
export function signalGroup(pid: number | undefined, signal: number): boolean {
  return pid !== undefined && sendSignal(-pid, signal);
}

/** Kills what the group leader left behind (a sleeper it forked) once the leader is gone. */
export function killLeftovers(pid: number | undefined, signal: number): void {
  if (pid !== undefined && liveGroupMembers(pid) > 0) sendSignal(-pid, signal);
}
