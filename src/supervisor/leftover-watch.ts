import { SIG } from '../config/signals.js';
import { sendSignal } from '../process/group.js';
import { allProcesses, childrenListsReadable, listChildren, processTree, readStat, type ProcStat } from '../sys/proc.js';

const POLL_MS = 100;

/**
 * What is left of the app once it has exited: every live process below usher but for usher's
 * own helpers (init scripts, checks) and their trees: what is left of the app's group, daemons
 * that left it with setsid, the orphans usher adopted as subreaper, and their children. The
 * kernel's children lists give the tree without reading every process of the machine; the rest
 * of /proc is read only while the app's group still has a member (which, should usher not be a
 * subreaper, may live outside its tree). Without /proc, only the group can be asked.
 */
function liveLeftovers(pgid: number | undefined, own: ReadonlySet<number>): Leftover[] {
  const children = listChildren();
  if (children === undefined || !childrenListsReadable()) return scanAll(pgid, own);
  const found = new Map<number, Leftover>();
  for (const pid of processTree(children.filter((child) => !own.has(child)))) {
    const stat = readStat(pid);
    if (stat && isLive(stat)) found.set(pid, stat);
  }
  if (pgid !== undefined && sendSignal(-pgid, 0)) {
    for (const stat of allProcesses() ?? []) if (stat.pgrp === pgid && isLive(stat)) found.set(stat.pid, stat);
  }
  return [...found.values()];
}

/** The same from one read of every process: no children lists (an old kernel), or no /proc at all. */
function scanAll(pgid: number | undefined, own: ReadonlySet<number>): Leftover[] {
  const processes = allProcesses();
  // The group's leader, the app, is gone: its members are reached only by a group signal.
  if (!processes) return pgid !== undefined && sendSignal(-pgid, 0) ? [{ pid: -pgid, pgrp: pgid }] : [];
  const children = new Map<number, ProcStat[]>();
  for (const stat of processes) {
    const siblings = children.get(stat.ppid);
    if (siblings) siblings.push(stat);
    else children.set(stat.ppid, [stat]);
  }
  const found = new Map<number, Leftover>();
  const pending = (children.get(process.pid) ?? []).filter((stat) => !own.has(stat.pid));
  for (let stat = pending.pop(); stat; stat = pending.pop()) {
    if (isLive(stat)) found.set(stat.pid, stat);
    pending.push(...(children.get(stat.pid) ?? []));
  }
  if (pgid !== undefined) for (const stat of processes) if (stat.pgrp === pgid && isLive(stat)) found.set(stat.pid, stat);
  return [...found.values()];
}

interface Leftover {
  /** Negative: the whole group, where no pid of it can be known (no /proc). */
  readonly pid: number;
  readonly pgrp: number;
}

/** Orphans usher adopted: its children that it did not start itself. */
export function adoptedOrphans(own: ReadonlySet<number>): number[] {
  return (listChildren() ?? []).filter((pid) => !own.has(pid));
}

function isLive(stat: ProcStat): boolean {
  return stat.state !== 'Z' && stat.state !== 'X';
}

/** Counts the leftovers after each reap and every 100 ms (a grandchild's exit sends usher no SIGCHLD), until none. */
export class LeftoverWatch {
  #pgid: number | undefined;
  #watching = false;
  #poll: NodeJS.Timeout | undefined;
  /** Who had TERM, who had SIGKILL: each goes once to a process. */
  readonly #sent = new Map<number, Set<number>>([[SIG.TERM, new Set()], [SIG.KILL, new Set()]]);

  constructor(
    private readonly own: ReadonlySet<number>,
    private readonly report: (live: number) => void,
  ) {}

  start(pgid: number): void {
    this.#pgid = pgid;
    this.#watching = true;
    this.#poll ??= setInterval(() => this.check(), POLL_MS);
    this.check();
  }

  check(): void {
    if (this.#watching) this.report(liveLeftovers(this.#pgid, this.own).length);
  }

  /**
   * Signals every leftover of the app's group `pgid`, each by its pid (a group signal would miss
   * those that left it). TERM goes once to each process: a second one is, to many apps, "stop
   * now"; so does SIGKILL (one that outlives it, in uninterruptible sleep, gets no storm of them).
   * `spareGroup`: the group's members had the stop signal already. Whether any was sent.
   */
  signal(signal: number, pgid: number | undefined, spareGroup = false): boolean {
    let sent = false;
    for (const { pid, pgrp } of liveLeftovers(pgid, this.own)) {
      if (spareGroup && pgrp === pgid) continue;
      sent = this.#send(pid, signal) || sent;
    }
    return sent;
  }

  /** To each process usher adopted as subreaper, but the members of the app's group `pgid`. Whether any was sent. */
  signalOrphans(signal: number, pgid: number | undefined): boolean {
    let sent = false;
    for (const pid of adoptedOrphans(this.own)) {
      if (pgid !== undefined && readStat(pid)?.pgrp === pgid) continue;
      sent = this.#send(pid, signal) || sent;
    }
    return sent;
  }

  #send(pid: number, signal: number): boolean {
    const had = this.#sent.get(signal);
    if (had?.has(pid)) return false;
    had?.add(pid);
    return sendSignal(pid, signal);
  }

  stop(): void {
    clearInterval(this.#poll);
    this.#watching = false;
  }
}
