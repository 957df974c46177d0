import { buildSync, stop as stopEsbuild } from 'esbuild';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StateFile } from '../../src/state/schema.js';
import { eventually, FIXTURES, ROOT, startUsher, killLeftRunning, type Run } from '../helpers/usher.js';

// buildSync starts esbuild's service process: stop it, so the file leaves nothing running.
afterAll(() => stopEsbuild());

// --notify-socket end to end: a real usher, an app that sends real sd_notify datagrams.

const APP = path.join(FIXTURES, 'notify-app.mjs');
let client: string;

beforeAll(() => {
  client = path.join(mkdtempSync(path.join(tmpdir(), 'usher-sdnotify-')), 'sd-notify.cjs');
  buildSync({ entryPoints: [path.join(ROOT, 'test/helpers/sd-notify.ts')], bundle: true, platform: 'node', format: 'cjs', external: ['koffi'], outfile: client, logLevel: 'warning' });
});

const runs = killLeftRunning();

function start(args: readonly string[]): { run: Run; dir: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'usher-notify-state-'));
  runs.current = startUsher(['--state-dir', dir, '--notify-socket', ...args, '--', 'node', APP, client], { env: { NODE_PATH: path.join(ROOT, 'node_modules') } });
  return { run: runs.current, dir };
}

const state = (dir: string): StateFile | undefined => {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'state.json'), 'utf8')) as StateFile;
  } catch {
    return undefined;
  }
};

async function send(run: Run, line: string): Promise<void> {
  run.child.stdin!.write(`${line}\n`);
  await run.waitForStdout(`sent ${line}\n`);
}

describe('--notify-socket', () => {
  it('passes NOTIFY_SOCKET; READY=1 makes usher ready, STATUS and MAINPID are kept, STOPPING=1 unready', async () => {
    const { run, dir } = start([]);
    await run.waitForStdout(/up NOTIFY_SOCKET=\/\S+notify.sock WATCHDOG_USEC=\n/);
    await eventually(() => state(dir)?.readyCode === 1, 'not ready before READY=1');
    expect(state(dir)!.readyReason).toBe('waiting for the app to say it is ready');
    await send(run, 'READY=1\\nSTATUS=Listening on 8080, workers=2\\nMAINPID=4242');
    await run.waitForLog('the app says it is ready');
    await eventually(() => state(dir)?.readyCode === 0, 'ready');
    expect(state(dir)).toMatchObject({ appStatus: 'Listening on 8080, workers=2', appMainPid: 4242 });
    await send(run, 'STOPPING=1');
    await eventually(() => state(dir)?.readyCode === 4, 'unready after STOPPING=1');
    expect(state(dir)!.liveCode).toBe(0);
  });

  it('with --watchdog: WATCHDOG_USEC is passed, pings keep it live, a missed ping fails liveness', async () => {
    const { run, dir } = start(['--watchdog', '400ms']);
    await run.waitForStdout('WATCHDOG_USEC=400000\n');
    await send(run, 'READY=1');
    await send(run, 'ping-every 50');
    await eventually(() => state(dir)?.readyCode === 0, 'ready');
    expect(state(dir)!.liveCode).toBe(0);
    await send(run, 'ping-stop');
    const failing = await run.waitForLog('not live: watchdog: no WATCHDOG=1 for 400ms');
    expect(failing.level).toBe('warn');
    await eventually(() => state(dir)?.liveCode === 3, 'live code 3');
    await send(run, 'ping-every 50');
    await eventually(() => state(dir)?.liveCode === 0, 'live again after a ping');
  });

  it('--watchdog without --notify-socket is a configuration error', async () => {
    const { runUsher } = await import('../helpers/usher.js');
    const run = await runUsher(['--watchdog', '1s', '--', 'true']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--watchdog needs --notify-socket');
  });
});
