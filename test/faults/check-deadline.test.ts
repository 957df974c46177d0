import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StateFile } from '../../src/state/schema.js';
import { eventually, killLeftRunning, startUsher, USHER, type Run } from '../helpers/usher.js';

// Fault: `--check-timeout` was a socket-idle timeout, so a peer that sends a byte now and then
// (a wedged app trickling header lines) kept an HTTP check going for ever: the app was never
// reported unhealthy and the check never ran again. It is now a deadline for the whole check.

const runs = killLeftRunning();
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const TIMEOUT = '500ms';
const TIMEOUT_MS = 500;

function folder(): string {
  return mkdtempSync(path.join(tmpdir(), 'usher-deadline-'));
}

function state(dir: string): StateFile | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'state.json'), 'utf8')) as StateFile;
  } catch {
    return undefined;
  }
}

/**
 * A server that starts an answer, then sends one byte every 100 ms and never ends it: of a header
 * line, or (`body`) of a body after complete headers. Counts its open sockets.
 */
async function tricklingServer(part: 'header' | 'body' = 'header'): Promise<{ port: number; open: () => number; accepted: () => number; mostOpen: () => number }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  let mostOpen = 0;
  const server = createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    mostOpen = Math.max(mostOpen, sockets.size);
    socket.on('error', () => undefined);
    socket.resume(); // reads, so that the client's close is seen at once, not at the next write
    socket.write(part === 'header' ? 'HTTP/1.1 200 OK\r\nX-Trickle: ' : 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n');
    const trickle = setInterval(() => socket.write('a'), 100);
    socket.once('close', () => {
      clearInterval(trickle);
      sockets.delete(socket);
    });
  });
  await listen(server);
  cleanups.push(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return { port: (server.address() as { port: number }).port, open: () => sockets.size, accepted: () => accepted, mostOpen: () => mostOpen };
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
}

/**
 * A loopback address whose connect never completes: a listener with a backlog of 1 in a process
 * that never accepts (its event loop is blocked in Atomics.wait from the moment it listens), its
 * accept queue filled by this test. Linux then drops every further SYN, so a connect hangs in
 * SYN_SENT (retrying for two minutes) — a host that does not answer, on loopback.
 */
async function unansweringAddress(): Promise<number> {
  const script = "const s=require('net').createServer();s.listen({port:0,host:'127.0.0.1',backlog:1},()=>{process.stdout.write(s.address().port+'\\n');Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0)})";
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(() => killChild(child));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the non-accepting listener did not start within 10 s')), 10_000);
    child.stdout!.setEncoding('utf8').once('data', (text: string) => {
      clearTimeout(timer);
      resolve(Number(text.trim()));
    });
  });
  await fillAcceptQueue(port);
  return port;
}

/** Connects until one connect does not complete: the accept queue is full then (2 fit for a backlog of 1). */
async function fillAcceptQueue(port: number): Promise<void> {
  const fillers: Socket[] = [];
  cleanups.push(() => fillers.forEach((socket) => socket.destroy()));
  for (let attempt = 0; attempt < 8; attempt += 1) {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => undefined);
    fillers.push(socket);
    // A completed handshake is immediate on loopback; 300 ms without one is a dropped SYN.
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 300);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!connected) return;
  }
  throw new Error('the accept queue of a backlog-1 listener took 8 connections: cannot make a connect that hangs');
}

async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(child.pid!, 'SIGKILL');
  await exited;
}

function probe(dir: string): Promise<number> {
  return new Promise((resolve) => {
    execFile(USHER, ['probe', 'ready', '--state-dir', dir], { timeout: 10_000 }, (error) => {
      resolve(error ? Number((error as NodeJS.ErrnoException & { code?: number }).code ?? -1) : 0);
    });
  });
}

/** Starts usher with one readiness check; resolves when the check first reports failing, with the time it took. */
async function firstFailure(dir: string, check: readonly string[], id: string): Promise<{ run: Run; sinceStartMs: number }> {
  const run = startUsher(['--state-dir', dir, ...check, '--check-timeout', TIMEOUT, '--check-failures', '1', '--check-interval', '1s', '--', 'sleep', '60']);
  runs.current = run;
  const started = await run.waitForLog('app started');
  const failing = await run.waitForLog(`readiness check ${id} failing`, 5000);
  expect(failing.result).toBe(`timeout after ${TIMEOUT}`);
  return { run, sinceStartMs: Date.parse(String(failing.time)) - Date.parse(String(started.time)) };
}

