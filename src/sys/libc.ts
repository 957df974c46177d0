import { setCloseOnExec } from './fd.js';
import { declared, lazy, native } from './koffi.js';
import { sigset } from './sigset.js';
import { spawnInNewSession, type SpawnRequest } from './spawn.js';

/**
 * The C calls Node does not offer, as typed functions: the one door from usher to libc (the
 * notify socket's calls are in unix-datagram.ts, behind the same loader). Every struct is
 * declared with koffi, which knows this machine's sizes, alignment and byte order.
 */
export interface Libc {
  /** waitpid(pid, WNOHANG | __WALL): the wait status when it was reaped, undefined otherwise. */
  reapIfExited(pid: number): number | undefined;
  /** waitpid(-pgid, WNOHANG): one exited child of usher's in process group `pgid`, reaped; undefined when none. */
  reapFromGroup(pgid: number): { readonly pid: number; readonly status: number } | undefined;
  spawnInNewSession(request: SpawnRequest): { pid: number } | { errno: number };
  setChildSubreaper(): boolean;
  /** prctl(PR_SET_PDEATHSIG): usher gets `signal` when its own parent dies (tini's -p). */
  setParentDeathSignal(signal: number): boolean;
  /** prctl(PR_SET_NAME): the name in /proc/PID/comm (top, ps -o comm), at most 15 bytes. Only the calling thread's. */
  setProcessName(name: string): boolean;
  /** Gives up the controlling terminal (TIOCNOTTY) so the app's session can take it. */
  releaseControllingTerminal(fd: number): boolean;
  /** isatty(3), without loading node:tty (about 1 ms) at every start. */
  isTerminal(fd: number): boolean;
  /** The session that has `fd` as controlling terminal, or -1. */
  terminalSession(fd: number): number;
  /** The foreground process group of the terminal on `fd`, or -1. */
  foregroundGroup(fd: number): number;
  /** Marks fd close-on-exec, so it never leaks into the app. */
  setCloseOnExec(fd: number): boolean;
  /** Blocks a signal in the calling thread only (pthread_sigmask); other threads still take it. */
  blockInThisThread(signal: number): boolean;
  /**
   * Sets every real-time signal that usher inherited as ignored back to its default action, in
   * usher itself: node:child_process (libuv) resets only signals 1 to 31 in a child, so an
   * ignored real-time signal would reach the app through every path but posix_spawn's.
   */
  defaultIgnoredRealtimeSignals(): void;
  /** Unblocks a signal in the calling thread only (pthread_sigmask): the reverse of the above. */
  unblockInThisThread(signal: number): boolean;
  /**
   * Sets a file's modification time to the nanosecond (utimensat), leaving its access time
   * alone. fs.utimes cannot: it takes seconds as a double, which is about 240 ns coarse today.
   */
  setModifiedTime(file: string, mtimeNs: bigint): boolean;
}

const WNOHANG = 1;
const WALL = 0x40000000;
const PR_SET_CHILD_SUBREAPER = 36;
const PR_SET_PDEATHSIG = 1;
const PR_SET_NAME = 15;
const TIOCNOTTY = 0x5422;
const SIG_BLOCK = 0;
const SIG_DFL = 0;
const SIG_IGN = 1;
// libc keeps some for itself (glibc 32 and 33, musl 32 to 34) and refuses them: EINVAL, passed over.
const FIRST_REALTIME = 32;
const LAST_REALTIME = 64;
const SIG_UNBLOCK = 1;
const AT_FDCWD = -100;
/** tv_nsec that tells utimensat to leave that time as it is. */
const UTIME_OMIT = (1 << 30) - 2;
const NS_PER_SECOND = 1_000_000_000n;

const waitpid = lazy('int waitpid(int pid, _Out_ int *status, int options)');
const prctl = lazy('int prctl(int option, ...)');
const ioctl = lazy('int ioctl(int fd, unsigned long request, ...)');
const sigmask = lazy('int pthread_sigmask(int how, const void *set, void *old)');
const isatty = lazy('int isatty(int fd)');
const tcgetsid = lazy('int tcgetsid(int fd)');
const tcgetpgrp = lazy('int tcgetpgrp(int fd)');
// The handler as a number: SIG_DFL and SIG_IGN are the only values usher passes or compares.
const signalHandler = lazy('intptr_t signal(int sig, intptr_t handler)');
const utimensat = lazy('int utimensat(int dirfd, const char *path, const void *times, int flags)');

/** struct timespec times[2] (access, then modification), as utimensat takes them. */
const timesType = declared((koffi) => koffi.array(koffi.struct({ tv_sec: 'long', tv_nsec: 'long' }), 2));

function setModifiedTime(file: string, mtimeNs: bigint): boolean {
  if (mtimeNs < 0n) return false;
  const { koffi } = native();
  const times = Buffer.alloc(koffi.sizeof(timesType()));
  koffi.encode(times, 0, timesType(), [
    { tv_sec: 0, tv_nsec: UTIME_OMIT },
    { tv_sec: Number(mtimeNs / NS_PER_SECOND), tv_nsec: Number(mtimeNs % NS_PER_SECOND) },
  ]);
  return utimensat()(AT_FDCWD, file, times, 0) === 0;
}

/**
 * koffi and libc, with what every start needs bound now, so that a failure shows here, where
 * usher says so once and carries on without them. Returns the error when koffi cannot load.
 */
export function loadLibc(): Libc | Error {
  try {
    for (const bind of [waitpid, prctl]) bind();
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
  const status = [0];
  return {
    reapIfExited: (pid) => (waitpid()(pid, status, WNOHANG | WALL) === pid ? status[0] : undefined),
    reapFromGroup: (pgid) => {
      const pid = waitpid()(-pgid, status, WNOHANG | WALL);
      return pid > 0 ? { pid, status: status[0]! } : undefined;
    },
    spawnInNewSession,
    setChildSubreaper: () => prctl()(PR_SET_CHILD_SUBREAPER, 'unsigned long', 1, 'unsigned long', 0, 'unsigned long', 0, 'unsigned long', 0) === 0,
    setProcessName: (name) => prctl()(PR_SET_NAME, 'const char *', name.slice(0, 15), 'unsigned long', 0, 'unsigned long', 0, 'unsigned long', 0) === 0,
    setParentDeathSignal: (signal) => prctl()(PR_SET_PDEATHSIG, 'unsigned long', signal, 'unsigned long', 0, 'unsigned long', 0, 'unsigned long', 0) === 0,
    releaseControllingTerminal: (fd) => ioctl()(fd, TIOCNOTTY, 'int', 0) === 0,
    isTerminal: (fd) => isatty()(fd) === 1,
    terminalSession: (fd) => tcgetsid()(fd),
    foregroundGroup: (fd) => tcgetpgrp()(fd),
    setCloseOnExec: (fd) => setCloseOnExec(fd, true),
    blockInThisThread: (signal) => sigmask()(SIG_BLOCK, sigset([signal]), null) === 0,
    defaultIgnoredRealtimeSignals,
    unblockInThisThread: (signal) => sigmask()(SIG_UNBLOCK, sigset([signal]), null) === 0,
    setModifiedTime,
  };
}

function defaultIgnoredRealtimeSignals(): void {
  const setHandler = signalHandler();
  for (let signal = FIRST_REALTIME; signal <= LAST_REALTIME; signal++) {
    const before = Number(setHandler(signal, SIG_DFL));
    // Node handles no real-time signal; should anything have, its handler goes back in place.
    if (before !== SIG_IGN && before !== SIG_DFL && before !== -1) setHandler(signal, before);
  }
}
