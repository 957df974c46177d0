import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StateFile } from '../../src/state/schema.js';
import { eventually, killLeftRunning, startUsher, type Run } from '../helpers/usher.js';

// Fault: the HTTP server could be starved by a few dozen idle or slow connections (any pod can
// reach `--http PORT`), and the kubelet's probes then failed: the pod was marked unready. Here a
// flood of 300 connections is held open (each one the server closes is opened again) while 100
// real probes are made; they must be answered, and the server must not take usher's descriptors.

const runs = killLeftRunning();

/** Connections the flood holds at once: idle, slowloris and half-closed, a third each. */
const FLOOD = 300;
const PROBES = 100;
const PARALLEL = 4;
const PROBE_TIMEOUT_MS = 2000;
/** Each prober's pause between two probes, as a kubelet's period: the probes span the server's cut-offs (1.5 s, 2 s). */
const PROBE_PERIOD_MS = 100;
/**
 * The flood's pace: every tick, the connections the server closed are opened again, at most
 * REOPEN_PER_TICK of them (500 a second: a held flood, not a connection storm, which no server
 * cap can tell from probes); every TRICKLE_EVERY ticks each slowloris socket sends one byte.
 */
const TICK_MS = 20;
const REOPEN_PER_TICK = 10;
const TRICKLE_EVERY = 5;
/** The flood is bounded: it never opens more than this many connections in all. */
const MAX_OPENS = 20_000;

/**
 * The connections the server may hold, as the README states it: a quarter of its descriptor
 * limit, 8 to 64. Under the flood it may hold one more for a moment (the one accepted before the
 * oldest idle one is shed), and a check or the state writer may be caught mid-run.
 */
function httpFdsMax(pid: number): number {
  const limit = Number(/^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'latin1'))?.[1]);
  return Math.min(64, Math.max(8, Math.floor(limit / 4))) + 1 + 4;
}

type Kind = 'idle' | 'slowloris' | 'half-closed';
const REQUEST_START = 'GET /readyz HTTP/1.1\r\nHost: usher\r\n';

/** A bounded flood of connections, held: each one closed (by the server) is opened again on the next tick. */
class Flood {
  readonly #sockets = new Map<Socket, Kind>();
  readonly #timer: NodeJS.Timeout;
  #opens = 0;
  #connected = 0;
  #closedByPeer = 0;
  #stopped = false;
  #ticks = 0;

  constructor(private readonly port: number) {
    for (let index = 0; index < FLOOD; index += 1) this.#open((['idle', 'slowloris', 'half-closed'] as const)[index % 3]!);
    this.#timer = setInterval(() => this.#tick(), TICK_MS);
  }

  get stats(): { opens: number; connected: number; closedByPeer: number; held: number } {
    return { opens: this.#opens, connected: this.#connected, closedByPeer: this.#closedByPeer, held: this.#sockets.size };
  }

  #open(kind: Kind): void {
    this.#opens += 1;
    const socket = connect({ host: '127.0.0.1', port: this.port, allowHalfOpen: true });
    this.#sockets.set(socket, kind);
    socket.on('error', () => undefined); // resets are what a shed connection looks like
    socket.resume(); // whatever the server answers (a 400, a 408) is read and dropped
    socket.once('end', () => socket.destroy()); // the server closed it: it is opened again on a tick
    socket.once('connect', () => {
      this.#connected += 1;
      if (kind === 'slowloris') socket.write(REQUEST_START);
      // Half-closed: part of a request, then our FIN, and the socket left open for the answer.
      if (kind === 'half-closed') socket.end(REQUEST_START);
    });
    socket.once('close', () => {
      this.#sockets.delete(socket);
      if (!this.#stopped) this.#closedByPeer += 1;
    });
  }

  #tick(): void {
    this.#ticks += 1;
    if (this.#ticks % TRICKLE_EVERY === 0) {
      for (const [socket, kind] of this.#sockets) if (kind === 'slowloris' && socket.writable && !socket.connecting) socket.write('x');
    }
    const missing = Math.min(FLOOD - this.#sockets.size, REOPEN_PER_TICK, MAX_OPENS - this.#opens);
    const kinds = ['idle', 'slowloris', 'half-closed'] as const;
    for (let index = 0; index < missing; index += 1) this.#open(kinds[(this.#opens + index) % 3]!);
  }

  /** Resolves once the first FLOOD connections are established (bounded). */
  established(): Promise<void> {
    return eventually(() => this.#connected >= FLOOD, `${FLOOD} flood connections established`, 10_000).then(() => undefined);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    for (const socket of this.#sockets.keys()) socket.destroy();
    await eventually(() => this.#sockets.size === 0, 'every flood socket closed', 5000);
  }
}

/** One real probe on a new connection: its status, or why it got none, within PROBE_TIMEOUT_MS. */
function readyz(port: number): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/readyz', agent: false, headers: { Connection: 'close' } }, (response) => {
      response.resume();
      response.on('error', () => undefined);
      resolve(response.statusCode ?? 0);
    });
    const timer = setTimeout(() => req.destroy(new Error('ETIMEDOUT')), PROBE_TIMEOUT_MS);
    req.once('close', () => clearTimeout(timer));
    req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    req.end();
  });
}

