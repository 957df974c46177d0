import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findHaproxy, freePorts, startHaproxy, type Backend, type Haproxy } from './haproxy/haproxy.js';
import { startLoad, type Load, type LoadResult } from './haproxy/load.js';
import { eventually, FIXTURES, killRun, startUsher, type Run } from '../helpers/usher.js';

// End to end: a rolling restart of two instances of a naive HTTP app (it stops
// accepting the moment it gets SIGTERM), each under usher, behind a real HAProxy that
// health-checks usher's /readyz every 100 ms (fall 2, rise 1) with no retries and no redispatch,
// like kube-proxy. With a drain longer than the balancer's detection time no request fails;
// with --drain 0 some must, or this test could not tell the difference.

const HAPROXY = findHaproxy();
if ('missing' in HAPROXY) throw new Error(HAPROXY.missing);

const APP = path.join(FIXTURES, 'http-app.mjs');
const INTER_MS = 100;
const CONCURRENCY = 20;
const MAX_REQUESTS = 60_000;
const WAIT_MS = 15_000;


function bounded<T>(promise: Promise<T>, what: string, timeoutMs = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function startInstance(server: Backend, generation: number, drain: string): Promise<Run> {
  // --ready-tcp: /readyz says ready only once the app accepts connections, not when it was spawned.
  const run = startUsher(['--http', `127.0.0.1:${server.checkPort}`, '--drain', drain, '--grace', '5s',
    '--ready-tcp', `127.0.0.1:${server.port}`, '--check-interval', '50ms', '--',
    process.execPath, APP, String(server.port), `${server.name}${generation}`], { env: { KUBERNETES_SERVICE_HOST: '' } });
  await run.waitForLog('HTTP server listening', WAIT_MS);
  await run.waitForStdout(/^listening /m, WAIT_MS);
  return run;
}

async function stopInstance(run: Run): Promise<void> {
  if (run.child.exitCode !== null || run.child.signalCode !== null) return;
  run.kill('SIGTERM');
  run.kill('SIGTERM');
  const done = await Promise.race([run.exited, new Promise((resolve) => setTimeout(() => resolve(undefined), 10_000))]);
  if (!done) await killRun(run);
}

interface Outcome extends LoadResult {
  /** Per restarted instance: ms from SIGTERM to HAProxy reporting the server DOWN. */
  readonly detectionMs: number[];
  /** Per restarted instance: whether HAProxy saw it DOWN while the app was still serving. */
  readonly downBeforeAppStop: boolean[];
  readonly rolloutMs: number;
  readonly haproxyCounters: Record<string, Record<string, string>>;
}

async function rollingRestart(drain: string): Promise<Outcome> {
  const dir = mkdtempSync(path.join(tmpdir(), 'usher-rolling-'));
  const [frontendPort, ...ports] = await freePorts(5);
  const servers: Backend[] = [
    { name: 'a', port: ports[0]!, checkPort: ports[1]! },
    { name: 'b', port: ports[2]!, checkPort: ports[3]! },
  ];
  const runs: Run[] = [];
  let haproxy: Haproxy | undefined;
  let load: Load | undefined;
  const stateOf = async (name: string): Promise<string> => (await haproxy!.serverStates()).get(name) ?? '';
  try {
    const current = await Promise.all(servers.map((server) => startInstance(server, 1, drain)));
    runs.push(...current);
    haproxy = startHaproxy({ binary: (HAPROXY as { path: string }).path, dir, frontendPort: frontendPort!, servers, interMs: INTER_MS, fall: 2, rise: 1 });
    await eventually(async () => {
      const states = await haproxy!.serverStates();
      return servers.every((server) => states.get(server.name) === 'UP');
    }, `HAProxy to see both servers UP\n${haproxy.output()}`, WAIT_MS);

    load = startLoad({ port: frontendPort!, concurrency: CONCURRENCY, maxRequests: MAX_REQUESTS });
    await load.waitForMoreSuccesses(300, WAIT_MS);

    const detectionMs: number[] = [];
    const downBeforeAppStop: boolean[] = [];
    const rolloutStart = Date.now();
    for (const [index, server] of servers.entries()) {
      const old = current[index]!;
      const terminated = Date.now();
      old.kill('SIGTERM');
      // The stop side is left to HAProxy's health checks of /readyz alone.
      await eventually(async () => (await stateOf(server.name)).startsWith('DOWN'), `HAProxy to mark ${server.name} DOWN`, WAIT_MS);
      detectionMs.push(Date.now() - terminated);
      downBeforeAppStop.push(!old.stdout.includes('SIGTERM'));
      const exit = await bounded(old.exited, `usher of ${server.name} to exit`);
      expect(exit, `old usher of ${server.name}: the app exits 0 on SIGTERM`).toEqual({ code: 0, signal: null });

      // The replacement: HAProxy brings it UP through /readyz alone, which usher holds at 503
      // until its --ready-tcp check reaches the app (without it, requests that reach the app
      // before it listens fail: 1 to 284 per rollout were measured).
      const replacement = await startInstance(server, 2, drain);
      runs.push(replacement);
      current[index] = replacement;
      await eventually(async () => (await stateOf(server.name)) === 'UP', `HAProxy to mark the new ${server.name} UP`, WAIT_MS);
    }
    const rolloutMs = Date.now() - rolloutStart;

    await load.waitForMoreSuccesses(300, WAIT_MS);
    const result = await load.stop();
    const stats = await haproxy.serverStats();
    const haproxyCounters = Object.fromEntries([...stats].map(([name, row]) => [name, { econ: row.econ!, eresp: row.eresp!, wretr: row.wretr!, wredis: row.wredis! }]));
    return { ...result, detectionMs, downBeforeAppStop, rolloutMs, haproxyCounters };
  } finally {
    await load?.stop();
    await Promise.all(runs.map(stopInstance));
    await haproxy?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(label: string, outcome: Outcome): void {
  console.log(`rolling restart ${label}: ${outcome.failures} failed / ${outcome.sent} requests (${outcome.successes} ok); `
    + `failures by kind ${JSON.stringify(outcome.failureKinds)}; detection ${outcome.detectionMs.join(', ')} ms; `
    + `rollout ${outcome.rolloutMs} ms; answered by ${JSON.stringify(outcome.byInstance)}; haproxy ${JSON.stringify(outcome.haproxyCounters)}`);
}

function expectEveryInstanceServed(outcome: Outcome): void {
  // The rollout really happened under load: both old and both new instances answered requests.
  for (const name of ['a1', 'b1', 'a2', 'b2']) {
    expect(Object.keys(outcome.byInstance).some((instance) => instance.startsWith(`${name} `)), `instance ${name} served requests: ${JSON.stringify(outcome.byInstance)}`).toBe(true);
  }
  for (const counters of Object.values(outcome.haproxyCounters)) expect(counters).toMatchObject({ wretr: '0', wredis: '0' });
}

describe('rolling restart behind HAProxy (real processes)', () => {
  it('with --drain 1s (> HAProxy\'s 100 ms detection) no request fails', async () => {
    const outcome = await rollingRestart('1s');
    report('--drain 1s', outcome);
    expectEveryInstanceServed(outcome);
    expect(outcome.downBeforeAppStop, 'HAProxy saw each instance DOWN before its app got the stop signal').toEqual([true, true]);
    expect(outcome.failures, JSON.stringify(outcome.failureKinds)).toBe(0);
  }, 45_000);

  it('with --drain 0 the same rollout fails requests', async () => {
    const outcome = await rollingRestart('0');
    report('--drain 0', outcome);
    expectEveryInstanceServed(outcome);
    expect(outcome.failures).toBeGreaterThan(0);
  }, 45_000);
});
