import { constants } from 'node:os';
import { errnoText } from './errno.js';
import { lastErrno, lazy } from './koffi.js';

const F_SETFD = 2;
const FD_CLOEXEC = 1;

export const fcntl = lazy('int fcntl(int fd, int cmd, ...)');

/** Sets or clears close-on-exec: what decides whether a child inherits the descriptor. */
export function setCloseOnExec(fd: number, on: boolean): boolean {
  return fcntl()(fd, F_SETFD, 'int', on ? FD_CLOEXEC : 0) === 0;
}

const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
const send = lazy('long send(int fd, const void *buf, unsigned long len, int flags)');

/**
 * send(2) on a socket without waiting and without SIGPIPE, whatever the socket's own mode: the
 * bytes sent, or -errno (-EAGAIN when its buffer is full). The socket's file status flags, which
 * a process sharing it would see, are left alone.
 */
export function sendNow(fd: number, bytes: Buffer): number {
  const sent = send()(fd, bytes, bytes.length, MSG_DONTWAIT | MSG_NOSIGNAL);
  return sent < 0 ? -lastErrno() : sent;
}

const O_CLOEXEC = 0o2000000;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const socket = lazy('int socket(int domain, int type, int protocol)');

/** socket(2), non-blocking and close-on-exec, as every socket of usher's own is: its fd, or -1 (the errno in lastErrno()). */
export function openSocket(domain: number, type: number, protocol: number): number {
  return socket()(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
}

const pipe2 = lazy('int pipe2(_Out_ int *fds, int flags)');
const close = lazy('int close(int fd)');
const write = lazy('long write(int fd, const void *buf, unsigned long len)');

/** A pipe, both ends close-on-exec: [read end, write end]; throws with the errno. */
export function closeOnExecPipe(): [number, number] {
  const fds = [0, 0];
  if (pipe2()(fds, O_CLOEXEC) !== 0) throw new Error(`pipe2() failed: errno ${lastErrno()}`);
  return [fds[0]!, fds[1]!];
}

export function closeDescriptor(fd: number): void {
  close()(fd);
}

/** write(2) of all of `bytes` that goes at once; usher never waits on it. */
export function writeDescriptor(fd: number, bytes: Buffer): number {
  return write()(fd, bytes, bytes.length);
}

const LOCK_EX = 2;
const LOCK_NB = 4;
const flock = lazy('int flock(int fd, int operation)');

/**
 * flock(LOCK_EX | LOCK_NB): true when this process now holds the lock (the kernel drops it when
 * the process dies), false when another holds it. Any other failure (ENOLCK on a network file
 * system, no flock at all) throws: nobody is known to hold it.
 */
export function lockExclusively(fd: number): boolean {
  if (flock()(fd, LOCK_EX | LOCK_NB) === 0) return true;
  const errno = lastErrno();
  if (errno === constants.errno.EWOULDBLOCK) return false;
  throw new Error(`flock: ${errnoText(errno)}`);
}
