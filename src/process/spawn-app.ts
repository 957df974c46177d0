import { spawn, type ChildProcess } from 'node:child_process';
import { appEnvironment } from './app-env.js';
import { resolveCommand } from './resolve-command.js';
import type { TtyHandover } from './tty.js';

export type Spawned =
  | { readonly ok: true; readonly child: ChildProcess; readonly pid: number }
  | { readonly ok: false; readonly code: number; readonly message: string };

export interface SpawnOptions {
  readonly command: readonly string[];
  readonly singleChild: boolean;
  readonly tty: TtyHandover | undefined;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** --ready-fd: a pipe at this fd in the app, nothing at the fds between 3 and it. */
  readonly readyFd: number | undefined;
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
