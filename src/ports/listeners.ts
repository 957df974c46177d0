import { listeningSocketsFromProc } from '../sys/proc-net-tcp.js';
import { fdTarget, procMounted, processTree, socketsOf } from '../sys/proc.js';
import { listeningSockets, SockDiagError, type ListenSocket } from '../sys/sock-diag.js';

/** A listening socket held by a process of the app's tree. */
export interface AppListener extends ListenSocket {
  readonly pid: number;
}

/** A socket found not to be the app's is looked at again after this (its inode could change hands). */
const STRANGER_MS = 30_000;

/**
 * Finds the listening TCP sockets that belong to the app: a LISTEN socket whose inode one of
 * the app tree's processes holds open (/proc/PID/fd). A sidecar listening on the same port in
 * the pod's network namespace does not count; cluster or prefork workers holding the socket do.
 * Owners are remembered, so a poll of a ready app costs one readlink; the tree is walked again
 * only for a socket not seen before. The kernel is asked through sock_diag, or, where it has
 * none, through /proc/net/tcp{,6}.
 */
export class ListenerFinder {
  #viaProc = false;
  readonly #owners = new Map<number, { readonly pid: number; readonly fd: number }>();
  readonly #strangers = new Map<number, number>();
  /** What the last find() gave for each port: confirm() checks these without asking the kernel. */
  readonly #lastFound = new Map<number, readonly number[]>();

  constructor(
    /** The app's pid and the orphans usher adopted from it: the roots of its tree. */
    private readonly roots: () => readonly number[],
    /** Called once, when sock_diag fails and /proc/net/tcp takes over. */
    private readonly onFallback: (why: string) => void,
  ) {}

  /** The app's listeners on `ports` (every port when omitted); undefined when usher cannot look. */
  find(ports?: readonly number[]): AppListener[] | undefined {
    const sockets = this.#sockets(ports);
    if (!sockets) return undefined;
    // Without /proc no owner can be told: any listener counts (said once at start).
    if (!procMounted()) return sockets.map((socket) => ({ ...socket, pid: 0 }));
    const now = Date.now();
    const unknown = sockets.filter((socket) => !this.#owned(socket.inode) && !((this.#strangers.get(socket.inode) ?? -Infinity) > now - STRANGER_MS));
    if (unknown.length > 0) this.#scan(unknown, now);
    const found = sockets.flatMap((socket) => {
      const owner = this.#owners.get(socket.inode);
      return owner ? [{ ...socket, pid: owner.pid }] : [];
    });
    if (ports) for (const port of ports) this.#lastFound.set(port, found.filter((listener) => listener.port === port).map((listener) => listener.inode));
    return found;
  }

  /**
   * The cheap poll of a ready app: each port's listeners, as the last find() gave them, are still
   * held by the processes that held them (one readlink each, no request to the kernel). False
   * when anything changed or is unknown: the caller then finds again. A listener shut down but
   * not closed would pass; servers close theirs.
   */
  confirm(ports: readonly number[]): boolean {
    return ports.every((port) => {
      const inodes = this.#lastFound.get(port);
      return inodes !== undefined && inodes.length > 0 && inodes.every((inode) => this.#owned(inode));
    });
  }

  #sockets(ports: readonly number[] | undefined): ListenSocket[] | undefined {
    if (!this.#viaProc) {
      try {
        return listeningSockets(ports);
      } catch (error) {
        if (!(error instanceof SockDiagError)) throw error;
        this.#viaProc = true;
        this.onFallback(error.message);
      }
    }
    return listeningSocketsFromProc(ports);
  }

  /** Still held by the process that held it: the cheap check of every poll. */
  #owned(inode: number): boolean {
    const owner = this.#owners.get(inode);
    if (!owner) return false;
    if (fdTarget(owner.pid, owner.fd) === `socket:[${inode}]`) return true;
    this.#owners.delete(inode);
    return false;
  }

  /** Walks the tree once for every socket not known yet. */
  #scan(unknown: readonly ListenSocket[], now: number): void {
    // Bounds: both maps only save scans, and entries of sockets closed since are never asked again.
    if (this.#owners.size > 1024) this.#owners.clear();
    if (this.#strangers.size > 1024) this.#strangers.clear();
    const wanted = new Set(unknown.map((socket) => socket.inode));
    for (const pid of processTree(this.roots())) {
      for (const [inode, fd] of socketsOf(pid, wanted)) {
        this.#owners.set(inode, { pid, fd });
        wanted.delete(inode);
      }
      if (wanted.size === 0) break;
    }
    for (const inode of wanted) this.#strangers.set(inode, now);
  }
}
