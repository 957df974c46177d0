import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StateFile } from '../../src/state/schema.js';
import { eventually, FIXTURES, startUsher, killLeftRunning } from '../helpers/usher.js';

const APP = path.join(FIXTURES, 'ready-fd-app.mjs');

const runs = killLeftRunning();

const readState = (dir: string): StateFile => JSON.parse(readFileSync(path.join(dir, 'state.json'), 'utf8')) as StateFile;

describe('--ready-fd', () => {
  it('is not ready until the app writes a newline to its fd, then ready', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'usher-readyfd-'));
    const run = startUsher(['--state-dir', dir, '--ready-fd', '5', '--', 'node', APP, '5']);
    runs.current = run;
    await run.waitForStdout('up');
    await eventually(() => readState(dir).readyCode === 1, 'not ready yet');
    expect(readState(dir).readyReason).toBe('waiting for the app to say it is ready');
    run.child.stdin!.write('go\n');
    await run.waitForLog('the app says it is ready');
    await eventually(() => readState(dir).readyCode === 0, 'ready');
  });

  it('opens fd N in the app and nothing between 3 and N', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'usher-readyfd-'));
    const run = startUsher(['--state-dir', dir, '--ready-fd', '5', '--', 'sleep', '30']);
    runs.current = run;
    const app = (await run.waitForLog('app started')).pid as number;
    expect(readdirSync(`/proc/${app}/fd`).sort()).toEqual(['0', '1', '2', '5']);
  });

  it('never written: never ready', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'usher-readyfd-'));
    const run = startUsher(['--state-dir', dir, '--ready-fd', '3', '--', 'node', APP, '3', 'never']);
    runs.current = run;
    await run.waitForStdout('up');
    run.child.stdin!.write('go\n');
    await run.waitForStdout('said ready');
    // The app answered its trigger without writing: usher's state must still say not ready.
    await eventually(() => readState(dir).phase === 'running', 'running');
    expect(readState(dir).readyCode).toBe(1);
    expect(run.logs.some((line) => line.msg === 'the app says it is ready')).toBe(false);
  });

  it('refuses fds 0 to 2, naming the flag', async () => {
    const { runUsher } = await import('../helpers/usher.js');
    const run = await runUsher(['--ready-fd', '1', '--', 'true']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--ready-fd');
  });
});
