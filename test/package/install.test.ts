import { spawn, spawnSync, type SpawnSyncOptions, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, ROOT } from '../helpers/usher.js';

// The package as a user gets it: `npm pack` of a clean checkout (the tracked files only, so no
// dist/ of the developer's, which `prepack` must build), installed into an empty project with
// `--omit=dev` and globally, offline. npm resolves the tarball's dependencies from its cache,
// which `npm test` fills first (scripts/test-prereqs.sh); a test never uses the network.

const SETUP_MS = 180_000;
const RUN_MS = 60_000;

interface Packed {
  readonly filename: string;
  readonly files: readonly { readonly path: string }[];
}

/** The environment for npm: offline, and none of the npm_* variables of the `npm test` around us (npm_config_prefix, npm_config_local_prefix would point npm back at this repository). */
function npmEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const kept = Object.entries(process.env).filter(([key]) => (!/^npm_/i.test(key) && key !== 'INIT_CWD') || /^npm_config_(cache|userconfig)$/i.test(key));
  return { ...Object.fromEntries(kept), npm_config_offline: 'true', npm_config_update_notifier: 'false', npm_config_audit: 'false', npm_config_fund: 'false', ...extra };
}

function run(file: string, args: readonly string[], options: SpawnSyncOptions = {}): SpawnSyncReturns<string> {
  return spawnSync(file, args, { encoding: 'utf8', timeout: RUN_MS, env: npmEnv(), ...options }) as SpawnSyncReturns<string>;
}

function ok(result: SpawnSyncReturns<string>, what: string): string {
  if (result.status === 0) return result.stdout;
  const hint = /ENOTCACHED/.test(result.stderr) ? ' (a dependency is not in npm\'s cache: `sh scripts/test-prereqs.sh` puts it there)' : '';
  throw new Error(`${what}: exit ${result.status ?? result.signal ?? result.error?.message}${hint}\n${result.stderr.slice(-4000)}`);
}

