import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { run } from './podman.js';

/** What the packed tarball holds, read from it (never assumed: the package's name may change). */
export interface Packed {
  readonly tarball: string;
  readonly name: string;
  readonly version: string;
  readonly bins: readonly string[];
  /** Bytes of the .tgz. */
  readonly size: number;
}

/** `npm pack` of the repository, as a release would make it; refuses a tarball without dist/. */
export async function pack(repo: string, destination: string): Promise<Packed> {
  const result = await run('npm', ['pack', '--pack-destination', destination, '--json', '--loglevel=error'], process.env, { timeoutMs: 120_000, cwd: repo });
  if (result.code !== 0) throw new Error(`npm pack failed (${result.code}):\n${result.stderr}`);
  // (a prepack script's output comes before the JSON, which starts with a line of its own: "[")
  const [report] = JSON.parse(result.stdout.slice(result.stdout.search(/^\[$/m))) as [{ filename: string; size: number; files: { path: string }[] }];
  if (!report.files.some((file) => file.path === 'dist/usher.cjs')) {
    throw new Error('the packed tarball has no dist/usher.cjs: run `npm run build` before `npm pack` (or give the package a prepack script)');
  }
  const tarball = path.join(destination, report.filename.replace(/^@/, '').replace('/', '-'));
  const manifest = JSON.parse(execFileSync('tar', ['-xzOf', tarball, 'package/package.json'], { encoding: 'utf8' })) as
    { name: string; version: string; bin?: string | Record<string, string> };
  const bins = typeof manifest.bin === 'string' ? [manifest.name] : Object.keys(manifest.bin ?? {});
  return { tarball, name: manifest.name, version: manifest.version, bins, size: report.size };
}

/**
 * Installs the tarball as a user would (`npm install -g`), into PREFIX, from npm's cache only: a
 * test never reaches the registry. scripts/test-container-prereqs.sh fills the cache.
 */
export async function installGlobal(tarball: string, prefix: string): Promise<void> {
  const args = ['install', '-g', '--prefix', prefix, '--omit=dev', '--offline', '--no-audit', '--no-fund', '--loglevel=error', tarball];
  const result = await run('npm', args, process.env, { timeoutMs: 120_000 });
  if (result.code === 0) return;
  const hint = /ENOTCACHED/.test(result.stderr) ? '\nnpm\'s cache lacks a dependency: run scripts/test-container-prereqs.sh once (it fills the cache from the registry)' : '';
  throw new Error(`npm ${args.join(' ')} exited ${result.code}:\n${result.stderr.trim()}${hint}`);
}
