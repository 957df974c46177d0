import type { Unstamped } from '../lifecycle/types.js';
import type { Logger } from '../log/logger.js';
import { socketsOf, tcpPassiveOpens } from '../sys/proc.js';
import { connections, listeningSockets, SockDiagError, type Connection } from '../sys/sock-diag.js';
import { describeListener } from './describe.js';
import type { ListenerFinder } from './listeners.js';
import { ownConnections } from './own-connections.js';

/** Polls at most this often; a poll that costs more spaces the next ones out (at most a tenth of a core). */
const POLL_MS = 50;
const COST_FACTOR = 10;

export interface DrainTrafficOptions {
  readonly ports: readonly number[];
  /** Which listeners are the app's: the namespace's count of accepted connections is the app's only when every listener is. */
  readonly finder: ListenerFinder;
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
 * and closed between two polls, still shows in the network namespace's count of accepted
 * connections, when the namespace is the app's own (a pod, a container): when every listener in
 * it is the app's or usher's, any accepted connection usher did not accept or make itself is the
 * app's traffic. Where something else listens too (host networking, another container of the
 * pod, several services on one machine) that count says nothing of the app, and usher goes by
 * what each poll sees, saying so once: a connection shorter than a poll may go unseen there.
 */
export function createDrainTraffic(options: DrainTrafficOptions): DrainTraffic {
  let timer: NodeJS.Timeout | undefined;
  let opens: { readonly all: number; readonly own: number } | undefined;
  /** The namespace's accepted connections are the app's (no other listener): decided at each watch. */
  let countOpens = false;
  /** The address families of the app's listeners: a connection has its listener's (one on :: takes IPv4 clients as IPv6). */
  let families: (4 | 6)[] = [4, 6];

  /** Accepted connections since the last poll that were not usher's own. */
  const unseenOpens = (): boolean => {
    if (!countOpens) return false;
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

  /**
   * How long the ports have been quiet, no longer than since `since`; undefined when the kernel
   * cannot say. The kernel's ages are as of its walk of the table, and the clock is read after
   * it: a walk that takes 20 ms must not count as 20 ms of quiet.
   */
  const quietFor = (since: number): number | undefined => {
    let quiet = Infinity;
    try {
      for (const connection of connections(options.ports, families)) {
        const ago = activityAgo(connection);
        if (ago !== undefined) quiet = Math.min(quiet, ago);
      }
      if (listeningSockets(options.ports).some((listener) => listener.acceptQueue > 0)) quiet = 0;
    } catch (error) {
      if (error instanceof SockDiagError) return undefined;
      throw error;
    }
    if (unseenOpens()) quiet = 0;
    return Math.min(quiet, Date.now() - since);
  };

  const poll = (since: number, idleMs: number): void => {
    const began = performance.now();
    const quiet = quietFor(since);
    if (quiet === undefined) {
      options.log.warn('--drain-idle: the kernel does not tell usher about connections here (no sock_diag): the drain runs to its limit');
      return;
    }
    if (quiet >= idleMs) return options.report({ type: 'drainQuiet', quietMs: quiet });
    const cost = performance.now() - began;
    const wait = Math.min(Math.max(POLL_MS, COST_FACTOR * cost), idleMs - quiet);
    timer = setTimeout(() => poll(since, idleMs), Math.max(1, Math.ceil(wait)));
  };

  return {
    watch(since, idleMs) {
      clearTimeout(timer);
      opens = undefined;
      const own = options.finder.find(options.ports) ?? [];
      families = own.length > 0 ? [...new Set(own.map((listener) => listener.family))] : [4, 6];
      const others = otherListeners(options.finder);
      // Without sock_diag, the first poll says why the drain runs to its limit.
      countOpens = others?.length === 0;
      if (others !== undefined && others.length > 0) {
        options.log.info({ others: others.slice(0, 5) }, `--drain-idle: something else listens in this network namespace (${others.slice(0, 3).join(', ')}), so a connection that opens and closes between two polls (${POLL_MS} ms) may go unseen; longer ones are seen`);
      }
      poll(since, idleMs);
    },
    stop: () => clearTimeout(timer),
  };
}

/** Listeners of the namespace that are neither the app's nor usher's own (its HTTP server); undefined when the kernel cannot say. */
function otherListeners(finder: ListenerFinder): string[] | undefined {
  let all;
  try {
    all = listeningSockets();
  } catch {
    return undefined;
  }
  const apps = new Set((finder.find() ?? []).map((listener) => listener.inode));
  const usher = socketsOf(process.pid);
  return all.filter((listener) => !apps.has(listener.inode) && !usher.has(listener.inode)).map(describeListener);
}