/** The checkout's tracked files as they are in the working tree, into `dir`, with the checkout's node_modules linked (esbuild for prepack). */
function cleanCopy(dir: string): void {
  const listed = ok(run('git', ['ls-files', '-z'], { cwd: ROOT }), 'git ls-files').split('\0').filter(Boolean);
  for (const file of listed) {
    const from = path.join(ROOT, file);
    if (!existsSync(from) && !isLink(from)) continue; // deleted in the working tree, not yet in the index
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    if (isLink(from)) symlinkSync(readlinkSync(from), path.join(dir, file));
    else cpSync(from, path.join(dir, file));
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
}

function isLink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Every bare module name a bundle requires (node: built-ins left out). */
function requiredModules(source: string): string[] {
  return [...source.matchAll(/require\("([^"]+)"\)/g)].map((match) => match[1]!).filter((id) => !id.startsWith('node:'));
}

let work: string;
let tarball: string;
let packed: Packed;
let project: string;
let globalPrefix: string;
let stateDir: string;

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'usher-package-'));
  const checkout = path.join(work, 'checkout');
  cleanCopy(checkout);
  const out = path.join(work, 'out');
  mkdirSync(out);
  const json = ok(run('npm', ['pack', '--json', '--pack-destination', out], { cwd: checkout, timeout: SETUP_MS }), 'npm pack');
  packed = (JSON.parse(json) as Packed[])[0]!;
  tarball = path.join(out, packed.filename);

  project = path.join(work, 'app');
  mkdirSync(project);
  writeFileSync(path.join(project, 'package.json'), `${JSON.stringify({ name: 'app', version: '1.0.0', private: true })}\n`);
  ok(run('npm', ['install', '--omit=dev', '--offline', '--no-audit', '--no-fund', tarball], { cwd: project, timeout: SETUP_MS }), 'npm install --omit=dev --offline of the tarball');
  globalPrefix = path.join(work, 'global');
  ok(run('npm', ['install', '-g', '--prefix', globalPrefix, '--offline', '--no-audit', '--no-fund', tarball], { cwd: work, timeout: SETUP_MS }), 'npm install -g --offline of the tarball');
  // Not /run/usher: the runs here must not meet another usher's state.
  stateDir = path.join(work, 'state');
}, SETUP_MS);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the npm package', () => {
  it('ships what runs: the launchers, the bundles prepack built, the license; runtime dependencies are what the bundles load', () => {
    const files = packed.files.map((file) => file.path).sort();
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'bin/usher', 'bin/usher-probe', 'dist/usher.cjs', 'dist/usher-main.cjs', 'dist/usher-probe.cjs']));
    expect(files.filter((file) => !/^(LICENSE|README\.md|package\.json|bin\/usher|bin\/usher-probe|dist\/[\w.-]+\.(cjs|cache))$/.test(file))).toEqual([]);

    const installed = path.join(project, 'node_modules', 'usher-init');
    const manifest = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8')) as { name: string; license: string; private?: boolean; dependencies?: Record<string, string> };
    expect(manifest).toMatchObject({ name: 'usher-init', license: 'MIT' });
    expect(manifest.private).toBeUndefined();
    const loaded = new Set(readdirSync(path.join(installed, 'dist')).filter((file) => file.endsWith('.cjs'))
      .flatMap((file) => requiredModules(readFileSync(path.join(installed, 'dist', file), 'utf8'))));
    expect(Object.keys(manifest.dependencies ?? {}).sort()).toEqual([...loaded].sort());
    // --omit=dev: the package and its runtime dependencies, nothing bundled or unused.
    expect(readdirSync(path.join(project, 'node_modules')).filter((name) => !name.startsWith('.')).sort()).toEqual(['usher-init', ...loaded].sort());
  });

  it('npx usher runs the app and exits with its code; npx usher-init is the same command', () => {
    const env = npmEnv({ USHER_STATE_DIR: stateDir });
    const usher = run('npx', ['usher', '--', 'sh', '-c', 'exit 3'], { cwd: project, env });
    expect(usher.status, usher.stderr).toBe(3);
    expect(usher.stderr).toContain('"msg":"app exited"');
    const usherInit = run('npx', ['usher-init', '--', 'sh', '-c', 'exit 4'], { cwd: project, env });
    expect(usherInit.status, usherInit.stderr).toBe(4);
  });

  it('npx usher-probe answers 0 for a running usher and 6 where none runs', async () => {
    const dir = path.join(work, 'probed');
    const missing = path.join(work, 'no-usher-here');
    const usher = spawn(path.join(project, 'node_modules', '.bin', 'usher'), ['--state-dir', dir, '--', 'sleep', '300'], { stdio: ['ignore', 'ignore', 'pipe'], env: npmEnv() });
    let stderr = '';
    usher.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const exited = new Promise<number | null>((resolve) => usher.on('exit', (code) => resolve(code)));
    let code: number | null;
    try {
      await eventually(() => existsSync(path.join(dir, 'ready')) || usher.exitCode !== null, 'the installed usher to be ready');
      expect(usher.exitCode, stderr).toBeNull();
      const probe = run('npx', ['usher-probe', 'ready', dir], { cwd: project });
      expect(probe.status, probe.stderr).toBe(0);
      const none = run('npx', ['usher-probe', 'ready', missing], { cwd: project });
      expect(none.status).toBe(6);
      expect(none.stderr).toContain('no usher running');
    } finally {
      usher.kill('SIGTERM');
      code = await exited; // bounded: usher forwards TERM to sleep, which dies of it
    }
    expect(code, stderr).toBe(143);
  });

  it('npm install -g puts usher and usher-probe on PATH', () => {
    const bin = path.join(globalPrefix, 'bin');
    const env = npmEnv({ PATH: `${bin}:${process.env.PATH ?? ''}`, USHER_STATE_DIR: stateDir });
    const found = ok(run('sh', ['-c', 'for c in usher usher-probe usher-init; do command -v "$c"; done'], { env }), 'command -v');
    expect(found.trim().split('\n')).toEqual([path.join(bin, 'usher'), path.join(bin, 'usher-probe'), path.join(bin, 'usher-init')]);
    expect(run('usher', ['--', 'sh', '-c', 'exit 3'], { env }).status).toBe(3);
    expect(run('usher-probe', ['ready', path.join(work, 'no-usher-here')], { env }).status).toBe(6);
  });
});
