import { openFilesLimit } from '../sys/proc.js';
import type { Socket } from 'node:net';

/**
 * The HTTP server's connections, each idle or busy (a request of it is being answered), and the
 * cap on how many it holds. A connection over the cap sheds the one idle the longest: a flood of
 * idle, slowloris or half-closed connections then pushes out its own oldest, never the probe
 * that just came in, whose request is answered the moment it is read. Refusing new connections
 * instead (Node's `maxConnections`) let 64 idle ones keep every probe out.
 */
export class ConnectionTable {
  /** Idle connections, oldest idle first: a Set keeps insertion order, and one going idle again is re-inserted. */
  readonly #idle = new Set<Socket>();
  /** Busy connections and how many of their requests are being answered (pipelined requests queue on one socket). */
  readonly #busy = new Map<Socket, number>();

  constructor(readonly limit: number) {}

  get size(): number {
    return this.#idle.size + this.#busy.size;
  }

  /** A new connection: idle until its first request; the cap is kept at once. */
  add(socket: Socket): void {
    this.#idle.add(socket);
    socket.once('close', () => this.#forget(socket));
    this.#shed(socket);
  }

  requestStarted(socket: Socket): void {
    if (socket.destroyed) return;
    this.#idle.delete(socket);
    this.#busy.set(socket, (this.#busy.get(socket) ?? 0) + 1);
  }

  requestEnded(socket: Socket): void {
    const count = this.#busy.get(socket);
    if (count === undefined) return;
    if (count > 1) return void this.#busy.set(socket, count - 1);
    this.#busy.delete(socket);
    if (!socket.destroyed) this.#idle.add(socket); // the newest idle now: a keep-alive client in use is shed last
  }

  /**
   * Over the cap, the oldest idle connection goes; when none but the newcomer is idle, the oldest
   * busy one: an answer is written in one go, so a connection still busy when another comes in is
   * one whose client does not read what it asked for.
   */
  #shed(newcomer: Socket): void {
    while (this.size > this.limit) {
      const victim = first(this.#idle, newcomer) ?? first(this.#busy.keys(), newcomer) ?? newcomer;
      this.#forget(victim);
      victim.destroy();
    }
  }

  #forget(socket: Socket): void {
    this.#idle.delete(socket);
    this.#busy.delete(socket);
  }
}

function first<T>(items: Iterable<T>, except: T): T | undefined {
  for (const item of items) if (item !== except) return item;
  return undefined;
}

/** The cap's bounds: 8 keeps probes, a scrape and a person's curl apart; 64 is plenty where descriptors abound. */
const CONNECTIONS_MIN = 8;
const CONNECTIONS_MAX = 64;
/** When the descriptor limit cannot be read: the cap that fits the smallest limit considered (64). */
const CONNECTIONS_UNKNOWN_LIMIT = 16;

/**
 * How many connections the server may hold: a quarter of usher's descriptor limit, 8 to 64. At a
 * `ulimit -n` of 64 (where usher holds about 20 of its own) that leaves some 25 descriptors to
 * the state writer, the checks and the app's supervision, whatever a flood does.
 */
export function connectionCap(limits = openFilesLimit()): number {
  if (limits === undefined) return CONNECTIONS_UNKNOWN_LIMIT;
  return Math.min(CONNECTIONS_MAX, Math.max(CONNECTIONS_MIN, Math.floor(limits / 4)));
}