function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

interface Figures {
  readonly answers: (number | string)[];
  readonly maxFds: number;
}

/** PROBES probes, PARALLEL at a time, sampling usher's descriptors after each. */
async function probeUnderFlood(port: number, pid: number): Promise<Figures> {
  const answers: (number | string)[] = [];
  let maxFds = fdCount(pid);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < PROBES) {
      next += 1;
      answers.push(await readyz(port));
      maxFds = Math.max(maxFds, fdCount(pid));
      await new Promise((resolve) => setTimeout(resolve, PROBE_PERIOD_MS));
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return { answers, maxFds };
}

async function listeningPort(run: Run): Promise<number> {
  const line = await run.waitForLog('HTTP server listening');
  return Number(String(line.address).split(':').pop());
}

function summary(answers: readonly (number | string)[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const answer of answers) counts[String(answer)] = (counts[String(answer)] ?? 0) + 1;
  return counts;
}

/** The machine says ready a moment after the app started; nothing announces it but the probe itself. */
async function readyBeforeTheFlood(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await readyz(port)) !== 200) {
    if (Date.now() > deadline) throw new Error('usher not ready within 10 s');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Floods the server of a ready usher, probes it, and reports the figures. */
async function floodAndProbe(run: Run, label: string): Promise<Figures & { baseline: number }> {
  const port = await listeningPort(run);
  await readyBeforeTheFlood(port);
  const baseline = fdCount(run.pid);
  const flood = new Flood(port);
  try {
    await flood.established();
    const figures = await probeUnderFlood(port, run.pid);
    const answered = figures.answers.filter((answer) => answer === 200).length;
    console.log(`${label}: ${answered}/${PROBES} probes answered 200 ${JSON.stringify(summary(figures.answers))}; usher fds ${baseline} before, ${figures.maxFds} at most under the flood; flood ${JSON.stringify(flood.stats)}`);
    return { ...figures, baseline };
  } finally {
    await flood.stop();
  }
}

describe('the HTTP server under a flood of idle, slowloris and half-closed connections', () => {
  it('answers the probes, and holds a bounded number of descriptors', async () => {
    const run = startUsher(['--http', '127.0.0.1:0', '--', 'sleep', '60']);
    runs.current = run;
    const { answers, maxFds, baseline } = await floodAndProbe(run, 'flood');
    expect(answers.filter((answer) => answer === 200).length).toBeGreaterThanOrEqual(99);
    expect(maxFds - baseline).toBeLessThanOrEqual(httpFdsMax(run.pid));
    // The flood gone, the connections it left are let go of.
    const port = await listeningPort(run);
    expect(await readyz(port)).toBe(200);
    await eventually(() => fdCount(run.pid) <= baseline + 1, 'usher back to its descriptors of before the flood', 10_000);
  });

  it('with `ulimit -n 64`, leaves the checks and the state writer the descriptors they need', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'usher-flood-'));
    const run = startUsher(['--state-dir', dir, '--http', '127.0.0.1:0', '--check-interval', '100ms', '--ready-cmd', 'true', '--', 'sleep', '60'], {
      wrap: ['sh', '-c', 'ulimit -n 64 && exec "$0" "$@"'],
    });
    runs.current = run;
    const state = (): StateFile => JSON.parse(readFileSync(path.join(dir, 'state.json'), 'utf8')) as StateFile;
    await run.waitForLog('readiness check ready-cmd-1 passing');
    const { answers, maxFds, baseline } = await floodAndProbe(run, 'flood at ulimit -n 64');
    expect(answers.filter((answer) => answer === 200).length).toBeGreaterThanOrEqual(99);
    expect(maxFds - baseline).toBeLessThanOrEqual(httpFdsMax(run.pid));
    // The checks ran all along, and passed: none failed to start for want of a descriptor.
    const check = state().checks[0]!;
    expect(check).toMatchObject({ status: 'passing', consecutiveFailures: 0, lastResult: 'ok' });
    expect(check.consecutiveSuccesses).toBeGreaterThan(3);
    expect(run.stderr).not.toContain('EMFILE');
  });
});
