import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildSync, stop as stopEsbuild } from 'esbuild';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { unshareArgs } from '../helpers/namespaces.js';
import { ROOT } from '../helpers/usher.js';
import type { ProbeCode, StateFile } from '../../src/state/schema.js';
import { createStateWriter, tempName, type StateLog } from '../../src/state/writer.js';
import { MARKER_FILE } from '../../src/state/schema.js';

// buildSync starts esbuild's service process: stop it, so the file leaves nothing running.
afterAll(() => stopEsbuild());

function state(overrides: Partial<StateFile> = {}): StateFile {
  return {
    version: 1, usherPid: process.pid, heartbeatAt: 0, heartbeatMs: 0, staleAfterMs: 0,
    startupCode: 0, readyCode: 0, liveCode: 0, startupReason: '', readyReason: '', liveReason: '', startupDetail: '', readyDetail: '', liveDetail: '', reasonSince: 0,
    phase: 'running', appPid: 1, startedAt: 1, exitCode: -1, timeline: [], init: [], checks: [], lastReload: null, appStatus: '', appMainPid: 0, readiness: [], readinessHeldBy: '', readyPorts: [],
    ...overrides,
  };
}

type Line = { level: string; obj: Record<string, unknown>; msg: string };
function recorder(): StateLog & { lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: string) => (obj: object, msg: string): void => {
    lines.push({ level, obj: obj as Record<string, unknown>, msg });
  };
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'usher-state-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('atomic writes', () => {
  it('a reader process looping on state.json never parses a partial file', async () => {
    const dir = path.join(root, 'state');
    mkdirSync(dir);
    const stop = path.join(root, 'stop');
    const writer = createStateWriter({ dir, log: recorder(), heartbeatMs: 60_000 });
    // Sizes that change with every write (0 to 12 KB of check output), so a torn read would
    // show as JSON cut short or two files spliced together.
    const big = (i: number): StateFile => state({
      appPid: i,
      checks: [{
        id: 'ready-cmd-1', kind: 'ready', type: 'cmd', target: 'x', status: 'passing', consecutiveFailures: 0,
        consecutiveSuccesses: i, lastRunAt: i, lastDurationMs: 1, lastResult: 'ok', lastDetail: '', output: String(i % 10).repeat((i * 997) % 12_288),
      }],
    });
    writer.write(big(0));
    const reader = spawn(process.execPath, ['-e', `
      const fs = require('fs');
      const [file, stop] = process.argv.slice(1);
      let reads = 0, failures = 0, first = null, versions = new Set();
      for (;;) {
        const done = fs.existsSync(stop);
        const text = fs.readFileSync(file, 'utf8');
        try {
          const state = JSON.parse(text);
          const check = state.checks[0];
          if (check.output !== String(state.appPid % 10).repeat((state.appPid * 997) % 12288)) throw new Error('mixed content');
          versions.add(state.appPid);
        } catch (error) {
          failures++;
          first = first || String(error) + ' in ' + JSON.stringify(text.slice(0, 80));
        }
        if (++reads === 1) process.stderr.write('reading\\n');
        if (done) break;
      }
      process.stdout.write(JSON.stringify({ reads, failures, first, versions: versions.size }));
    `, path.join(dir, 'state.json'), stop], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    reader.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
    await new Promise<void>((resolve) => reader.stderr.once('data', () => resolve()));
    for (let i = 1; i <= 5000; i++) writer.write(big(i));
    writeFileSync(stop, '');
    await new Promise((resolve) => reader.on('exit', resolve));
    writer.stop();
    const result = JSON.parse(out) as { reads: number; failures: number; first: string | null; versions: number };
    expect(result.first).toBeNull();
    expect(result.failures).toBe(0);
    // The reader really ran alongside the writer: it saw many of the versions go by.
    expect(result.versions).toBeGreaterThan(50);
  });
});

