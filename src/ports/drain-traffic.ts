import type { Unstamped } from '../lifecycle/types.js';
import type { Logger } from '../log/logger.js';
import { tcpPassiveOpens } from '../sys/proc.js';
import { connections, listeningSockets, SockDiagError, type Connection } from '../sys/sock-diag.js';
import { ownConnections } from './own-connections.js';

/** Polls at most this often; a poll that costs more spaces the next ones out (at most a tenth of a core). */
const POLL_MS = 50;
const COST_FACTOR = 10;

export interface DrainTrafficOptions {
  readonly ports: readonly number[];
  readonly log: Logger;
  readonly report: (event: Unstamped<'drainQuiet'>) => void;
}

export interface DrainTraffic {
  /** From `since` (the unready report), reports once the ports have been quiet for `idleMs`. */
  watch(since: number, idleMs: number): void;
  stop(): void;
}

/**
 * --drain-idle: when did traffic last arrive on the readiness ports? The kernel keeps, for each
 * connection, when data last came (tcpi_last_data_recv, set at the handshake for a new one), so
 * one poll tells the last activity of every open connection to the millisecond; connections
 * this side closed meanwhile stay in TIME_WAIT with the time they closed; a connection in a
 * listener's accept queue is activity now. What no poll can see, a connection the client opened
 * and closed between two polls, still shows in the namespace's count of accepted connections:
 * any that usher did not accept or make itself counts as traffic now. That errs towards a longer
 * drain (another container of the pod accepting connections keeps it going), never a shorter one.
 */
export function createDrainTraffic(options: DrainTrafficOptions): DrainTraffic {
  let timer: NodeJS.Timeout | undefined;
  let opens: { readonly all: number; readonly own: number } | undefined;

  /** Accepted connections since the last poll that were not usher's own. */
  const unseenOpens = (): boolean => {
    const all = tcpPassiveOpens();
    if (all === undefined) return false;
    const own = ownConnections.opens();
    const grew = opens !== undefined && all - opens.all > own - opens.own;
    opens = { all, own };
    return grew;
  };

  const activityAgo = (connection: Connection): number | undefined => {
    if (ownConnections.isOwnPeer(connection.remotePort)) return undefined; // one of usher's checks
    return connection.closedMsAgo ?? (connection.lastReceiveMs < 0 ? 0 : connection.lastReceiveMs);
  };

  /** When the ports last saw traffic, no earlier than `since`; undefined when the kernel cannot say. */
  const lastActivity = (since: number): number | undefined => {
    const now = Date.now();
    let latest = since;
    try {
      for (const connection of connections(options.ports)) {
        const ago = activityAgo(connection);
        if (ago !== undefined) latest = Math.max(latest, now - ago);
      }
      if (listeningSockets(options.ports).some((listener) => listener.acceptQueue > 0)) latest = now;
    } catch (error) {
      if (error instanceof SockDiagError) return undefined;
      throw error;
    }
    return unseenOpens() ? now : latest;
  };

  const poll = (since: number, idleMs: number): void => {
    const began = performance.now();
    const latest = lastActivity(since);
    if (latest === undefined) {
      options.log.warn('--drain-idle: the kernel does not tell usher about connections here (no sock_diag): the drain runs to its limit');
      return;
    }
    const quietFor = Date.now() - latest;
    if (quietFor >= idleMs) return options.report({ type: 'drainQuiet', quietMs: quietFor });
    const cost = performance.now() - began;
    const wait = Math.min(Math.max(POLL_MS, COST_FACTOR * cost), idleMs - quietFor);
    timer = setTimeout(() => poll(since, idleMs), Math.max(1, Math.ceil(wait)));
  };

  return {
    watch(since, idleMs) {
      clearTimeout(timer);
      opens = undefined;
      poll(since, idleMs);
    },
    stop: () => clearTimeout(timer),
  };
}
