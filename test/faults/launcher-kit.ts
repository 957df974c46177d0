import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { loadLibc, type Libc } from '../../src/sys/libc.js';
import { descendants, ROOT } from '../helpers/usher.js';

/**
 * What the launcher tests share: a private copy of the package (bin/usher and dist/, with the
 * repository's node_modules), so the records and caches they make, break and mount read-only
 * are theirs alone; and the few facts about a running usher they read from /proc.
 */

export const FLAG = '--disable-sigusr1';

const loaded = loadLibc();
if (loaded instanceof Error) throw new Error(`these tests stamp files to the nanosecond through koffi: ${loaded.message}`);
const libc: Libc = loaded;

export const mtimeNs = (file: string): bigint => statSync(file, { bigint: true }).mtimeNs;

/** Sets a file's mtime to the nanosecond, as usher's records are stamped. */
export function stamp(file: string, mtime: bigint): void {
  if (!libc.setModifiedTime(file, mtime)) throw new Error(`utimensat ${file} failed`);
}

/**
 * Dates a file 10 s back, as one installed a while ago: usher vouches only for a node whose
 * mtime is a few seconds old (one written over it later could share a fresher one, as busybox's
 * sh compares them, to the second), and the kernel stamps writes with a clock that ticks every
 * few milliseconds, so what a test writes and rewrites at once could keep its mtime.
 */
export function age(file: string): void {
  stamp(file, mtimeNs(file) - 10_000_000_000n);
}

/** bin/usher and dist/ as built, under `dir`: its own dist/node-flags, none of the repository's. */
export function copyPackage(dir: string): { readonly usher: string; readonly dist: string } {
  mkdirSync(path.join(dir, 'bin'), { recursive: true });
  cpSync(path.join(ROOT, 'bin/usher'), path.join(dir, 'bin/usher'));
  const dist = path.join(dir, 'dist');
  mkdirSync(dist);
  for (const name of readdirSync(path.join(ROOT, 'dist'))) {
    if (name !== 'node-flags' && !name.endsWith('.tmp')) cpSync(path.join(ROOT, 'dist', name), path.join(dist, name));
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  return { usher: path.join(dir, 'bin/usher'), dist };
}

/** The node bin/usher runs: the first regular executable `node` on PATH, as execvp finds it. */
export function nodeOnPath(pathVariable = process.env.PATH ?? ''): string {
  for (const dir of pathVariable.split(':')) {
    const file = path.join(dir || '.', 'node');
    try {
      if (statSync(file).isFile() && spawnSync('test', ['-x', file]).status === 0) return file;
    } catch {
      // not here
    }
  }
  throw new Error(`no node on PATH (${pathVariable})`);
}

/** Whether that node has --disable-sigusr1 (Node >= 22.14), asked of the node itself. */
export function hasFlag(node: string): boolean {
  const asked = spawnSync(node, ['-p', `process.allowedNodeEnvironmentFlags.has('${FLAG}')`], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  if (asked.status !== 0) throw new Error(`${node} -p failed: ${asked.stderr}`);
  return asked.stdout.trim() === 'true';
}

/**
 * Whether usher's record grants that node the flag: it has it and its mtime is not before 2025,
 * when the first releases with it came out (an older mtime is a made-up one, as npm's tarballs
 * carry, and says nothing about which node is there).
 */
export function earnsFlag(node: string): boolean {
  return hasFlag(node) && statSync(realpathSync(node)).mtimeMs >= Date.UTC(2025, 0, 1);
}

export function versionOf(node: string): string {
  return spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout.trim();
}

/** A process's argv, from /proc. */
export function cmdline(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter(Boolean);
}

/** A TCP socket in LISTEN state (0A) on the port, IPv4 or IPv6, from /proc/net/tcp{,6}. */
export function listensOn(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return ['/proc/net/tcp', '/proc/net/tcp6'].some((file) => readFileSync(file, 'utf8').split('\n').slice(1)
    .some((line) => {
      const fields = line.trim().split(/\s+/);
      return fields[3] === '0A' && (fields[1] ?? '').endsWith(hex);
    }));
}

export interface Finished {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end, bounded: on time-out it is SIGKILLed (its group too) and the test fails. */
export function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv, options: { timeoutMs?: number; cwd?: string } = {}): Promise<Finished> {
  const { timeoutMs = 20_000, cwd } = options;
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env, cwd });
  return finish(child, timeoutMs, `${file} ${args.join(' ')}`);
}

export function finish(child: ChildProcess, timeoutMs: number, what: string): Promise<Finished> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      killTree(child.pid!);
      reject(new Error(`timed out after ${timeoutMs} ms: ${what}\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * SIGKILL to a process this test started, everything below it and each one's group: usher's app
 * leads a session of its own, which killing usher alone would leave running.
 */
export function killTree(pid: number): void {
  for (const each of [...descendants(pid), pid]) {
    for (const target of [-each, each]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}
