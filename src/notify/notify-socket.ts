import { chmodSync, lstatSync, unlinkSync, type Stats } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { errnoText } from '../sys/errno.js';
import { bindDatagramSocket, closeFd, createWakeFd, errnoCodes, loadDatagramCalls, pollInBackground, pollNow, pollSet, receive, SUN_PATH_MAX, wake } from '../sys/unix-datagram.js';

/**
 * systemd's sd_notify protocol, server side: a unix datagram socket whose
 * path the app gets in NOTIFY_SOCKET, and to which it sends `READY=1`, `STATUS=…`, `WATCHDOG=1`…
 *
 * Node has no unix datagram sockets, so the socket is made and read through libc
 * (src/sys/unix-datagram.ts). To learn of datagrams without blocking the
 * event loop or polling it in a busy loop, `poll()` runs as a koffi async call, i.e. on the
 * libuv threadpool: **one of the threadpool's threads (4 by default, UV_THREADPOOL_SIZE) sits in
 * poll() for as long as the socket is open**, leaving the others for fs, dns.lookup and crypto.
 * When poll() says the socket is readable, the main thread drains it with non-blocking recv()
 * until EAGAIN, then polls again. poll() also watches an eventfd that close() writes to, so the
 * pending call returns at once rather than at its timeout.
 *
 * That matters at exit: Node waits for pending threadpool work before the process ends, even in
 * process.exit(). An open socket is therefore closed from a process 'exit' listener, and
 * close() wakes the poll, so exiting costs a wakeup rather than up to POLL_TIMEOUT_MS.
 *
 * Any process that can write to the socket file may send (like systemd's NotifyAccess=all):
 * SO_PASSCRED stays off and senders are not identified. File descriptors sent along
 * (FDSTORE=1) are dropped by the kernel, since recv() offers no room for them.
 *
 * Unix datagram queues are short (net.unix.max_dgram_qlen, 10 in a fresh network namespace):
 * a sender using a blocking socket, as libsystemd does, waits in sendto() while usher has not
 * drained the queue, so nothing is lost, but a sender in usher's own process would deadlock.
 */
export interface NotifyMessage {
  /** The datagram's KEY=VALUE lines (parseNotify). */
  readonly fields: ReadonlyMap<string, string>;
  /** The datagram as sent (UTF-8). */
  readonly raw: string;
}

export interface NotifySocket {
  /** The absolute path the socket is bound to: what the app gets in NOTIFY_SOCKET. */
  readonly path: string;
  /** Stops listening, closes the socket and removes its path; no callback fires afterwards. Idempotent. */
  close(): void;
}

/**
 * What onError receives. `fatal`: the socket stopped listening (it is closed and its path
 * removed); otherwise one datagram was dropped (oversized) or a handler threw, and it listens on.
 */
export class NotifySocketError extends Error {
  constructor(
    message: string,
    readonly fatal: boolean,
  ) {
    super(message);
    this.name = 'NotifySocketError';
  }
}

export interface NotifySocketOptions {
  /** Where to bind; made absolute (sd_notify clients accept only absolute paths). */
  readonly path: string;
  readonly onMessage: (message: NotifyMessage) => void;
  readonly onError: (error: Error) => void;
  /** How long one poll() waits before looping (default 1000 ms); tests make it long to show close() wakes it. */
  readonly pollTimeoutMs?: number;
}

/** How long one poll() may wait. Only a safety net: close() wakes it through the eventfd. */
const POLL_TIMEOUT_MS = 1000;
/** systemd's NOTIFY_BUFFER_MAX (PIPE_BUF): longer datagrams are dropped, as systemd does. */
const DATAGRAM_MAX = 4096;
/** Datagrams read per wakeup before the event loop gets a turn (poll() returns at once if more wait). */
const DRAIN_BATCH = 256;

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * An sd_notify datagram's fields: newline-separated KEY=VALUE lines, split at the first `=`
 * (values may hold `=` and spaces). Lines without `=`, with an invalid key or a NUL byte are
 * ignored; when a key repeats, the last one wins (as in an environment block).
 */
export function parseNotify(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const equals = line.indexOf('=');
    if (equals <= 0 || line.includes('\0')) continue;
    const key = line.slice(0, equals);
    if (!KEY.test(key)) continue;
    fields.set(key, line.slice(equals + 1));
  }
  return fields;
}

const open = new Set<Listener>();
let exitHooked = false;

function closeAllAtExit(): void {
  for (const listener of [...open]) listener.close();
}

/**
 * Creates the notify socket at `path` (a stale socket there is replaced; any other file is an
 * error) and starts listening. Throws an Error naming the path when it cannot.
 */
