import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { Libc } from '../reaper/libc.js';
import { appEnvironment } from './app-env.js';
import { childProcess } from './child-process.js';
import { resolveCommand } from './resolve-command.js';
import type { TtyHandover } from './tty.js';

export type Spawned =
  /** `child` when Node spawned the app (libuv reaps it); none when usher did (its reaper does). */
  | { readonly ok: true; readonly child: ChildProcess | undefined; readonly pid: number }
  | { readonly ok: false; readonly code: number; readonly message: string };

export interface SpawnOptions {
  readonly command: readonly string[];
  readonly singleChild: boolean;
  readonly tty: TtyHandover | undefined;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** --ready-fd: a pipe at this fd in the app, nothing at the fds between 3 and it. */
  readonly readyFd: number | undefined;
  /** With libc, the common case is spawned with posix_spawn, not through node:child_process. */
  readonly libc: Libc | undefined;
}

const ENOEXEC = 8;

function errnoName(errno: number): string {
  const names = constants.errno as Readonly<Record<string, number>>;
  return Object.keys(names).find((name) => names[name] === errno) ?? `error ${errno}`;
}


/**
 * Starts the app with inherited stdio (never copied through Node), in a session and process
 * group of its own unless --single-child, so that stop signals and SIGKILL reach all of it.
 */
export function spawnApp(options: SpawnOptions): Spawned {
  const [name, ...args] = options.command as [string, ...string[]];
  const found = resolveCommand(name, options.env.PATH, options.cwd);
  if (!found.ok) return found;
  const env = appEnvironment(options.env);
  // The common case (a session of its own, stdio inherited, nothing else) through posix_spawn:
  // what node:child_process would do, minus loading it and its copies of argv and environment.
  if (options.libc && !options.singleChild && !options.tty && options.readyFd === undefined) {
    const entries = Object.entries(env).flatMap(([key, value]) => (value === undefined ? [] : [`${key}=${value}`]));
    let spawned: ReturnType<Libc['spawnInNewSession']> | undefined;
    try {
      spawned = options.libc.spawnInNewSession(found.file, [name, ...args], entries);
    } catch {
      spawned = undefined; // posix_spawn could not be bound: node:child_process below
    }
    if (spawned && 'pid' in spawned) return { ok: true, child: undefined, pid: spawned.pid };
    // A script without a #! line: execvp runs it with /bin/sh, posix_spawn does not.
    if (spawned && spawned.errno !== ENOEXEC) return { ok: false, code: 126, message: `cannot run ${JSON.stringify(name)}: ${errnoName(spawned.errno)}` };
  }
  const { spawn } = childProcess();
  const stdio: ('inherit' | 'ignore' | 'pipe')[] = ['inherit', 'inherit', 'inherit'];
  if (options.readyFd !== undefined) {
    while (stdio.length < options.readyFd) stdio.push('ignore');
    stdio.push('pipe');
  }
  const common = { stdio, cwd: options.cwd, env };
  let child: ChildProcess;
  try {
    child = options.tty && !options.singleChild
      ? spawn(options.tty.setsid, ['-c', found.file, ...args], { ...common, argv0: 'setsid' })
      : spawn(found.file, args, { ...common, argv0: name, detached: !options.singleChild });
  } catch (error) {
    return { ok: false, code: 126, message: `cannot run ${JSON.stringify(name)}: ${(error as Error).message}` };
  }
  if (child.pid === undefined) {
    // The exec failed after the checks (a race, or a bad interpreter line): 'error' follows.
    child.on('error', () => undefined);
    return { ok: false, code: 126, message: `cannot run ${JSON.stringify(name)}: spawn failed` };
  }
  return { ok: true, child, pid: child.pid };
}