/** The record, the probe's answer, and a second run of the check. */
async function expectTimedOutAndRunAgain(dir: string, label: string, sinceStartMs: number): Promise<void> {
  const first = await eventually(() => {
    const record = state(dir)?.checks[0];
    return record?.lastResult === `timeout after ${TIMEOUT}` && state(dir)?.readyCode === 3 ? record : undefined;
  }, 'the timeout in state.json', 5000);
  console.log(`${label}: timeout result ${sinceStartMs} ms after the app started; the run took ${first.lastDurationMs} ms`);
  expect(first.lastDurationMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 5);
  expect(first.lastDurationMs).toBeLessThan(1000);
  expect(sinceStartMs).toBeLessThan(1500);
  expect(await probe(dir)).toBe(3);
  const second = await eventually(() => {
    const record = state(dir)?.checks[0];
    return record && record.lastRunAt !== null && record.lastRunAt > first.lastRunAt! ? record : undefined;
  }, 'a second run of the check', 5000);
  expect(second).toMatchObject({ status: 'failing', lastResult: `timeout after ${TIMEOUT}` });
  expect(second.consecutiveFailures).toBeGreaterThanOrEqual(2);
  expect(second.lastDurationMs).toBeLessThan(1000);
}

describe('--check-timeout is a deadline for the whole check', () => {
  it('an HTTP check against a server that trickles its header lines times out, fails, and runs again', async () => {
    const server = await tricklingServer();
    const dir = folder();
    const { sinceStartMs } = await firstFailure(dir, ['--ready-http', `http://127.0.0.1:${server.port}/`], 'ready-http-1');
    await expectTimedOutAndRunAgain(dir, 'HTTP check', sinceStartMs);
    // Each timed-out run closed its connection: only the run in flight, if any, is open.
    expect(server.accepted()).toBeGreaterThanOrEqual(2);
    await eventually(() => server.open() <= 1, 'the connections of timed-out runs closed', 5000);
  });

  it('a TCP check to an address that never answers the handshake times out, fails, and runs again', async () => {
    const port = await unansweringAddress();
    const dir = folder();
    const { sinceStartMs } = await firstFailure(dir, ['--ready-tcp', `127.0.0.1:${port}`], 'ready-tcp-1');
    await expectTimedOutAndRunAgain(dir, 'TCP check', sinceStartMs);
  });

  it('an HTTP check whose body never ends passes on its status, and its connection is closed by the deadline', async () => {
    const server = await tricklingServer('body');
    const dir = folder();
    const run = startUsher(['--state-dir', dir, '--ready-http', `http://127.0.0.1:${server.port}/`, '--check-timeout', TIMEOUT, '--check-interval', '1s', '--', 'sleep', '60']);
    runs.current = run;
    await run.waitForLog('readiness check ready-http-1 passing', 5000);
    await eventually(() => state(dir)?.checks[0]?.lastResult === 'HTTP 200', 'HTTP 200 in state.json', 5000);
    // The body is not waited for, nor left streaming: the deadline closes the connection.
    await eventually(() => server.accepted() >= 1 && server.open() === 0, 'the check\'s connection closed', 5000);
  });

  it('a check never overlaps itself: the next run waits for the body of the last one to end or be cut off', async () => {
    const server = await tricklingServer('body');
    const dir = folder();
    // The interval is shorter than the deadline: counted from the outcome, a run would start while the last one still streams.
    const run = startUsher(['--state-dir', dir, '--ready-http', `http://127.0.0.1:${server.port}/`, '--check-timeout', '1s', '--check-interval', '100ms', '--', 'sleep', '60']);
    runs.current = run;
    await run.waitForLog('readiness check ready-http-1 passing', 5000);
    await eventually(() => server.accepted() >= 3, 'three runs of the check', 10_000);
    expect(server.mostOpen()).toBe(1);
  });
});
