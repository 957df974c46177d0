import { constants } from 'node:os';
import { errnoName } from '../sys/errno.js';
import type { Libc } from '../sys/libc.js';
import { decodeWaitStatus, type ExitStatus } from '../sys/wait-status.js';
import { appEnvironment } from './app-env.js';
import { childProcess } from './child-process.js';
import { findCommand } from './find-command.js';
import { watchReadyFd } from './ready-fd.js';
import type { TtyHandover } from './tty.js';

/**
 * The running app, however it was started. Its end is reported once, through onExit: by libuv
 * for a child Node spawned, or by collect() (waitpid by pid) for one usher spawned itself.
 */
export interface AppHandle {
  readonly pid: number;
  onExit(listener: (exit: ExitStatus) => void): void;
  /** Reaps the app if it has exited (posix_spawn path); nothing for a child libuv reaps. True once it has ended. */
  collect(): boolean;
}

export type SpawnOutcome =
  | { readonly ok: true; readonly app: AppHandle }
  | { readonly ok: false; readonly code: number; readonly message: string };

export interface SpawnOptions {
  readonly command: readonly string[];
  readonly singleChild: boolean;
  readonly tty: TtyHandover | undefined;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** --ready-fd: a pipe at this fd in the app, nothing at the fds between 3 and it. */
  readonly readyFd: number | undefined;
  /** Called once the app wrote a newline to its ready fd. */
  readonly onReady: () => void;
  /** With libc, the common case is spawned with posix_spawn, not through node:child_process. */
  readonly libc: Libc | undefined;
  /** Signals the app gets back at their default disposition (posix_spawn path). */
  readonly defaultSignals: readonly number[];
}

const ENOEXEC = 8;

/**
 * Starts the app with inherited stdio (never copied through Node), in a session and process
 * group of its own unless --single-child, so that stop signals and SIGKILL reach all of it.
 */
export function spawnApp(options: SpawnOptions): SpawnOutcome {
  const [name, ...args] = options.command as [string, ...string[]];
  const found = findCommand(name, options.env.PATH, options.cwd);
  if (!found.ok) return found;
  const env = appEnvironment(options.env);
  // The common case (a session of its own, stdio inherited, nothing else) through posix_spawn:
  // what node:child_process would do, minus loading it and its copies of argv and environment.
  if (options.libc && !options.singleChild && !options.tty && options.readyFd === undefined) {
    const entries = Object.entries(env).flatMap(([key, value]) => (value === undefined ? [] : [`${key}=${value}`]));
    let spawned: ReturnType<Libc['spawnInNewSession']> | undefined;
    try {
      spawned = options.libc.spawnInNewSession({ path: found.file, argv: [name, ...args], env: entries, defaultSignals: options.defaultSignals });
    } catch {
      spawned = undefined; // posix_spawn could not be bound: node:child_process below
    }
    if (spawned && 'pid' in spawned) return { ok: true, app: reapedByPid(spawned.pid, options.libc) };
    // A script without a #! line: execvp runs it with /bin/sh, posix_spawn does not.
    if (spawned && spawned.errno !== ENOEXEC) return { ok: false, code: 126, message: `cannot run ${JSON.stringify(name)}: ${errnoName(spawned.errno)}` };
  }
  return spawnWithNode(name, found.file, args, env, options);
}

function spawnWithNode(name: string, file: string, args: readonly string[], env: NodeJS.ProcessEnv, options: SpawnOptions): SpawnOutcome {
  const { spawn } = childProcess();
  const stdio: ('inherit' | 'ignore' | 'pipe')[] = ['inherit', 'inherit', 'inherit'];
  if (options.readyFd !== undefined) {
    while (stdio.length < options.readyFd) stdio.push('ignore');
    stdio.push('pipe');
  }
  const common = { stdio, cwd: options.cwd, env };
  let child;
  try {
    child = options.tty && !options.singleChild
      ? spawn(options.tty.setsid, ['-c', file, ...args], { ...common, argv0: 'setsid' })
      : spawn(file, args, { ...common, argv0: name, detached: !options.singleChild });
  } catch (error) {
    return { ok: false, code: 126, message: `cannot run ${JSON.stringify(name)}: ${(error as Error).message}` };
  }
  if (child.pid === undefined) {
    // The exec failed after the checks (a race, or a bad interpreter line): 'error' follows.
    child.on('error', () => undefined);
    return { ok: false, code: 126, message: `cannot run ${JSON.stringify(name)}: spawn failed` };
  }
  if (options.readyFd !== undefined) watchReadyFd(child, options.readyFd, options.onReady);
  const exited = child;
  return {
    ok: true,
    app: {
      pid: child.pid,
      onExit: (listener) => exited.once('exit', (code, signal) => listener({ code, signal: signal === null ? null : constants.signals[signal] })),
      collect: () => exited.exitCode !== null || exited.signalCode !== null,
    },
  };
}

/** An app started with posix_spawn: nothing of libuv's watches it, so usher reaps it by its pid. */
function reapedByPid(pid: number, libc: Libc): AppHandle {
  const listeners: ((exit: ExitStatus) => void)[] = [];
  let ended: ExitStatus | undefined;
  return {
    pid,
    onExit: (listener) => void listeners.push(listener),
    collect: () => {
      if (ended) return true;
      const status = libc.reapIfExited(pid);
      if (status === undefined) return false;
      ended = decodeWaitStatus(status);
      for (const listener of listeners.splice(0)) listener(ended);
      return true;
    },
  };
}
