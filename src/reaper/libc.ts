import { existsSync } from 'node:fs';

/** The few libc calls Node does not offer, through koffi (design §3). */
export interface Libc {
  /** waitpid(pid, WNOHANG | __WALL): the wait status when it was reaped, undefined otherwise. */
  reapIfExited(pid: number): number | undefined;
  /**
   * posix_spawn of `path` in a new session (setsid), with every signal unblocked and reset to
   * its default, inheriting stdin, stdout and stderr: the pid, or the error number.
   */
  spawnInNewSession(path: string, argv: readonly string[], env: readonly string[]): { pid: number } | { errno: number };
  setChildSubreaper(): boolean;
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
}

const WNOHANG = 1;
const WALL = 0x40000000;
const PR_SET_CHILD_SUBREAPER = 36;
const TIOCNOTTY = 0x5422;
const F_SETFD = 2;
const FD_CLOEXEC = 1;
const SIG_BLOCK = 0;
// posix_spawnattr flags, the same in glibc and musl.
const SPAWN_SETSIGDEF = 0x04;
const SPAWN_SETSIGMASK = 0x08;
const SPAWN_SETSID = 0x80;

export type Koffi = typeof import('koffi');

const MUSL_ARCH: Readonly<Record<string, string>> = { x64: 'x86_64', arm64: 'aarch64', ia32: 'i386', arm: 'armhf' };

/**
 * koffi's index.js loads https, zlib and crypto for its installer (about 12 ms); usher only needs
 * the prebuilt native module, so it loads that straight away (glibc build, then musl) and falls
 * back to the package entry when the layout is not the expected one.
 */
export function requireKoffi(): Koffi {
  // koffi is native: kept out of the bundle and required from node_modules at run time.
  const root = require.resolve('koffi/package.json').slice(0, -'package.json'.length);
  const arch = ({ x64: 'x64', arm64: 'arm64', ia32: 'ia32', arm: 'armhf' } as Record<string, string>)[process.arch];
  if (process.platform === 'linux' && arch) {
    // musl's loader first where it exists, so a glibc build never loads through a shim (gcompat).
    const musl = existsSync(`/lib/ld-musl-${MUSL_ARCH[process.arch] ?? process.arch}.so.1`);
    for (const libc of musl ? ['musl', 'linux'] : ['linux', 'musl']) {
      try {
        return require(`${root}build/koffi/${libc}_${arch}/koffi.node`) as Koffi;
      } catch {
        // not this libc's build (or not there): try the next
      }
    }
  }
  return require('koffi') as Koffi;
}

/**
 * Loads koffi and binds libc from the running process itself (dlopen(NULL)), so the same
 * code finds glibc on Debian and musl on Alpine. Returns the error when koffi cannot load.
 */
export function loadLibc(): Libc | Error {
  try {
    const koffi = requireKoffi();
    const self = koffi.load(null as unknown as string);
    type Call = (...args: unknown[]) => number;
    // What every start needs is bound now, so a failure shows here; the terminal calls, needed
    // only for interactive use, on first use.
    const eager = (signature: string): (() => Call) => {
      const fn = self.func(signature) as Call;
      return () => fn;
    };
    const bind = (signature: string): (() => Call) => {
      let fn: Call | undefined;
      return () => (fn ??= self.func(signature) as Call);
    };
    const waitpid = eager('int waitpid(int pid, _Out_ int *status, int options)');
    const prctl = eager('int prctl(int option, ...)');
    const fcntl = eager('int fcntl(int fd, int cmd, ...)');
    const ioctl = bind('int ioctl(int fd, unsigned long request, ...)');
    const sigmask = bind('int pthread_sigmask(int how, const uint8_t *set, uint8_t *old)');
    const isatty = bind('int isatty(int fd)');
    const tcgetsid = bind('int tcgetsid(int fd)');
    const tcgetpgrp = bind('int tcgetpgrp(int fd)');
    const spawn = bind('int posix_spawn(_Out_ int *pid, const char *path, void *actions, void *attr, const char **argv, const char **envp)');
    const attrInit = bind('int posix_spawnattr_init(void *attr)');
    const attrFlags = bind('int posix_spawnattr_setflags(void *attr, short flags)');
    const attrMask = bind('int posix_spawnattr_setsigmask(void *attr, const void *set)');
    const attrDefault = bind('int posix_spawnattr_setsigdefault(void *attr, const void *set)');
    const status = [0];
    return {
      reapIfExited: (pid) => (waitpid()(pid, status, WNOHANG | WALL) === pid ? status[0] : undefined),
      spawnInNewSession: (path, argv, env) => {
        const attr = Buffer.alloc(1024); // posix_spawnattr_t: 336 bytes in glibc, fewer in musl
        const noSignals = Buffer.alloc(128);
        // Like libuv's child: the standard signals back to their defaults (what usher ignores or
        // handles is not the app's business) and none blocked (usher blocks SIGPIPE).
        const standard = Buffer.alloc(128, 0);
        standard.writeUInt32LE(0xfffffffe >>> 1, 0); // signals 1..31
        for (const step of [attrInit()(attr), attrFlags()(attr, SPAWN_SETSID | SPAWN_SETSIGMASK | SPAWN_SETSIGDEF), attrMask()(attr, noSignals), attrDefault()(attr, standard)]) {
          if (step !== 0) return { errno: step };
        }
        // Node marks its own 0, 1 and 2 close-on-exec; the app must inherit them, as it does
        // when libuv dup2()s them into a child.
        for (const fd of [0, 1, 2]) fcntl()(fd, F_SETFD, 'int', 0);
        const pid = [0];
        const errno = spawn()(pid, path, null, attr, [...argv, null], [...env, null]);
        return errno === 0 ? { pid: pid[0]! } : { errno };
      },
      setChildSubreaper: () => prctl()(PR_SET_CHILD_SUBREAPER, 'unsigned long', 1, 'unsigned long', 0, 'unsigned long', 0, 'unsigned long', 0) === 0,
      releaseControllingTerminal: (fd) => ioctl()(fd, TIOCNOTTY, 'int', 0) === 0,
      isTerminal: (fd) => isatty()(fd) === 1,
      terminalSession: (fd) => tcgetsid()(fd),
      foregroundGroup: (fd) => tcgetpgrp()(fd),
      setCloseOnExec: (fd) => fcntl()(fd, F_SETFD, 'int', FD_CLOEXEC) === 0,
      blockInThisThread: (signal) => {
        const set = Buffer.alloc(128); // sigset_t, as large as glibc's; musl's is smaller and reads the start
        set[(signal - 1) >> 3]! |= 1 << ((signal - 1) & 7);
        return sigmask()(SIG_BLOCK, set, null) === 0;
      },
    };
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}