export function openNotifySocket(options: NotifySocketOptions): NotifySocket {
  const path = resolvePath(options.path);
  const fail = (why: string): Error => new Error(`cannot open notify socket ${path}: ${why}`);
  const length = Buffer.byteLength(path);
  if (length > SUN_PATH_MAX) throw fail(`the path is ${length} bytes long, and a unix socket path holds at most ${SUN_PATH_MAX}`);
  if (path.includes('\0')) throw fail('the path holds a NUL byte');
  try {
    loadDatagramCalls();
  } catch (error) {
    throw fail(`koffi cannot load (${error instanceof Error ? error.message : String(error)})`);
  }
  let existing: Stats | undefined;
  try {
    existing = lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fail(`cannot look at the path (${(error as Error).message})`);
  }
  if (existing) {
    // A socket left by an earlier run is replaced (systemd does the same); anything else is not ours.
    if (!existing.isSocket()) throw fail('a file that is not a socket is in the way');
    try {
      unlinkSync(path);
    } catch (error) {
      throw fail(`cannot remove the stale socket (${(error as Error).message})`);
    }
  }
  let fd: number;
  try {
    fd = bindDatagramSocket(path);
  } catch (error) {
    throw fail((error as Error).message);
  }
  let bound: { readonly dev: number; readonly ino: number };
  try {
    // The socket file gets 0777 & ~umask: the app (same user) needs write permission to send.
    const stat = lstatSync(path);
    bound = { dev: stat.dev, ino: stat.ino };
    if ((stat.mode & 0o200) === 0) chmodSync(path, (stat.mode & 0o777) | 0o600);
  } catch (error) {
    closeFd(fd);
    try {
      unlinkSync(path);
    } catch {
      // not there
    }
    throw fail(`cannot stat the bound socket (${(error as Error).message})`);
  }
  let wakeFd: number;
  try {
    wakeFd = createWakeFd();
  } catch (error) {
    closeFd(fd);
    removeIfOurs(path, bound);
    throw fail((error as Error).message);
  }
  const listener = new Listener(path, bound, fd, wakeFd, options);
  open.add(listener);
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', closeAllAtExit);
  }
  listener.start();
  return listener;
}

function removeIfOurs(path: string, bound: { readonly dev: number; readonly ino: number }): void {
  try {
    // Only the socket usher bound: not one that something else put there since.
    const stat = lstatSync(path);
    if (stat.ino === bound.ino && stat.dev === bound.dev) unlinkSync(path);
  } catch {
    // already gone
  }
}

class Listener implements NotifySocket {
  private closed = false;
  /** A poll() is running on the threadpool: the fds must stay open until it returns. */
  private polling = false;
  private released = false;
  private readonly fds: Buffer;
  private readonly buffer = Buffer.alloc(DATAGRAM_MAX);

  constructor(
    readonly path: string,
    private readonly bound: { readonly dev: number; readonly ino: number },
    private readonly fd: number,
    private readonly wakeFd: number,
    private readonly options: NotifySocketOptions,
  ) {
    this.fds = pollSet([fd, wakeFd]);
  }

  start(): void {
    this.polling = true;
    try {
      pollInBackground(this.fds, 2, this.options.pollTimeoutMs ?? POLL_TIMEOUT_MS, (error, result) => this.polled(error, result));
    } catch (error) {
      this.polling = false;
      this.stop(`poll() could not start: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    open.delete(this);
    removeIfOurs(this.path, this.bound);
    if (!this.polling) return this.release();
    // Wake the pending poll(); its callback then closes the fds (never while poll() uses them).
    wake(this.wakeFd);
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    closeFd(this.fd);
    closeFd(this.wakeFd);
  }

  /** Runs on the main thread when poll() returns; never throws. */
  private polled(error: unknown, result: number): void {
    this.polling = false;
    if (this.closed) return this.release();
    if (error) return this.stop(`poll() failed: ${error instanceof Error ? error.message : String(error)}`);
    if (result < 0) {
      // errno does not survive an async call: ask again synchronously, without waiting.
      // EINTR (a signal landed on the threadpool thread) just means poll again.
      const again = pollNow(this.fds, 2);
      if (again < 0 && -again !== errnoCodes().EINTR) return this.stop(`poll() failed: ${errnoText(-again)}`);
    } else if (result > 0) {
      this.drain();
      if (this.closed) return; // a handler closed it (the fds are released already) or recv failed
    }
    this.start();
  }

  private drain(): void {
    const { EAGAIN, EWOULDBLOCK, EINTR, ENOMEM, ENOBUFS } = errnoCodes();
    for (let read = 0; read < DRAIN_BATCH && !this.closed; read += 1) {
      const length = receive(this.fd, this.buffer);
      if (length < 0) {
        const errno = -length;
        if (errno === EAGAIN || errno === EWOULDBLOCK) return;
        if (errno === EINTR) continue;
        if (errno === ENOMEM || errno === ENOBUFS) return this.report(new NotifySocketError(`notify socket ${this.path}: recv() failed: ${errnoText(errno)}`, false));
        return this.stop(`recv() failed: ${errnoText(errno)}`);
      }
      if (length > DATAGRAM_MAX) {
        this.report(new NotifySocketError(`notify socket ${this.path}: dropped a ${length}-byte datagram (at most ${DATAGRAM_MAX})`, false));
        continue;
      }
      const raw = this.buffer.toString('utf8', 0, length);
      try {
        this.options.onMessage({ fields: parseNotify(raw), raw });
      } catch (error) {
        this.report(new NotifySocketError(`notify socket ${this.path}: the message handler threw: ${error instanceof Error ? error.message : String(error)}`, false));
      }
    }
  }

  /** Stops listening for good and says why (fatal). */
  private stop(why: string): void {
    this.close();
    this.report(new NotifySocketError(`notify socket ${this.path} stopped listening: ${why}`, true), true);
  }

  private report(error: NotifySocketError, evenIfClosed = false): void {
    if (this.closed && !evenIfClosed) return;
    try {
      this.options.onError(error);
    } catch {
      // onError must not throw; nothing is left to tell
    }
  }
}
