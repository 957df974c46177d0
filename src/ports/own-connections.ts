import { ipVersion } from '../sys/ip.js';

/** A connection of usher's own stays recognisable this long: Linux keeps a closed one 60 s in TIME_WAIT. */
const REMEMBER_MS = 70_000;

/**
 * The TCP connections usher makes or accepts itself, so that its drain watch does not take them
 * for the app's traffic: the HTTP server's (kubelet probes), and checks to this machine (a
 * --live-http on the app's port). Small and free of imports: the HTTP server and the checks
 * note into it, the drain watch reads it.
 */
class OwnConnections {
  #opens = 0;
  readonly #localPorts = new Map<number, number>();

  /** A connection usher's HTTP server accepted: one of the namespace's passive opens. */
  accepted(): void {
    this.#opens += 1;
  }

  /** A check connected from `localPort` to `host`: when that is this machine, the app's listener accepted it. */
  connected(localPort: number | undefined, host: string): void {
    if (localPort === undefined || !isLocal(host)) return;
    this.#opens += 1;
    const now = Date.now();
    this.#localPorts.set(localPort, now);
    for (const [port, at] of this.#localPorts) if (at < now - REMEMBER_MS) this.#localPorts.delete(port);
  }

  /** Passive opens of this namespace that were usher's own, so far. */
  opens(): number {
    return this.#opens;
  }

  /** Whether a connection whose far end is `port` on this machine is one of usher's checks. */
  isOwnPeer(port: number): boolean {
    return this.#localPorts.has(port);
  }
}

function isLocal(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === 'localhost' || (ipVersion(bare) === 4 && bare.startsWith('127.')) || bare === '::1' || bare.startsWith('::ffff:127.');
}

export const ownConnections = new OwnConnections();
