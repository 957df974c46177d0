import { readdirSync, readFileSync } from 'node:fs';

/** The fields of /proc/PID/stat usher needs; the command name may hold spaces and parentheses. */
export function readStat(pid: number | string): { state: string; ppid: number; pgrp: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '?', ppid: Number(fields[1]), pgrp: Number(fields[2]) };
}

export type ProcStat = NonNullable<ReturnType<typeof readStat>> & { readonly pid: number };

/** Every process usher can see in /proc, with its stat; undefined when /proc cannot be read. */
export function allProcesses(): ProcStat[] | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined; // out of descriptors, or no /proc
  }
  const processes: ProcStat[] = [];
  for (const entry of entries) {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue;
    const stat = readStat(entry);
    if (stat) processes.push({ pid: Number(entry), ...stat });
  }
  return processes;
}

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
