import type { Libc } from '../sys/libc.js';
import { closeDescriptor, closeOnExecPipe, writeDescriptor } from '../sys/fd.js';
import { signalRange, LAST_SIGNAL } from '../sys/sigset.js';
import { findCommand } from './find-command.js';

export interface Guardian {
  readonly pid: number;
  /** usher is ending as it should: the guardian exits without touching anything. */
  release(): void;
  /**
   * Reaps it if it has exited (usher started it with posix_spawn), once: its pid may then be
   * another child's. True when that was before release(): the app is unguarded from then on.
   */
  collect(): boolean;
}

/**
 * Makes the app die with usher when usher itself is SIGKILLed and is not PID 1 (a Procfile
 * runner, a systemd unit, a shell): the app would otherwise run on with PPID 1, unsupervised.
 * Node cannot set a parent-death signal in a child it spawns, so a tiny shell does it, in a
 * session of its own (so a signal to usher's group spares it): it reads a pipe whose only
 * writer is usher. When usher ends as it should it writes a line, and the shell exits; when the
 * kernel closes the pipe because usher died, the read fails and the shell SIGKILLs the app (its
 * process group, or only its pid when the app shares usher's group).
 */
export function startGuardian(libc: Libc, appPid: number, wholeGroup: boolean, envPath: string | undefined): Guardian | undefined {
  const sh = findCommand('sh', envPath ?? '/usr/bin:/bin', '/');
  if (!sh.ok) return undefined;
  let ends: [number, number];
  try {
    ends = closeOnExecPipe();
  } catch {
    return undefined;
  }
  const [readEnd, writeEnd] = ends;
  // `kill -s KILL -- -PGID` is the form dash, busybox and bash all take for a process group.
  const group = wholeGroup ? `kill -s KILL -- -${appPid} 2>/dev/null; ` : '';
  const script = `read -r line || { ${group}kill -s KILL ${appPid} 2>/dev/null; }`;
  const spawned = libc.spawnInNewSession({ path: sh.file, argv: ['sh', '-c', script], env: ['PATH=/usr/bin:/bin'], defaultSignals: signalRange(LAST_SIGNAL), stdin: readEnd });
  closeDescriptor(readEnd);
  if (!('pid' in spawned)) {
    closeDescriptor(writeEnd);
    return undefined;
  }
  let open = true;
  let reaped = false;
  return {
    pid: spawned.pid,
    release() {
      if (!open) return;
      open = false;
      writeDescriptor(writeEnd, Buffer.from('done\n'));
      closeDescriptor(writeEnd);
    },
    collect() {
      if (reaped || libc.reapIfExited(spawned.pid) === undefined) return false;
      reaped = true;
      return open;
    },
  };
}
