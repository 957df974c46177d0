import { allProcesses } from '../sys/proc.js';

/** Live (not zombie) processes in process group `pgid`. */
export function liveGroupMembers(pgid: number): number {
  // The common case first: no member at all, not even a zombie, and no /proc scan needed.
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return 0;
  }
  const processes = allProcesses();
  // Cannot look: assume someone is left; the grace timer ends it.
  if (!processes) return 1;
  return processes.filter((stat) => stat.pgrp === pgid && stat.state !== 'Z' && stat.state !== 'X').length;
}

/**
 * Sends a signal to a pid (or to a group when negative). A target already gone is not an error;
 * neither is one usher may not signal (EPERM: a member changed user): usher must not die of it.
 */
export function sendSignal(target: number, signal: number): boolean {
  try {
    process.kill(target, signal);
    return true;
  } catch {
    return false;
  }
}
