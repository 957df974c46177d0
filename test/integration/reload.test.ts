import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StateFile } from '../../src/state/schema.js';
import { eventually, FIXTURES, killLeftRunning, killRun, startUsher, USHER, type Run } from '../helpers/usher.js';

// --reload-on end to end: real files, a real usher, an app that records the signals it gets.

const RECORDER = path.join(FIXTURES, 'signal-recorder.mjs');
const DEBOUNCE = '300ms';

const runs = killLeftRunning();

function folder(): string {
  return mkdtempSync(path.join(tmpdir(), 'usher-reload-'));
}

async function start(watch: string, extra: readonly string[] = []): Promise<{ run: Run; state: string }> {
  const state = folder();
  runs.current = startUsher(['--state-dir', state, '--reload-on', watch, '--reload-debounce', DEBOUNCE, ...extra, '--', 'node', RECORDER]);
  await runs.current.waitForStdout('ready');
  await runs.current.waitForLog('app started');
  return { run: runs.current, state };
}

const hups = (run: Run): number => run.stdout.split('\n').filter((line) => line === 'SIGHUP').length;
const reloads = (run: Run): number => run.logs.filter((line) => / changed: SIGHUP sent to the app$/.test(line.msg)).length;

/**
 * Proves that no reload follows: sends the app a marker signal through usher after a quiet
 * period of three debounce times, and checks that the marker is the next thing the app saw.
 */
async function expectNoReload(run: Run): Promise<void> {
  const before = hups(run);
  await new Promise((resolve) => setTimeout(resolve, 900)); // 3 × the debounce, no event to await for an absence
  run.kill('SIGUSR2');
  await run.waitForStdout(new RegExp(`(SIGUSR2\\n[^]*){${run.stdout.split('SIGUSR2').length}}`));
  expect(hups(run)).toBe(before);
}

/** A Kubernetes Secret/ConfigMap volume: files are symlinks into ..data, swapped atomically. */
function kubernetesVolume(dir: string, files: Record<string, string>, stamp: string): void {
  const data = path.join(dir, `..${stamp}`);
  mkdirSync(data);
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(data, name), content);
  symlinkSync(`..${stamp}`, path.join(dir, '..data_tmp'));
  renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
  for (const name of Object.keys(files)) {
    try {
      symlinkSync(`..data/${name}`, path.join(dir, name));
    } catch {
      // already a symlink into ..data from an earlier version
    }
  }
}

describe('--reload-on', () => {
  it('sends SIGHUP to the app when a watched file changes, and records it in the state', async () => {
    const dir = folder();
    const file = path.join(dir, 'app.conf');
    writeFileSync(file, 'v1');
    const { run, state } = await start(file);
    writeFileSync(file, 'v2');
    await run.waitForStdout('SIGHUP\n');
    const log = await run.waitForLog(`${file} changed: SIGHUP sent to the app`);
    expect(log.path).toBe(file);
    // The log line and the state file are two channels: wait for the file to say it too.
    const saved = await eventually(() => {
      const read = JSON.parse(readFileSync(path.join(state, 'state.json'), 'utf8')) as StateFile;
      return read.lastReload ? read : undefined;
    }, 'the reload in state.json');
    expect(saved.lastReload).toMatchObject({ path: file, signal: 'SIGHUP' });
    const status = spawnSync(USHER, ['status', '--state-dir', state], { encoding: 'utf8' }).stdout;
    expect(status).toContain(file);
  });

  it('follows a Kubernetes ..data symlink swap, for a watched file and for the mount', async () => {
    const dir = folder();
    kubernetesVolume(dir, { 'tls.crt': 'cert-1', 'tls.key': 'key-1' }, '2026_11_26_10_00_00.1');
    const { run } = await start(path.join(dir, 'tls.crt'));
    kubernetesVolume(dir, { 'tls.crt': 'cert-2', 'tls.key': 'key-2' }, '2026_11_26_10_05_00.2');
    rmSync(path.join(dir, '..2026_11_26_10_00_00.1'), { recursive: true });
    await run.waitForStdout('SIGHUP\n');
    await killRun(run); // usher and the app it runs, before the next usher

    const { run: mount } = await start(dir);
    kubernetesVolume(dir, { 'tls.crt': 'cert-3', 'tls.key': 'key-3' }, '2026_11_26_10_10_00.3');
    await mount.waitForStdout('SIGHUP\n');
    await expectNoReload(mount);
    expect(hups(mount)).toBe(1);
  });

  it('sends one signal for a burst of 50 writes in 200 ms, and none for a touch or the same content', async () => {
    const dir = folder();
    const file = path.join(dir, 'app.conf');
    writeFileSync(file, 'v0');
    const { run } = await start(file);
    const writer = spawnSync(process.execPath, ['-e', `
      const fs = require('fs'); const start = Date.now();
      for (let i = 1; i <= 50; i++) { fs.writeFileSync(${JSON.stringify(file)}, 'v' + i); const until = start + i * 4; while (Date.now() < until); }
    `]);
    expect(writer.status).toBe(0);
    await run.waitForStdout('SIGHUP\n');
    await expectNoReload(run);
    expect(hups(run)).toBe(1);
    utimesSync(file, new Date(), new Date());
    writeFileSync(file, 'v50');
    await expectNoReload(run);
    expect(reloads(run)).toBe(1);
  });

  it('keeps watching a path that disappears, and reloads when it returns changed', async () => {
    const dir = folder();
    const file = path.join(dir, 'app.conf');
    writeFileSync(file, 'v1');
    const { run } = await start(file);
    rmSync(file);
    await run.waitForLog((line) => line.level === 'warn' && /disappeared/.test(line.msg));
    writeFileSync(file, 'v2');
    await run.waitForStdout('SIGHUP\n');
  });

  it('sends no reload signal during the drain: it logs it as skipped', async () => {
    const dir = folder();
    const file = path.join(dir, 'app.conf');
    writeFileSync(file, 'v1');
    const { run } = await start(file, ['--drain', '30s']);
    run.kill('SIGTERM');
    await run.waitForLog('draining for 30s');
    writeFileSync(file, 'v2');
    await run.waitForLog(`${file} changed: reload skipped while draining`);
    expect(hups(run)).toBe(0);
  });

  it('refuses a missing path at start, naming it, unless --reload-optional', async () => {
    const { runUsher } = await import('../helpers/usher.js');
    const missing = path.join(folder(), 'nope.conf');
    const refused = await runUsher(['--reload-on', missing, '--', 'true']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(missing);
    const optional = await runUsher(['--reload-on', missing, '--reload-optional', '--', 'true']);
    expect(optional.code).toBe(0);
  });

  it('honours --reload-signal', async () => {
    const dir = folder();
    const file = path.join(dir, 'app.conf');
    writeFileSync(file, 'v1');
    const { run } = await start(file, ['--reload-signal', 'USR2']);
    writeFileSync(file, 'v2');
    await run.waitForStdout('SIGUSR2\n');
    expect(hups(run)).toBe(0);
  });
});
