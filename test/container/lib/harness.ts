import { spawn } from 'node:child_process';
import { afterEach, inject } from 'vitest';
import type { BaseName } from './bases.js';
import type { ContainerContext } from './context.js';
import type { UsherImage } from './images.js';
import { podman, podmanOk, type CallOptions, type Result } from './podman.js';
import { podmanEnv, type PodmanEnv } from './podman-env.js';

export const context: ContainerContext = inject('containers');
/** Why the container tests are skipped (USHER_SKIP_CONTAINER_TESTS=1), or undefined. */
export const SKIP = context.skip !== undefined;
export const env: PodmanEnv = podmanEnv(context.dir ?? '');
export const image = (base: BaseName): UsherImage => context.images[base];

/** A container started attached (`podman run` without -d): its output streams in as it comes. */
export interface Container {
  readonly name: string;
  output(): string;
  /** Resolves once the output shows the text (or pattern); the time it appeared, from Date.now(). */
  waitFor(match: string | RegExp, timeoutMs?: number): Promise<number>;
  /** podman run's exit: the container's exit code. */
  readonly exited: Promise<number | null>;
}

const started: { name: string; exited: Promise<unknown> }[] = [];
let counter = 0;

// Every container a test started is removed after it, whether it passed or not.
afterEach(async () => {
  const names = started.splice(0);
  if (names.length === 0) return;
  await podman(env, ['rm', '-f', '-t', '0', ...names.map((entry) => entry.name)], { timeoutMs: 60_000 });
  await Promise.all(names.map((entry) => entry.exited));
});

export function containerName(): string {
  counter += 1;
  return `usher-test-${process.pid}-${counter}`;
}

/** Marks a container made outside start() (podman run -it through tmux) for removal. */
export function track(name: string, exited: Promise<unknown> = Promise.resolve()): void {
  started.push({ name, exited });
}

/**
 * podman run --name N --network none FLAGS IMAGE COMMAND, attached. --network none: the app
 * listens on the container's own loopback; nothing reaches out, nothing reaches in.
 */
export function start(of: { readonly image: string }, flags: readonly string[], command: readonly string[] = []): Container {
  const name = containerName();
  const child = spawn('podman', [...env.flags, 'run', '--name', name, '--network', 'none', ...flags, of.image, ...command], {
    env: env.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const waiters = new Set<() => void>();
  const onData = (text: string): void => {
    output += text;
    for (const waiter of [...waiters]) waiter();
  };
  child.stdout.setEncoding('utf8').on('data', onData);
  child.stderr.setEncoding('utf8').on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  track(name, exited);
  const test = (match: string | RegExp): boolean => (typeof match === 'string' ? output.includes(match) : match.test(output));
  const waitFor = (match: string | RegExp, timeoutMs = 20_000): Promise<number> => new Promise((resolve, reject) => {
    let done = false;
    const finish = (error?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      waiters.delete(check);
      if (error) reject(error);
      else resolve(Date.now());
    };
    const check = (): void => {
      if (test(match)) finish();
    };
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${String(match)} in ${name}; output:\n${output.slice(-4000)}`)), timeoutMs);
    void exited.then(() => setImmediate(() => finish(test(match) ? undefined : new Error(`${name} exited while waiting for ${String(match)}; output:\n${output.slice(-4000)}`))));
    waiters.add(check);
    check();
  });
  return { name, output: () => output, waitFor, exited };
}

export const podmanCall = (args: readonly string[], options?: CallOptions): Promise<Result> => podman(env, args, options);

export const exec = (name: string, argv: readonly string[], options?: CallOptions): Promise<Result> => podman(env, ['exec', name, ...argv], options);

export async function inspect(name: string, format: string): Promise<string> {
  return (await podmanOk(env, ['inspect', name, '--format', format])).stdout.trim();
}

export interface Proc {
  readonly pid: number;
  readonly ppid: number;
  readonly pgrp: number;
  readonly tpgid: number;
  readonly state: string;
  readonly comm: string;
}

/** The container's processes, read from its /proc by node (the images have no ps). */
export async function processes(of: UsherImage, name: string): Promise<Proc[]> {
  const result = await exec(name, [of.node, '/app/ps.cjs']);
  if (result.code !== 0) throw new Error(`ps in ${name} exited ${result.code}: ${result.stderr}`);
  return result.stdout.trim().split('\n').filter(Boolean).map((line) => JSON.parse(line) as Proc);
}

/** Polls a condition of the container (each poll is usually a podman call of 100 ms or more). */
export { eventually } from '../../helpers/usher.js';
