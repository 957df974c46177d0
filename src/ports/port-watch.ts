import { formatElapsed } from '../config/duration.js';
import type { Unstamped } from '../lifecycle/types.js';
import type { Logger } from '../log/logger.js';
import { listPorts } from '../lifecycle/readiness.js';
import { describeListener } from './describe.js';
import type { AppListener, ListenerFinder } from './listeners.js';

/** Until every port is listened on (and again once one is lost): a new instance is ready within this of listening. */
export const FAST_POLL_MS = 50;

/** While not ready, how often usher says which ports it waits for and what the app listens on instead. */
const DIAGNOSE_EVERY_MS = 10_000;

export interface PortWatchOptions {
  readonly ports: readonly number[];
  readonly finder: ListenerFinder;
  readonly log: Logger;
  readonly report: (event: Unstamped<'portsChanged'>) => void;
  /** A loopback-only listener cannot be reached from outside the container: usher is PID 1, or in Kubernetes. */
  readonly warnLoopback: boolean;
}

export interface PortWatch {
  start(): void;
  /** Called once a second by the supervisor's own timer: a ready app's ports are looked at then, with no wake-up of their own. */
  tick(): void;
  stop(): void;
}

/**
 * Port readiness: polls, never connects (no accept slot taken, no access-log line), which of the
 * readiness ports a process of the app's tree listens on, and tells the machine when the set of
 * missing ports changes.
 */
export function createPortWatch(options: PortWatchOptions): PortWatch {
  const { ports, log } = options;
  let timer: NodeJS.Timeout | undefined;
  let started = false;
  let missing: readonly number[] = ports;
  let everListening = false;
  let waitingSince = 0;
  let nextDiagnosis = 0;
  const warnedLoopback = new Set<number>();

  const poll = (): void => {
    // Ready, and every known listener still held by its owner: nothing to ask the kernel.
    if (missing.length === 0 && options.finder.confirm(ports)) return;
    const listeners = options.finder.find(ports);
    const now = Date.now();
    if (listeners) {
      const nowMissing = ports.filter((port) => !listeners.some((listener) => listener.port === port));
      if (nowMissing.join() !== missing.join()) changed(nowMissing, listeners, now);
      warnLoopbackOnly(listeners);
    }
    if (missing.length > 0 && now >= nextDiagnosis) diagnose(now);
    // Until every port is listened on, a timer of its own; once ready, the supervisor's ticks.
    if (missing.length > 0) timer = setTimeout(poll, FAST_POLL_MS);
  };

  const changed = (nowMissing: readonly number[], listeners: readonly AppListener[], now: number): void => {
    const found = ports.filter((port) => !nowMissing.includes(port) && missing.includes(port));
    const lost = nowMissing.filter((port) => !missing.includes(port));
    for (const port of found) {
      const listener = listeners.find((candidate) => candidate.port === port)!;
      log.info({ port, address: describeListener(listener), pid: listener.pid }, `listening on :${port}${everListening ? ' again' : ''}`);
    }
    if (lost.length > 0) log.warn({ ports: lost }, `no longer listening on ${listPorts(lost)}`);
    if (nowMissing.length === 0) everListening = true;
    if (missing.length === 0 && nowMissing.length > 0) [waitingSince, nextDiagnosis] = [now, now + DIAGNOSE_EVERY_MS];
    missing = nowMissing;
    options.report({ type: 'portsChanged', missing: nowMissing });
  };

  const diagnose = (now: number): void => {
    nextDiagnosis = now + DIAGNOSE_EVERY_MS;
    if (now - waitingSince < DIAGNOSE_EVERY_MS) return;
    const others = (options.finder.find() ?? []).filter((listener) => !ports.includes(listener.port));
    const instead = others.length === 0 ? 'the app listens on no TCP port' : `the app listens on ${[...new Set(others.map(describeListener))].join(', ')}`;
    log.warn({ ports: missing }, `still not listening on ${listPorts(missing)} after ${formatElapsed((now - waitingSince) / 1000)} (${instead})`);
  };

  const warnLoopbackOnly = (listeners: readonly AppListener[]): void => {
    if (!options.warnLoopback) return;
    for (const port of ports) {
      const on = listeners.filter((listener) => listener.port === port);
      if (on.length === 0 || warnedLoopback.has(port) || !on.every((listener) => isLoopback(listener.address))) continue;
      warnedLoopback.add(port);
      log.warn({ port }, `the app listens on ${on.map(describeListener).join(', ')} only: ready, but nothing outside the container can reach it (bind 0.0.0.0 or ::)`);
    }
  };

  return {
    start() {
      started = true;
      waitingSince = Date.now();
      nextDiagnosis = waitingSince + DIAGNOSE_EVERY_MS;
      poll();
    },
    tick() {
      if (started && missing.length === 0) poll();
    },
    stop: () => {
      started = false;
      clearTimeout(timer);
    },
  };
}

function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.');
}