describe('an unwritable state dir', () => {
  it('a file where the directory should be: one error line, no throw, works again once fixed', () => {
    const dir = path.join(root, 'state');
    writeFileSync(dir, 'not a directory'); // fails for root too, unlike a 0555 directory
    const log = recorder();
    const writer = createStateWriter({ dir, log, heartbeatMs: 60_000 });
    for (let i = 0; i < 5; i++) expect(() => writer.write(state({ appPid: i }))).not.toThrow();
    expect(writer.healthy).toBe(false);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatchObject({ level: 'error', obj: { stateDir: dir, errno: 'ENOTDIR' } });
    expect(log.lines[0]!.msg).toBe(
      `cannot write state to ${dir} (ENOTDIR): probes will answer 6 until it works; mount an emptyDir at /run/usher or set --state-dir; usher and the app keep running`,
    );

    rmSync(dir);
    mkdirSync(dir);
    writer.write(state({ appPid: 42 }));
    writer.write(state({ appPid: 43 }));
    writer.stop();
    expect(writer.healthy).toBe(true);
    expect(log.lines.map((line) => line.level)).toEqual(['error', 'info']);
    expect(log.lines[1]!.msg).toBe(`state writes to ${dir} work again`);
    expect((JSON.parse(readFileSync(path.join(dir, 'state.json'), 'utf8')) as StateFile).appPid).toBe(43);
  });

  it('a missing directory: reported, then used once it exists', () => {
    const dir = path.join(root, 'later');
    const log = recorder();
    const writer = createStateWriter({ dir, log, heartbeatMs: 60_000 });
    writer.write(state());
    expect(log.lines[0]?.obj.errno).toBe('ENOENT');
    mkdirSync(dir);
    writer.write(state());
    writer.stop();
    expect(existsSync(path.join(dir, 'state.json'))).toBe(true);
    expect(log.lines).toHaveLength(2);
  });

  // A real read-only mount and a full file system, in a mount namespace of their own.
  it.each([
    ['read-only', 'ro', 'remount,rw', 'EROFS'],
    ['full', 'size=4k', 'remount,size=1m', 'ENOSPC'],
  ])('a %s mount: one error line naming it, the writer carries on, works after a remount', (_what, options, fix, errno) => {
    const dir = path.join(root, 'mnt');
    mkdirSync(dir);
    const script = path.join(root, 'writer.cjs');
    writeFileSync(script, bundle(`
      import { execFileSync } from 'node:child_process';
      import { createStateWriter } from './src/state/writer.ts';
      const [dir, fix] = process.argv.slice(2);
      const line = (level) => (obj, msg) => process.stdout.write(JSON.stringify({ level, obj, msg }) + '\\n');
      const writer = createStateWriter({ dir, log: { info: line('info'), warn: line('warn'), error: line('error') }, heartbeatMs: 60_000 });
      // Bigger than the 4 KB file system: the full case fails on the write itself.
      const state = { version: 1, usherPid: process.pid, heartbeatAt: 0, heartbeatMs: 0, staleAfterMs: 0,
        startupCode: 0, readyCode: 0, liveCode: 0, startupReason: '', readyReason: '', liveReason: '', startupDetail: '', readyDetail: '', liveDetail: '', reasonSince: 0,
        phase: 'running', appPid: 1, startedAt: 1, exitCode: -1, timeline: [], init: [],
        checks: [{ id: 'c', kind: 'ready', type: 'cmd', target: 'x', status: 'passing', consecutiveFailures: 0,
          consecutiveSuccesses: 1, lastRunAt: 1, lastDurationMs: 1, lastResult: 'ok', lastDetail: '', output: 'x'.repeat(8192) }] };
      for (let i = 0; i < 3; i++) writer.write(state);
      const before = writer.healthy;
      execFileSync('mount', ['-t', 'tmpfs', '-o', fix, 'tmpfs', dir]); // source and type named: a user namespace has no mtab to look them up
      writer.write(state);
      writer.stop();
      process.stdout.write(JSON.stringify({ before, after: writer.healthy, leftovers: require('fs').readdirSync(dir).sort() }) + '\\n');
    `));
    const [unshare, ...flags] = unshareArgs('--mount', '--propagation', 'private');
    const run = spawnSync(unshare!, [...flags, 'sh', '-c', `mount -t tmpfs -o ${options} tmpfs "$1" && exec "$2" "$3" "$1" "$4"`, 'sh', dir, process.execPath, script, fix], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split('\n').map((text) => JSON.parse(text) as Record<string, unknown>);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatchObject({ level: 'error', obj: { stateDir: dir, errno } });
    expect(String(lines[0]!.msg)).toContain(`cannot write state to ${dir} (${errno})`);
    expect(String(lines[0]!.msg)).toContain('mount an emptyDir at /run/usher or set --state-dir');
    expect(lines[1]).toMatchObject({ level: 'info', msg: `state writes to ${dir} work again` });
    // No temp file left behind by the failed writes.
    expect(lines[2]).toEqual({ before: false, after: true, leftovers: ['live', 'ready', 'started', 'state.json'] });
  });
});

describe('markers', () => {
  it('started, ready and live exist exactly when their codes are 0', () => {
    const dir = path.join(root, 'state');
    mkdirSync(dir);
    const writer = createStateWriter({ dir, log: recorder(), heartbeatMs: 60_000 });
    const codes: ProbeCode[] = [0, 1, 2, 3, 4, 5, 6];
    for (const startupCode of codes) {
      for (const readyCode of codes) {
        for (const liveCode of codes) {
          writer.write(state({ startupCode, readyCode, liveCode }));
          const present = (kind: 'startup' | 'ready' | 'live'): boolean => {
            try {
              return lstatSync(path.join(dir, MARKER_FILE[kind])).isFile();
            } catch {
              return false;
            }
          };
          expect([present('startup'), present('ready'), present('live')]).toEqual([startupCode === 0, readyCode === 0, liveCode === 0]);
        }
      }
    }
    writer.stop();
    expect(MARKER_FILE.startup).toBe('started');
  });
});

describe('symlinks', () => {
  let dir: string;
  let target: string;
  beforeEach(() => {
    dir = path.join(root, 'state');
    mkdirSync(dir);
    target = path.join(root, 'precious');
    writeFileSync(target, 'precious');
  });
  const untouched = (): void => {
    expect(readFileSync(target, 'utf8')).toBe('precious');
    expect(lstatSync(target).mode & 0o777).toBe(0o644);
  };

  it.each([
    ['the temp name of state.json', tempName('state.json')],
    ['state.json itself', 'state.json'],
    ['the temp name of a marker', tempName('ready')],
    ['a marker', 'ready'],
  ])('a symlink at %s is replaced, never written through', (_what, name) => {
    symlinkSync(target, path.join(dir, name));
    const log = recorder();
    const writer = createStateWriter({ dir, log, heartbeatMs: 60_000 });
    writer.write(state({ readyCode: 0 }));
    writer.stop();
    untouched();
    expect(log.lines).toEqual([]);
    expect(lstatSync(path.join(dir, 'state.json')).isFile()).toBe(true);
    expect(lstatSync(path.join(dir, 'ready')).isFile()).toBe(true);
    expect(existsSync(path.join(dir, tempName('state.json')))).toBe(false);
    expect(existsSync(path.join(dir, tempName('ready')))).toBe(false);
  });

  it('a symlink at a marker that must not exist is removed, its target kept', () => {
    symlinkSync(target, path.join(dir, 'live'));
    const writer = createStateWriter({ dir, log: recorder(), heartbeatMs: 60_000 });
    writer.write(state({ liveCode: 5 }));
    writer.stop();
    untouched();
    expect(() => lstatSync(path.join(dir, 'live'))).toThrow();
  });

  it('a dangling symlink at the temp name does not create its target', () => {
    const nowhere = path.join(root, 'created-through-a-link');
    symlinkSync(nowhere, path.join(dir, tempName('state.json')));
    const writer = createStateWriter({ dir, log: recorder(), heartbeatMs: 60_000 });
    writer.write(state());
    writer.stop();
    expect(existsSync(nowhere)).toBe(false);
    expect(lstatSync(path.join(dir, 'state.json')).isFile()).toBe(true);
  });

  it('a state dir swapped for a symlink is not written through', () => {
    const elsewhere = path.join(root, 'elsewhere');
    mkdirSync(elsewhere);
    writeFileSync(path.join(elsewhere, 'ready'), 'precious');
    const log = recorder();
    const writer = createStateWriter({ dir, log, heartbeatMs: 60_000 });
    writer.write(state());
    rmSync(dir, { recursive: true });
    symlinkSync(elsewhere, dir);
    writer.write(state({ readyCode: 1 }));
    writer.stop();
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]!.obj.errno).toBe('ESYMLINK');
    expect(readFileSync(path.join(elsewhere, 'ready'), 'utf8')).toBe('precious');
    expect(existsSync(path.join(elsewhere, 'state.json'))).toBe(false);
  });
});

/** A script for a child process, bundled from TypeScript sources of this repository. */
function bundle(source: string): string {
  const result = buildSync({
    stdin: { contents: source, resolveDir: ROOT, loader: 'ts', sourcefile: 'child.ts' },
    bundle: true, platform: 'node', format: 'cjs', target: 'node20', write: false, logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}
