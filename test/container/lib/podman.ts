import { spawn } from 'node:child_process';
import type { PodmanEnv } from './podman-env.js';

export interface Result {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time of the call, in milliseconds. */
  readonly ms: number;
}

export interface CallOptions {
  readonly timeoutMs?: number;
  readonly input?: string;
  readonly cwd?: string;
}

/**
 * Runs one podman command to its end, bounded: past the timeout podman is SIGKILLed (by its pid)
 * and the call throws, naming the command and what it printed.
 */
export function podman(env: PodmanEnv, args: readonly string[], options: CallOptions = {}): Promise<Result> {
  return run('podman', [...env.flags, ...args], env.env, options);
}

export function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv, options: CallOptions = {}): Promise<Result> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const started = Date.now();
  const child = spawn(file, args, { env, cwd: options.cwd, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  // (a command that exits without reading its input must not make an EPIPE here)
  child.stdin?.on('error', () => {}).end(options.input);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out after ${timeoutMs} ms: ${file} ${args.join(' ')}\nstdout: ${stdout.slice(-2000)}\nstderr: ${stderr.slice(-2000)}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${file}: ${error.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** As podman(), but a non-zero exit throws with podman's own words. */
export async function podmanOk(env: PodmanEnv, args: readonly string[], options: CallOptions = {}): Promise<Result> {
  const result = await podman(env, args, options);
  if (result.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${result.code}:\n${result.stderr.trim() || result.stdout.trim()}`);
  return result;
}
