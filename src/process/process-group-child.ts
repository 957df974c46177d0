import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { SIG } from '../config/signals.js';
import { listChildren, processTree, startingEnvironment } from '../sys/proc.js';
import { childProcess } from './child-process.js';
import { sendSignal } from './group.js';

/**
 * In the environment of every init script and command check: what one of them leaves behind
 * after escaping its process group (setsid, a double fork) is recognised by it once usher has
 * adopted it, and killed when its run is over.
 */
const RUN_ID = 'USHER_RUN_ID';

let runs = 0;
/** Runs still going: what carries their id is not left over yet. */
const running = new Set<string>();

/**
 * A child usher starts for itself (an init script, a command check) in a process group of its
 * own, so that a timeout or a stop reaches everything it forked and leaves no residue. Its pid
 * is registered as usher's own while it runs: libuv reaps it, the orphan reaper must not.
 */
export function spawnInGroup(file: string, args: readonly string[], options: SpawnOptions, ownChildren: Set<number>): ChildProcess {
  runs += 1;
  const run = `${process.pid}.${runs}`;
  running.add(run);
  const child = childProcess().spawn(file, args, { ...options, env: { ...(options.env ?? process.env), [RUN_ID]: run }, detached: true });
  const pid = child.pid;
  if (pid !== undefined) ownChildren.add(pid);
  child.once('exit', () => {
    if (pid !== undefined) ownChildren.delete(pid);
    running.delete(run);
  });
  if (pid === undefined) running.delete(run);
  return child;
}

/** Signals the whole group led by pid; true when anything was there to signal. */
export function signalGroup(pid: number | undefined, signal: number): boolean {
  return pid !== undefined && sendSignal(-pid, signal);
}

/**
 * Kills what the group leader left behind once it is gone: the rest of its group (a sleeper it
 * forked), and what escaped the group and came to usher as an orphan (a setsid daemon), with
 * everything below it. Each check run cleans up after itself, so runs do not pile up daemons.
 */
export function killLeftovers(pid: number | undefined, signal: number): void {
  // Zombies take a signal as harmlessly as the living: no scan of /proc to tell them apart.
  signalGroup(pid, signal);
  for (const orphan of listChildren() ?? []) {
    const run = startingEnvironment(orphan, RUN_ID);
    if (run === undefined || running.has(run) || !run.startsWith(`${process.pid}.`)) continue;
    for (const member of processTree([orphan])) sendSignal(member, SIG.KILL);
  }
}
