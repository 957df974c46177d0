import { sendSignal } from '../process/group.js';
import { allProcesses, listChildren, type ProcStat } from '../sys/proc.js';

const POLL_MS = 100;

/**
 * What is left of the app once it has exited: the live members of its process group, and every
 * live process below usher but for usher's own helpers (init scripts, checks): daemons that
 * left the group with setsid, the orphans usher adopted as subreaper, and their children. One
 * /proc scan finds all of them. Without /proc, only the group can be asked (kill(-pgid, 0)).
 */
export function liveLeftovers(pgid: number | undefined, own: ReadonlySet<number>): number[] {
  const processes = allProcesses();
  if (!processes) return pgid !== undefined && sendSignal(-pgid, 0) ? [pgid] : [];
  const children = new Map<number, ProcStat[]>();
  for (const stat of processes) {
    const siblings = children.get(stat.ppid);
    if (siblings) siblings.push(stat);
    else children.set(stat.ppid, [stat]);
  }
  const found = new Set<number>();
  const pending = (children.get(process.pid) ?? []).filter((stat) => !own.has(stat.pid));
  for (let stat = pending.pop(); stat; stat = pending.pop()) {
    if (isLive(stat)) found.add(stat.pid);
    pending.push(...(children.get(stat.pid) ?? []));
  }
  if (pgid !== undefined) for (const stat of processes) if (stat.pgrp === pgid && isLive(stat)) found.add(stat.pid);
  return [...found];
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

  /** Signals every leftover of the app's group `pgid`, each by its pid (a group signal would miss those that left it). */
  signal(signal: number, pgid: number | undefined): void {
    for (const pid of liveLeftovers(pgid, this.own)) sendSignal(pid, signal);
  }

  stop(): void {
    clearInterval(this.#poll);
    this.#watching = false;
  }
}
