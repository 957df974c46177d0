import { readdirSync, readFileSync } from 'node:fs';

/**
 * What usher reads of /proc. Every reader returns undefined when /proc cannot be read (out of
 * descriptors, no /proc mounted): the caller decides whether to retry or assume the worst.
 */
export interface ProcStat {
  readonly pid: number;
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
}

/** The fields of /proc/PID/stat usher needs; the command name may hold spaces and parentheses. */
export function readStat(pid: number | string): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { pid: Number(pid), state: fields[0] ?? '?', ppid: Number(fields[1]), pgrp: Number(fields[2]) };
}

/** Every process usher can see in /proc, with its stat. */
export function allProcesses(): ProcStat[] | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const processes: ProcStat[] = [];
  for (const entry of entries) {
    if (entry.charCodeAt(0) < 48 || entry.charCodeAt(0) > 57) continue;
    const stat = readStat(entry);
    if (stat) processes.push(stat);
  }
  return processes;
}

/** Pids of usher's direct children, zombies included, from every thread's children list. */
export function listChildren(): number[] | undefined {
  let tasks: string[];
  try {
    tasks = readdirSync('/proc/self/task');
  } catch {
    return undefined;
  }
  const pids: number[] = [];
  for (const task of tasks) {
    let text: string;
    try {
      text = readFileSync(`/proc/self/task/${task}/children`, 'latin1');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // A kernel without CONFIG_PROC_CHILDREN has no such file: find children by their parent.
      if (code === 'ENOENT' && task === String(process.pid)) return childrenByParent();
      if (code === 'ENOENT') continue; // the thread ended between readdir and read
      return undefined; // EMFILE and the like: this pass saw nothing, the next one will
    }
    for (const word of text.split(' ')) if (word) pids.push(Number(word));
  }
  return pids;
}

/** The slow way: every process whose parent is usher. */
export function childrenByParent(): number[] | undefined {
  return allProcesses()?.filter((stat) => stat.ppid === process.pid).map((stat) => stat.pid);
}
