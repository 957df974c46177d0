import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually, FIXTURES, killLeftRunning, ROOT, runUsher, startUsher, type Run } from '../helpers/usher.js';

// --drain-idle with real connections on loopback: the drain ends when the traffic does.

const APP = path.join(FIXTURES, 'listen-app.mjs');
const USHER_PROBE = path.join(ROOT, 'bin/usher-probe');
const runs = killLeftRunning();

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** usher with a ready app on a free port; resolves once it is ready. */
async function readyUsher(drain: string, idle: string): Promise<{ run: Run; port: number }> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'usher-drain-'));
  const run = startUsher(['--state-dir', dir, '--drain', drain, '--drain-idle', idle, '--grace', '5s', '--', 'node', APP], { env: { PORT: String(port), KUBERNETES_SERVICE_HOST: '' } });
  runs.current = run;
  await eventually(() => spawnSync(USHER_PROBE, ['ready', dir]).status === 0, 'ready');
  return { run, port };
}

/** A client that sends a byte every `everyMs` on one connection until stopped; `last` is when it last sent. */
async function trickle(port: number, everyMs: number): Promise<{ stop: () => number; socket: Socket }> {
  const socket = connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  let last = Date.now();
  const timer = setInterval(() => {
    socket.write('x');
    last = Date.now();
  }, everyMs);
  return { socket, stop: () => (clearInterval(timer), last) };
}

/** When the app got its TERM, by its own clock (the same machine's as the test's). */
async function termAt(run: Run): Promise<number> {
  const text = await run.waitForStdout(/term at \d+/);
  return Number(/term at (\d+)/.exec(text)![1]);
}

describe('--drain-idle', () => {
  it('ends the drain within DURATION + 100 ms of the last inbound byte', async () => {
    const { run, port } = await readyUsher('20s', '500ms');
    const client = await trickle(port, 50);
    run.kill('SIGTERM');
    await run.waitForLog('draining until the readiness ports have had no traffic for 500ms, 20s at most; the app keeps serving');
    await new Promise((resolve) => setTimeout(resolve, 400)); // traffic goes on for a while during the drain
    const lastByte = client.stop();
    const term = await termAt(run);
    client.socket.destroy();
    expect(term - lastByte).toBeGreaterThanOrEqual(490);
    expect(term - lastByte).toBeLessThanOrEqual(600);
    const ended = await run.waitForLog((line) => line.msg.startsWith('drain ended after'));
    expect(ended.msg).toMatch(/^drain ended after (\d+ms|\d\.\ds): no traffic for 500ms$/);
    expect((await run.exited).code).toBe(0);
  });

  it('ends the drain at its limit while traffic keeps arriving', async () => {
    const { run, port } = await readyUsher('1500ms', '300ms');
    const client = await trickle(port, 50);
    const sent = Date.now();
    run.kill('SIGTERM');
    const term = await termAt(run);
    client.stop();
    client.socket.destroy();
    expect(term - sent).toBeGreaterThanOrEqual(1450);
    await run.waitForLog('drain ended at its limit of 1500ms: traffic still arriving');
  });

  it('counts connections that open and close between two polls (new connections are traffic too)', async () => {
    const { run, port } = await readyUsher('1500ms', '300ms');
    // Each connection is opened, sends a byte and is closed by the client at once: too short for a poll to see it open.
    let stopped = false;
    const churn = (async () => {
      while (!stopped) {
        await new Promise<void>((resolve) => {
          const socket = connect(port, '127.0.0.1', () => socket.end('x'));
          socket.on('close', () => resolve());
          socket.on('error', () => resolve());
        });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const sent = Date.now();
    run.kill('SIGTERM');
    const term = await termAt(run);
    stopped = true;
    await churn;
    expect(term - sent).toBeGreaterThanOrEqual(1450);
    await run.waitForLog('drain ended at its limit of 1500ms: traffic still arriving');
  });

  it('is refused without a readiness port, or without a drain to shorten, naming both', async () => {
    const noPort = await runUsher(['--drain', '5s', '--drain-idle', '1s', '--', 'true'], { env: { PORT: '' } });
    expect(noPort.code).toBe(2);
    expect(noPort.stderr).toContain('--drain-idle 1s needs a readiness port to watch: give --ready-port PORT (USHER_READY_PORT) or set PORT');
    const noDrain = await runUsher(['--drain-idle', '1s', '--ready-port', '8080', '--', 'true'], { env: { KUBERNETES_SERVICE_HOST: '' } });
    expect(noDrain.code).toBe(2);
    expect(noDrain.stderr).toContain('--drain-idle 1s needs --drain DURATION (USHER_DRAIN), the longest the drain may last: it is 0');
  });
});
