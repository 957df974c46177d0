import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StateFile } from '../../src/state/schema.js';
import { eventually, processExists, startUsher, killLeftRunning, type Run } from '../helpers/usher.js';

const runs = killLeftRunning();
const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

function folder(): string {
  return mkdtempSync(path.join(tmpdir(), 'usher-checks-'));
}

function start(args: readonly string[], stateDir: string): Run {
  runs.current = startUsher(['--state-dir', stateDir, '--check-interval', '100ms', '--check-timeout', '500ms', ...args, '--', 'sleep', '60']);
  return runs.current;
}

function state(stateDir: string): StateFile | undefined {
  try {
    return JSON.parse(readFileSync(path.join(stateDir, 'state.json'), 'utf8')) as StateFile;
  } catch {
    return undefined;
  }
}

const readyCode = (stateDir: string): number | undefined => state(stateDir)?.readyCode;

async function httpServer(statusOf: () => number): Promise<number> {
  const server = createServer((_, response) => response.writeHead(statusOf()).end());
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

describe('readiness and liveness checks', () => {
  it('a command check: not ready until it passes, then unready after --check-failures failures', async () => {
    const dir = folder();
    const flag = path.join(dir, 'healthy');
    const run = start(['--ready-cmd', `test -e ${flag}`, '--check-failures', '2'], dir);
    await run.waitForLog('app started');
    await eventually(() => readyCode(dir) === 1, 'not ready before the check passes');
    writeFileSync(flag, '');
    await run.waitForLog('readiness check ready-cmd-1 passing');
    await eventually(() => readyCode(dir) === 0, 'ready');
    const { rmSync } = await import('node:fs');
    rmSync(flag);
    await run.waitForLog('readiness check ready-cmd-1 failing');
    await eventually(() => readyCode(dir) === 3, 'ready code 3');
    const record = state(dir)!.checks[0]!;
    expect(record).toMatchObject({ kind: 'ready', type: 'cmd', status: 'failing', lastResult: 'exit 1' });
    expect(record.consecutiveFailures).toBeGreaterThanOrEqual(2);
  });

  it('an HTTP check passes on 2xx/3xx and fails on 5xx', async () => {
    let status = 503;
    const port = await httpServer(() => status);
    const dir = folder();
    const run = start(['--ready-http', `http://127.0.0.1:${port}/healthz`, '--check-failures', '1'], dir);
    await eventually(() => state(dir)?.checks[0]?.lastResult === 'HTTP 503', 'a 503 seen');
    expect(readyCode(dir)).toBe(3);
    status = 302;
    await run.waitForLog('readiness check ready-http-1 passing');
    await eventually(() => readyCode(dir) === 0, 'ready');
  });

  it('a TCP check passes once something listens', async () => {
    const probe = createTcpServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    const dir = folder();
    const run = start(['--ready-tcp', `127.0.0.1:${port}`, '--check-failures', '1'], dir);
    await eventually(() => state(dir)?.checks[0]?.lastResult === 'ECONNREFUSED', 'connection refused seen');
    const server = createTcpServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      await run.waitForLog('readiness check ready-tcp-1 passing');
      await eventually(() => readyCode(dir) === 0, 'ready');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a check past its timeout is killed with its whole process group: nothing is left behind', async () => {
    const dir = folder();
    const pids = path.join(dir, 'sleepers');
    const run = start(['--ready-cmd', `sleep 1000 & echo $! >> ${pids}; sleep 1000`, '--check-timeout', '200ms'], dir);
    await eventually(() => (state(dir)?.checks[0]?.lastResult ?? '').startsWith('timeout after 200ms'), 'a timed-out check');
    // Two runs at least, so one has timed out and been cleaned up while the next is in flight.
    const sleepers = await eventually(() => {
      const list = readFileSync(pids, 'utf8').split('\n').filter(Boolean).map(Number);
      return list.length >= 2 ? list : undefined;
    }, 'a second run of the check');
    expect(sleepers.every((pid) => Number.isInteger(pid) && pid > 1)).toBe(true);
    await eventually(() => sleepers.slice(0, -1).every((pid) => !processExists(pid)), 'no sleeper left of the timed-out runs');
    void run;
  });

  it('never overlaps itself, and keeps the last 4 KB of output', async () => {
    const dir = folder();
    const lock = path.join(dir, 'lock');
    const overlaps = path.join(dir, 'overlaps');
    const command = `[ -e ${lock} ] && echo overlap >> ${overlaps}; touch ${lock}; head -c 10000 /dev/zero | tr '\\0' x; echo END; sleep 0.3; rm -f ${lock}`;
    runs.current = startUsher(['--state-dir', dir, '--check-interval', '10ms', '--check-timeout', '2s', '--ready-cmd', command, '--', 'sleep', '60']);
    await eventually(() => (state(dir)?.checks[0]?.consecutiveSuccesses ?? 0) >= 3, 'three runs', 30_000);
    expect(() => readFileSync(overlaps)).toThrow();
    const output = state(dir)!.checks[0]!.output;
    expect(output.length).toBe(4096);
    expect(output.endsWith('xxxxEND\n')).toBe(true);
  });

  it('failures in --check-start-period do not count', async () => {
    const dir = folder();
    const run = start(['--live-cmd', 'exit 1', '--check-failures', '1', '--check-start-period', '1s'], dir);
    await eventually(() => (state(dir)?.checks[0]?.lastRunAt ?? 0) > 0, 'a first run');
    expect(state(dir)!.checks[0]!.consecutiveFailures).toBe(0);
    expect(state(dir)!.liveCode).toBe(0);
    await run.waitForLog('liveness check live-cmd-1 failing', 20_000);
    await eventually(() => state(dir)?.liveCode === 3, 'live code 3');
  });

  it('failing liveness with --on-unhealthy exit stops the app and exits non-zero', async () => {
    const dir = folder();
    const run = start(['--live-cmd', 'exit 1', '--check-failures', '2', '--on-unhealthy', 'exit'], dir);
    await run.waitForLog('stopping the app (--on-unhealthy exit)');
    const exit = await run.exited;
    expect(exit.code).toBe(143);
  });
});

describe('the first decision', () => {
  it('a readiness check retries every second until it first passes, not every interval', async () => {
    const dir = folder();
    const flag = path.join(dir, 'listening');
    const run = startUsher(['--state-dir', dir, '--check-interval', '60s', '--ready-cmd', `test -e ${flag}`, '--', 'sleep', '60']);
    runs.current = run;
    await eventually(() => (state(dir)?.checks[0]?.consecutiveFailures ?? 0) >= 1, 'a first failed run');
    writeFileSync(flag, '');
    // With a 60 s interval, only the quick retry can make it ready within these 10 s.
    await run.waitForLog('readiness check ready-cmd-1 passing', 10_000);
    await eventually(() => readyCode(dir) === 0, 'ready');
  });
});
