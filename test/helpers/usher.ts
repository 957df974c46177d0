import { afterEach } from 'vitest';
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const USHER = path.join(ROOT, 'bin/usher');
export const FIXTURES = path.join(ROOT, 'test/fixtures');

export type LogLine = Record<string, unknown> & { msg: string; level: string };

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface Run {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logs: LogLine[];
  stdout: string;
  stderr: string;
  readonly exited: Promise<Exit>;
  /** Resolves with the first log line (past or future) that matches. */
  waitForLog(match: string | RegExp | ((line: LogLine) => boolean), timeoutMs?: number): Promise<LogLine>;
  /** Resolves once stdout contains the text (or matches the pattern). */
  waitForStdout(match: string | RegExp, timeoutMs?: number): Promise<string>;
  kill(signal: NodeJS.Signals | number): void;
}

function matcher(match: string | RegExp | ((line: LogLine) => boolean)): (line: LogLine) => boolean {
  if (typeof match === 'function') return match;
  if (typeof match === 'string') return (line) => line.msg.includes(match);
  return (line) => match.test(line.msg);
}

export type StartOptions = SpawnOptions & {
  env?: NodeJS.ProcessEnv;
  /** A command that runs usher, e.g. unshare for a PID namespace; `pid` is then the wrapper's. */
  wrap?: readonly string[];
};

/** Starts bin/usher with real stdio pipes; stderr is parsed as usher's JSON log lines. */
export function startUsher(args: readonly string[], options: StartOptions = {}): Run {
  const [file, ...fileArgs] = [...(options.wrap ?? []), USHER, ...args] as [string, ...string[]];
  // A process group of its own, so that a test can end usher and everything in its group at once.
  const child = spawn(file, fileArgs, { stdio: ['pipe', 'pipe', 'pipe'], detached: true, ...options, env: { ...process.env, ...options.env } });
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const waiter of [...waiters]) waiter();
  };
  let partial = '';
  const run: Run = {
    child,
    pid: child.pid!,
    logs: [],
    stdout: '',
    stderr: '',
    exited: new Promise<Exit>((resolve) => child.on('exit', (code, signal) => {
      resolve({ code, signal });
    })),
    waitForLog(match, timeoutMs = 20_000) {
      const test = matcher(match);
      return waitUntil(() => run.logs.find(test), `log line ${String(match)}`, timeoutMs);
    },
    waitForStdout(match, timeoutMs = 20_000) {
      const test = typeof match === 'string' ? (text: string) => text.includes(match) : (text: string) => match.test(text);
      return waitUntil(() => (test(run.stdout) ? run.stdout : undefined), `stdout ${String(match)}`, timeoutMs);
    },
    kill(signal) {
      process.kill(child.pid!, signal);
    },
  };
  function waitUntil<T>(probe: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = (): void => {
        const found = probe();
        if (found === undefined) return;
        cleanup();
        resolve(found);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}\nstdout: ${run.stdout.slice(-2000)}\nstderr: ${run.stderr.slice(-4000)}`));
      }, timeoutMs);
      const onExit = (): void => {
        setImmediate(() => {
          const found = probe();
          if (found !== undefined) return check();
          cleanup();
          reject(new Error(`usher exited while waiting for ${what}\nstdout: ${run.stdout.slice(-2000)}\nstderr: ${run.stderr.slice(-4000)}`));
        });
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
        child.off('exit', onExit);
      };
      waiters.add(check);
      child.on('exit', onExit);
      check();
    });
  }
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    run.stdout += text;
    notify();
  });
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    run.stderr += text;
    partial += text;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      try {
        run.logs.push(JSON.parse(line) as LogLine);
      } catch {
        // not a log line (the app's own stderr)
      }
    }
    notify();
  });
  return run;
}

/** Runs usher to completion; for quick cases. */
export async function runUsher(args: readonly string[], options: StartOptions & { input?: string } = {}): Promise<Run & Exit> {
  const run = startUsher(args, options);
  run.child.stdin?.end(options.input ?? '');
  const exit = await run.exited;
  await new Promise((resolve) => setImmediate(resolve));
  return Object.assign(run, exit);
}

/**
 * Polls a condition that has no event to await (a process gone, a zombie reaped, HAProxy's view
 * of a server, a container's state), every 20 ms, bounded. A probe that throws counts as not yet;
 * the last error is named if time runs out.
 */
export async function eventually<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export function processExists(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !/\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

export function procState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined;
  }
}

/** Children of pid that are zombies. */
export function zombieChildren(pid: number): number[] {
  const zombies: number[] = [];
  const tasks = readdir(`/proc/${pid}/task`);
  for (const task of tasks) {
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/task/${task}/children`, 'latin1');
    } catch {
      continue;
    }
    for (const child of text.split(' ').filter(Boolean)) if (procState(Number(child)) === 'Z') zombies.push(Number(child));
  }
  return zombies;
}

function readdir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * Registers an afterEach that SIGKILLs what a test left running: the app's process group first
 * (usher runs it in a session of its own, so killing usher alone would orphan it), then usher.
 * The test puts each run it starts in `current`; every run put there is killed, not only the last.
 */
/** HTTP servers a test pushes here are closed after each test, their connections with them. */
export function closeServersAfterEach(): Server[] {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    })));
  });
  return servers;
}

export function killLeftRunning(): { current: Run | undefined } {
  const started: Run[] = [];
  let last: Run | undefined;
  const slot = {
    get current(): Run | undefined {
      return last;
    },
    set current(run: Run | undefined) {
      last = run;
      if (run) started.push(run);
    },
  };
  afterEach(async () => {
    last = undefined;
    for (const run of started.splice(0)) await killRun(run);
  });
  return slot;
}

/** Every descendant of pid, from the kernel's children lists (what logs have not told yet included). */
export function descendants(pid: number): number[] {
  const found: number[] = [];
  const pending = [pid];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    for (const task of readdir(`/proc/${next}/task`)) {
      let text = '';
      try {
        text = readFileSync(`/proc/${next}/task/${task}/children`, 'latin1');
      } catch {
        continue;
      }
      for (const child of text.split(' ').filter(Boolean).map(Number)) {
        found.push(child);
        pending.push(child);
      }
    }
  }
  return found;
}

/**
 * SIGKILLs everything below usher (each with its process group: the app leads one), the apps its
 * log names, then usher itself and its group, and waits for usher.
 */
export async function killRun(run: Run): Promise<void> {
  const apps = run.logs.filter((line) => line.msg === 'app started' && typeof line.pid === 'number').map((line) => line.pid as number);
  for (const pid of [...descendants(run.pid), ...apps, run.pid]) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  await run.exited;
}
