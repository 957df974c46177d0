// Run a short command to completion and get its wall time and exact CPU time (the cost of an exec probe).
//
// Why not /usr/bin/time: GNU time prints %e, %U and %S truncated to 10 ms, and an exec probe such as
// `usher-probe` or `test -f` costs 1–3 ms, so every sample would read 0.00. Node's spawnSync does
// not expose the child's rusage. So: posix_spawn + wait4 from libc through koffi (already a
// dependency of usher), which gives the child's user+system time in microseconds (the kernel
// accounts it in nanoseconds), including whatever the child itself waited for (`date` in
// usher-probe, `node` behind bin/usher's exec).
//
// wait4 blocks this thread, so a watchdog thread SIGKILLs a child that outlives `timeoutMs`: every
// wait stays bounded. libuv reaps only the pids it spawned itself, so it never steals ours.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const require = createRequire(import.meta.url);

const O_RDONLY = 0;
const O_WRONLY = 1;

const WATCHDOG = `
const { workerData } = require('node:worker_threads');
const slot = new Int32Array(workerData.buffer);
for (;;) {
  const pid = Atomics.load(slot, 0);
  if (pid === -1) break;
  if (pid === 0) { Atomics.wait(slot, 0, 0); continue; }
  if (Atomics.wait(slot, 0, pid, workerData.timeoutMs) === 'timed-out') {
    try { process.kill(pid, 'SIGKILL'); } catch {}
    Atomics.wait(slot, 0, pid); // until the main thread has reaped it and cleared the slot
  }
}`;

/**
 * Returns `{ run(argv) → { wallMs, cpuMs, code, signal }, close() }`, or an Error when koffi or
 * libc's posix_spawn cannot be loaded. argv[0] must be an absolute path (no PATH search).
 * The child's stdin, stdout and stderr are /dev/null; its environment is this process's.
 */
export function createSpawner({ timeoutMs = 10_000 } = {}) {
  let koffi;
  try {
    koffi = require('koffi');
  } catch (error) {
    return new Error(`koffi cannot load: ${error.message}`);
  }
  let libc;
  try {
    const self = koffi.load(null);
    libc = {
      spawn: self.func('int posix_spawn(_Out_ int *pid, const char *path, void *actions, void *attr, const char **argv, const char **envp)'),
      actionsInit: self.func('int posix_spawn_file_actions_init(void *actions)'),
      addOpen: self.func('int posix_spawn_file_actions_addopen(void *actions, int fd, const char *path, int oflag, int mode)'),
      wait4: self.func('int wait4(int pid, _Out_ int *status, int options, void *rusage)'),
    };
  } catch (error) {
    return new Error(`libc posix_spawn/wait4 cannot be bound: ${error.message}`);
  }
  // posix_spawn_file_actions_t is 80 bytes on glibc x86_64; 512 leaves room for any libc.
  const actions = Buffer.alloc(512);
  if (libc.actionsInit(actions) !== 0) return new Error('posix_spawn_file_actions_init failed');
  for (const [fd, flags] of [[0, O_RDONLY], [1, O_WRONLY], [2, O_WRONLY]]) {
    if (libc.addOpen(actions, fd, '/dev/null', flags, 0) !== 0) return new Error('posix_spawn_file_actions_addopen failed');
  }
  const env = [...Object.entries(process.env).map(([k, v]) => `${k}=${v}`), null];
  const rusage = Buffer.alloc(256); // struct rusage is 144 bytes on 64-bit Linux
  const slot = new Int32Array(new SharedArrayBuffer(4));
  const watchdog = new Worker(WATCHDOG, { eval: true, workerData: { buffer: slot.buffer, timeoutMs } });
  watchdog.unref();

  const micros = (offset) => Number(rusage.readBigInt64LE(offset)) * 1e6 + Number(rusage.readBigInt64LE(offset + 8));

  return {
    run(argv) {
      const pid = [0];
      const status = [0];
      const start = process.hrtime.bigint();
      const failed = libc.spawn(pid, argv[0], actions, null, [...argv, null], env);
      if (failed !== 0) throw new Error(`posix_spawn ${argv[0]}: error ${failed}`);
      Atomics.store(slot, 0, pid[0]);
      Atomics.notify(slot, 0);
      let reaped;
      do reaped = libc.wait4(pid[0], status, 0, rusage);
      while (reaped === -1 && koffi.errno() === 4); // EINTR
      const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
      Atomics.store(slot, 0, 0);
      Atomics.notify(slot, 0);
      if (reaped !== pid[0]) throw new Error(`wait4 ${argv[0]}: errno ${koffi.errno()}`);
      const signal = status[0] & 0x7f;
      return {
        wallMs,
        cpuMs: (micros(0) + micros(16)) / 1000, // ru_utime + ru_stime
        code: signal === 0 ? (status[0] >> 8) & 0xff : undefined,
        signal: signal === 0 ? undefined : signal,
      };
    },
    close() {
      Atomics.store(slot, 0, -1);
      Atomics.notify(slot, 0);
      void watchdog.terminate();
    },
  };
}
