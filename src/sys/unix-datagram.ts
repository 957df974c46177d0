import { errnoText } from './errno.js';
import { declared, lastErrno, lazy, native } from './koffi.js';

/**
 * Unix datagram sockets and the eventfd that wakes a poll, through libc: Node has none (dgram
 * and net.Socket both refuse such a descriptor). Used by the sd_notify listener. Structs are
 * declared with koffi and encoded by it, so sizes and byte order are this machine's.
 */
const AF_UNIX = 1;
const SOCK_DGRAM = 2;
// Linux's generic values (x86, arm, riscv, loongarch); MIPS, SPARC and Alpha differ, and koffi has no build for them.
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const EFD_NONBLOCK = 0o4000;
const EFD_CLOEXEC = 0o2000000;
const MSG_TRUNC = 0x20;
const MSG_DONTWAIT = 0x40;
const POLLIN = 0x1;
/** sun_path holds 108 bytes, its terminating NUL included. */
export const SUN_PATH_MAX = 107;

const socket = lazy('int socket(int domain, int type, int protocol)');
const bindSocket = lazy('int bind(int fd, const void *addr, uint32_t len)');
const recv = lazy('long recv(int fd, void *buf, unsigned long len, int flags)');
const write = lazy('long write(int fd, const void *buf, unsigned long len)');
const close = lazy('int close(int fd)');
const eventfd = lazy('int eventfd(unsigned int initval, int flags)');

interface AsyncFunction {
  (...args: unknown[]): number;
  async(...args: unknown[]): void;
}
let pollFunction: AsyncFunction | undefined;
const poll = (): AsyncFunction => (pollFunction ??= native().self.func('int poll(void *fds, unsigned long nfds, int timeout)') as unknown as AsyncFunction);

const sockaddrUn = declared((koffi) => koffi.struct({ sun_family: 'uint16', sun_path: koffi.array('char', SUN_PATH_MAX + 1) }));
const pollfd = declared((koffi) => koffi.struct({ fd: 'int', events: 'short', revents: 'short' }));

/** Binds the calls now: throws when koffi or one of them cannot load, before any socket exists. */
export function loadDatagramCalls(): void {
  for (const bind of [socket, bindSocket, recv, write, close, eventfd]) bind();
  poll();
}

/** The errno values the listener tells apart, from koffi's table for this system. */
export function errnoCodes(): Readonly<Record<string, number>> {
  return native().koffi.os.errno;
}

/** A bound, non-blocking, close-on-exec datagram socket at `path`; throws an Error naming the call. */
export function bindDatagramSocket(path: string): number {
  const { koffi } = native();
  const fd = socket()(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new Error(`socket() failed: ${errnoText(lastErrno())}`);
  const type = sockaddrUn();
  const address = Buffer.alloc(koffi.sizeof(type));
  koffi.encode(address, 0, type, { sun_family: AF_UNIX, sun_path: path });
  if (bindSocket()(fd, address, koffi.offsetof(type, 'sun_path') + Buffer.byteLength(path) + 1) !== 0) {
    const errno = lastErrno();
    close()(fd);
    throw new Error(`bind() failed: ${errnoText(errno)}`);
  }
  return fd;
}

/** A non-blocking eventfd: writing to it wakes a poll() that watches it. */
export function createWakeFd(): number {
  const fd = eventfd()(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) throw new Error(`eventfd() failed: ${errnoText(lastErrno())}`);
  return fd;
}

export function wake(fd: number): void {
  const one = Buffer.alloc(8);
  native().koffi.encode(one, 0, 'uint64', 1n);
  write()(fd, one, 8);
}

export function closeFd(fd: number): void {
  close()(fd);
}

/** One datagram without waiting: its full length (MSG_TRUNC: may exceed the buffer), or -errno. */
export function receive(fd: number, buffer: Buffer): number {
  const length = recv()(fd, buffer, buffer.length, MSG_DONTWAIT | MSG_TRUNC);
  return length < 0 ? -lastErrno() : length;
}

/** struct pollfd[] asking for POLLIN on each descriptor. */
export function pollSet(fds: readonly number[]): Buffer {
  const { koffi } = native();
  const type = pollfd();
  const buffer = Buffer.alloc(koffi.sizeof(type) * fds.length);
  fds.forEach((fd, index) => koffi.encode(buffer, index * koffi.sizeof(type), type, { fd, events: POLLIN, revents: 0 }));
  return buffer;
}

/**
 * poll() on a libuv threadpool thread: `done` runs on the main thread with poll's result. The
 * set must stay untouched (and its descriptors open) until then.
 */
export function pollInBackground(set: Buffer, count: number, timeoutMs: number, done: (error: unknown, result: number) => void): void {
  poll().async(set, count, timeoutMs, done);
}

/** poll() without waiting, on this thread: the result, or -errno. */
export function pollNow(set: Buffer, count: number): number {
  const result = poll()(set, count, 0);
  return result < 0 ? -lastErrno() : result;
}
