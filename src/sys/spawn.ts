import { setCloseOnExec } from './fd.js';
import { declared, lazy, native } from './koffi.js';
import { sigset, sigsetType } from './sigset.js';

// posix_spawnattr flags, the same in glibc and musl.
const SPAWN_SETSIGDEF = 0x04;
const SPAWN_SETSIGMASK = 0x08;
const SPAWN_SETSID = 0x80;

const spawn = lazy('int posix_spawn(_Out_ int *pid, const char *path, void *actions, void *attr, const char **argv, const char **envp)');
const attrInit = lazy('int posix_spawnattr_init(void *attr)');
const attrDestroy = lazy('int posix_spawnattr_destroy(void *attr)');
const actionsInit = lazy('int posix_spawn_file_actions_init(void *actions)');
const actionsDup2 = lazy('int posix_spawn_file_actions_adddup2(void *actions, int fd, int newfd)');
const actionsDestroy = lazy('int posix_spawn_file_actions_destroy(void *actions)');
const attrFlags = lazy('int posix_spawnattr_setflags(void *attr, short flags)');
const attrMask = lazy('int posix_spawnattr_setsigmask(void *attr, const void *set)');
const attrDefault = lazy('int posix_spawnattr_setsigdefault(void *attr, const void *set)');

/**
 * posix_spawnattr_t, declared as glibc declares it so koffi gives its size and alignment for
 * this machine; musl's has other fields but the same size (336 bytes on every 32- and 64-bit
 * Linux), and only libc itself ever reads the fields.
 */
const attrType = declared((koffi) => koffi.struct({
  flags: 'short', pgrp: 'int', sd: sigsetType(), ss: sigsetType(), sp: 'int', policy: 'int', pad: koffi.array('int', 16),
}));

export interface SpawnRequest {
  readonly path: string;
  readonly argv: readonly string[];
  /** `KEY=value` entries. */
  readonly env: readonly string[];
  /** Signals set back to their default disposition in the child. */
  readonly defaultSignals: readonly number[];
  /** A descriptor of usher's to be the child's stdin (fd 0); the child inherits usher's own otherwise. */
  readonly stdin?: number;
}

/**
 * posix_spawn_file_actions_t: glibc's is 80 bytes on 64-bit Linux (76 on 32-bit), musl's the
 * same; declared as glibc declares it, so koffi gives the size for this machine.
 */
const actionsType = declared((koffi) => koffi.struct({ allocated: 'int', used: 'int', actions: 'void *', pad: koffi.array('int', 16) }));

/**
 * posix_spawn of `path` in a new session (setsid), with an empty signal mask, inheriting
 * stdout and stderr, and stdin unless `request.stdin` names another: the pid, or the error number.
 */
export function spawnInNewSession(request: SpawnRequest): { pid: number } | { errno: number } {
  const { koffi } = native();
  const attr = Buffer.alloc(koffi.sizeof(attrType()));
  let errno = attrInit()(attr);
  if (errno !== 0) return { errno };
  try {
    for (const step of [
      () => attrFlags()(attr, SPAWN_SETSID | SPAWN_SETSIGMASK | SPAWN_SETSIGDEF),
      () => attrMask()(attr, sigset([])),
      () => attrDefault()(attr, sigset(request.defaultSignals)),
    ]) {
      errno = step();
      if (errno !== 0) return { errno };
    }
    // Node marks its own 0, 1 and 2 close-on-exec; the app must inherit them, as it does when
    // libuv dup2()s them into a child.
    for (const fd of [0, 1, 2]) setCloseOnExec(fd, false);
    const actions = request.stdin === undefined ? null : Buffer.alloc(native().koffi.sizeof(actionsType()));
    if (actions) {
      errno = actionsInit()(actions) || actionsDup2()(actions, request.stdin, 0);
      if (errno !== 0) return { errno };
    }
    try {
      const pid = [0];
      errno = spawn()(pid, request.path, actions, attr, [...request.argv, null], [...request.env, null]);
      return errno === 0 ? { pid: pid[0]! } : { errno };
    } finally {
      if (actions) actionsDestroy()(actions);
    }
  } finally {
    attrDestroy()(attr);
  }
}
