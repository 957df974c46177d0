import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * What usher reads of /proc. Every reader returns undefined when /proc cannot be read (out of
 * descriptors, no /proc mounted): the caller decides whether to retry or assume the worst.
 */
/** A file of /proc, whole; undefined when it cannot be read (gone, not ours, out of descriptors). */
function readProc(file: string): string | undefined {
  try {
    return readFileSync(file, 'latin1');
  } catch {
    return undefined;
  }
}

/** A directory of /proc; undefined when it cannot be read. */
function listProc(dir: string): string[] | undefined {
  try {
    return readdirSync(dir);
  } catch {
    return undefined;
  }
}

export interface ProcStat {
  readonly pid: number;
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
}

/** The fields of /proc/PID/stat usher needs; the command name may hold spaces and parentheses. */
export function readStat(pid: number | string): ProcStat | undefined {
  const text = readProc(`/proc/${pid}/stat`);
  if (text === undefined) return undefined;
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { pid: Number(pid), state: fields[0] ?? '?', ppid: Number(fields[1]), pgrp: Number(fields[2]) };
}

/** Every process usher can see in /proc, with its stat. */
export function allProcesses(): ProcStat[] | undefined {
  // An empty directory where /proc should be (a tmpfs over it) lists no process: that is not none.
  if (!procMounted()) return undefined;
  const entries = listProc('/proc');
  if (!entries) return undefined;
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
  const tasks = listProc('/proc/self/task');
  if (!tasks) return undefined;
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

/** Whether the kernel keeps children lists (CONFIG_PROC_CHILDREN), which processTree walks. */
export function childrenListsReadable(): boolean {
  return existsSync(`/proc/self/task/${process.pid}/children`);
}

/** `pid` and all its descendants, from the kernel's children lists (every thread's). */
export function processTree(roots: readonly number[]): number[] {
  const found: number[] = [];
  const pending = [...roots];
  const seen = new Set<number>();
  for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
    if (seen.has(pid)) continue;
    seen.add(pid);
    found.push(pid);
    // A process or a thread that ended meanwhile lists nothing.
    for (const task of listProc(`/proc/${pid}/task`) ?? []) {
      for (const word of readProc(`/proc/${pid}/task/${task}/children`)?.split(' ') ?? []) if (word) pending.push(Number(word));
    }
  }
  return found;
}

/**
 * The socket inodes a process holds open, each with one descriptor that holds it (/proc/PID/fd);
 * with `wanted`, only those, and the walk stops once it has them all.
 */
export function socketsOf(pid: number, wanted?: ReadonlySet<number>): Map<number, number> {
  const sockets = new Map<number, number>();
  // None when the process is gone, or not ours to look at.
  for (const fd of listProc(`/proc/${pid}/fd`) ?? []) {
    const inode = socketInode(fdTarget(pid, Number(fd)));
    if (inode === undefined || sockets.has(inode) || (wanted && !wanted.has(inode))) continue;
    sockets.set(inode, Number(fd));
    if (wanted && sockets.size === wanted.size) break;
  }
  return sockets;
}

/** What /proc/PID/fd/FD points to (`socket:[12345]`, a path…); undefined when it is gone. */
export function fdTarget(pid: number, fd: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/fd/${fd}`);
  } catch {
    return undefined;
  }
}

export function socketInode(target: string | undefined): number | undefined {
  const match = target === undefined ? null : /^socket:\[(\d+)\]$/.exec(target);
  return match ? Number(match[1]) : undefined;
}

/**
 * How many TCP connections this network namespace has accepted since it began: Tcp's
 * PassiveOpens in /proc/net/snmp, counted by the kernel for every listener of the namespace.
 */
export function tcpPassiveOpens(): number | undefined {
  const text = readProc('/proc/net/snmp');
  if (text === undefined) return undefined;
  const [names, values] = text.split('\n').filter((line) => line.startsWith('Tcp:'));
  const index = names?.split(' ').indexOf('PassiveOpens') ?? -1;
  const value = index < 0 ? NaN : Number(values?.split(' ')[index]);
  return Number.isFinite(value) ? value : undefined;
}

/** The value of `name` in the environment a process was started with (/proc/PID/environ); undefined when absent or unreadable. */
export function startingEnvironment(pid: number, name: string): string | undefined {
  const prefix = `${name}=`;
  return readProc(`/proc/${pid}/environ`)?.split('\0').find((entry) => entry.startsWith(prefix))?.slice(prefix.length);
}

/** Whether /proc is there to read (a container may run without it). */
export function procMounted(): boolean {
  return existsSync('/proc/self/stat');
}

/**
 * RLIMIT_NOFILE's soft limit (/proc/self/limits): what usher may open. Node raised it to the hard
 * limit at its start. Infinity when unlimited, undefined when it cannot be read.
 */
export function openFilesLimit(): number | undefined {
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(readProc('/proc/self/limits') ?? '');
  if (!match) return undefined;
  return match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1]);
}

/** A process's name (/proc/PID/comm), which usher sets to say whether its state file is current. */
export function processName(pid: number): string | undefined {
  return readProc(`/proc/${pid}/comm`)?.trim();
}

/** usher's own open descriptors (/proc/self/fd). */
export function openDescriptors(): number[] | undefined {
  return listProc('/proc/self/fd')?.map(Number);
}

/** A process's argv (/proc/PID/cmdline); a process that set its title shows that title. Undefined when unreadable. */
export function commandLine(pid: number): string[] | undefined {
  return readProc(`/proc/${pid}/cmdline`)?.split('\0').filter((word) => word !== '');
}

/** The command lines of usher's parent, grandparent and so on, `depth` at most, nearest first. */
export function ancestorCommandLines(depth: number): string[][] {
  const lines: string[][] = [];
  for (let pid = process.ppid; pid > 1 && lines.length < depth; pid = readStat(pid)?.ppid ?? 0) {
    const argv = commandLine(pid);
    if (argv) lines.push(argv);
  }
  return lines;
}

/** usher's own cgroup path in systemd's hierarchy (/proc/self/cgroup: the v2 `0::` line, or v1's `name=systemd`). */
export function ownSystemdCgroup(): string | undefined {
  const lines = readProc('/proc/self/cgroup')?.split('\n');
  if (!lines) return undefined;
  const line = lines.find((entry) => entry.includes(':name=systemd:')) ?? lines.find((entry) => entry.startsWith('0::'));
  return line?.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
}
