import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findHaproxy, freePorts, startHaproxy, type Backend, type Haproxy } from './haproxy/haproxy.js';
import { startLoad, type Load, type LoadResult } from './haproxy/load.js';
import { FIXTURES, killRun, startUsher, type Run } from '../helpers/usher.js';

// End to end: rolling restarts of two instances of an app that listens on $PORT only a second
// after it starts, each under usher with nothing but PORT in its environment, behind a real
// HAProxy that health-checks usher's /readyz every 100 ms (fall 2, rise 1) with no retries and no
// redispatch. Port readiness (the default when PORT is a number) keeps /readyz at 503 until the
// app listens, so no request fails; with --ready-port none usher is ready once the app is
// spawned and some must fail, or this test could not tell the difference. With --drain-idle the
// drain ends once HAProxy stopped sending, long before its 30 s limit.

const HAPROXY = findHaproxy();
if ('missing' in HAPROXY) throw new Error(HAPROXY.missing);

const APP = path.join(FIXTURES, 'http-app.mjs');
const INTER_MS = 100;
const CONCURRENCY = 20;
/** Bounds the flood; a rollout that needs more fails in waitForMoreSuccesses, naming the count. */
const MAX_REQUESTS = 150_000;
const ROUNDS = 2;
const WAIT_MS = 15_000;

interface Instance {
  readonly run: Run;
  readonly name: string;
}

function bounded<T>(promise: Promise<T>, what: string, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function exited(run: Run): boolean {
  return run.child.exitCode !== null || run.child.signalCode !== null;
}

/** usher with no readiness flag: PORT in the app's environment is all it is told. */
async function startInstance(server: Backend, generation: number, usherArgs: readonly string[]): Promise<Instance> {
  const name = `${server.name}${generation}`;
  const run = startUsher(['--http', `127.0.0.1:${server.checkPort}`, ...usherArgs, '--', process.execPath, APP],
    { env: { PORT: String(server.port), APP_NAME: name, LISTEN_DELAY_MS: '1000', KUBERNETES_SERVICE_HOST: '' } });
  // usher's HTTP server is up (or usher failed to start, which this names at once).
  await run.waitForLog((line) => line.msg.endsWith('server listening'), WAIT_MS);
  return { run, name };
}

/** Clean-up: two TERMs (one during the drain ends it at once, one while stopping SIGKILLs); killRun if that hangs. */
async function stopInstance({ run }: Instance): Promise<void> {
  if (exited(run)) return;
  run.kill('SIGTERM');
  run.kill('SIGTERM');
  const done = await Promise.race([run.exited, new Promise((resolve) => setTimeout(() => resolve(undefined), 10_000))]);
  if (!done) await killRun(run);
}

interface Scenario {
  readonly usherArgs: readonly string[];
  /** The longest one stop (SIGTERM to usher -> usher exited) may take before the test fails. */
  readonly stopWithinMs: number;
}

interface Outcome extends LoadResult {
  /** Per restart: ms from SIGTERM to HAProxy reporting the old server DOWN. */
  readonly detectionMs: number[];
  /** Per restart: ms from SIGTERM to the old usher's exit. */
  readonly stopMs: number[];
  /** Per restart: ms from the new usher's start to HAProxy reporting it UP. */
  readonly upMs: number[];
  /** Per restart: whether the new app listened already when HAProxy first saw it UP. */
  readonly listeningWhenUp: boolean[];
  /** The old ushers' logs, in the order they were stopped. */
  readonly stoppedLogs: string[][];
  readonly haproxyCounters: Record<string, Record<string, string>>;
}

async function rollingRestart(scenario: Scenario): Promise<Outcome> {
  const dir = mkdtempSync(path.join(tmpdir(), 'usher-rolling-port-'));
  const [frontendPort, ...ports] = await freePorts(5);
  const servers: Backend[] = [
    { name: 'a', port: ports[0]!, checkPort: ports[1]! },
    { name: 'b', port: ports[2]!, checkPort: ports[3]! },
  ];
  const instances: Instance[] = [];
  let haproxy: Haproxy | undefined;
  let load: Load | undefined;
  const outcome = { detectionMs: [] as number[], stopMs: [] as number[], upMs: [] as number[], listeningWhenUp: [] as boolean[], stoppedLogs: [] as string[][] };
  try {
    const current = await Promise.all(servers.map((server) => startInstance(server, 1, scenario.usherArgs)));
    instances.push(...current);
    // The starting point is not under test: both apps listen before HAProxy and the load start.
    await Promise.all(current.map(({ run }) => run.waitForStdout(/^listening /m, WAIT_MS)));
    haproxy = startHaproxy({ binary: (HAPROXY as { path: string }).path, dir, frontendPort: frontendPort!, servers, interMs: INTER_MS, fall: 2, rise: 1 });
    for (const server of servers) await haproxy.waitForStatus(server.name, (status) => status === 'UP', 'UP', WAIT_MS);

    load = startLoad({ port: frontendPort!, concurrency: CONCURRENCY, maxRequests: MAX_REQUESTS });
    await load.waitForMoreSuccesses(300, WAIT_MS);

    for (let round = 1; round <= ROUNDS; round++) {
      for (const [index, server] of servers.entries()) {
        const old = current[index]!;
        const terminated = Date.now();
        old.run.kill('SIGTERM');
        // The stop side is left to HAProxy's health checks of /readyz alone.
        outcome.detectionMs.push(await haproxy.waitForStatus(server.name, (status) => status.startsWith('DOWN'), 'DOWN', WAIT_MS));
        const exit = await bounded(old.run.exited, `the usher of ${old.name} to exit after SIGTERM\n${old.run.stderr.slice(-3000)}`, scenario.stopWithinMs);
        outcome.stopMs.push(Date.now() - terminated);
        outcome.stoppedLogs.push(old.run.logs.map((line) => line.msg));
        expect(exit, `old usher of ${old.name}: the app exits 0 on SIGTERM`).toEqual({ code: 0, signal: null });

        // The replacement, on the same ports: HAProxy brings it UP through /readyz alone.
        const started = Date.now();
        const replacement = await startInstance(server, round + 1, scenario.usherArgs);
        instances.push(replacement);
        current[index] = replacement;
        await haproxy.waitForStatus(server.name, (status) => status === 'UP', 'UP', WAIT_MS);
        outcome.upMs.push(Date.now() - started);
        outcome.listeningWhenUp.push(/^listening /m.test(replacement.run.stdout));
      }
    }

    // The load goes on until both of the last instances served (with --ready-port none the last
    // one may not listen yet when HAProxy calls it UP).
    const served = (now: LoadResult, name: string): number => Object.entries(now.byInstance).reduce((sum, [instance, count]) => sum + (instance.startsWith(`${name} `) ? count : 0), 0);
    await load.waitFor((now) => current.every(({ name }) => served(now, name) >= 100), 'both new instances to serve 100 requests', WAIT_MS);
    const result = await load.stop();
    const stats = await haproxy.serverStats();
    const haproxyCounters = Object.fromEntries([...stats].map(([name, row]) => [name, { econ: row.econ!, eresp: row.eresp!, wretr: row.wretr!, wredis: row.wredis! }]));
    return { ...result, ...outcome, haproxyCounters };
  } finally {
    await load?.stop();
    await Promise.all(instances.map(stopInstance));
    await haproxy?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : Math.round((sorted[middle - 1]! + sorted[middle]!) / 2);
}

function report(label: string, outcome: Outcome): void {
  console.log(`rolling restart ${label}: ${outcome.failures} failed / ${outcome.sent} requests (${outcome.successes} ok); `
    + `failures by kind ${JSON.stringify(outcome.failureKinds)}; detection ${outcome.detectionMs.join(', ')} ms; `
    + `stops ${outcome.stopMs.join(', ')} ms (median ${median(outcome.stopMs)}); start to UP ${outcome.upMs.join(', ')} ms; `
    + `listening when UP ${outcome.listeningWhenUp.join(', ')}; answered by ${JSON.stringify(outcome.byInstance)}; haproxy ${JSON.stringify(outcome.haproxyCounters)}`);
}

function expectEveryInstanceServed(outcome: Outcome): void {
  // The rollouts really happened under load: every generation of both instances answered requests.
  for (let generation = 1; generation <= ROUNDS + 1; generation++) {
    for (const name of [`a${generation}`, `b${generation}`]) {
      expect(Object.keys(outcome.byInstance).some((instance) => instance.startsWith(`${name} `)), `instance ${name} served requests: ${JSON.stringify(outcome.byInstance)}`).toBe(true);
    }
  }
  for (const counters of Object.values(outcome.haproxyCounters)) expect(counters).toMatchObject({ wretr: '0', wredis: '0' });
}

describe('rolling restart of an app slow to listen, behind HAProxy (real processes)', () => {
  it('with PORT alone (port readiness), no request fails', async () => {
    const outcome = await rollingRestart({ usherArgs: ['--drain', '3s', '--grace', '10s'], stopWithinMs: WAIT_MS });
    report('PORT, --drain 3s', outcome);
    expectEveryInstanceServed(outcome);
    expect(outcome.failures, JSON.stringify(outcome.failureKinds)).toBe(0);
    expect(outcome.listeningWhenUp, 'HAProxy saw each new instance UP only once its app listened').toEqual(outcome.upMs.map(() => true));
  }, 60_000);

  it('with --ready-port none the same rollout fails requests', async () => {
    const outcome = await rollingRestart({ usherArgs: ['--drain', '3s', '--grace', '10s', '--ready-port', 'none'], stopWithinMs: WAIT_MS });
    report('PORT, --ready-port none, --drain 3s', outcome);
    expectEveryInstanceServed(outcome);
    // Ready once spawned: HAProxy routes to the new app during the second before it listens.
    expect(outcome.listeningWhenUp).toContain(false);
    expect(outcome.failures).toBeGreaterThan(0);
  }, 60_000);

  it('with --drain 30s --drain-idle 1s, each stop ends once HAProxy stopped sending, and no request fails', async () => {
    const outcome = await rollingRestart({ usherArgs: ['--drain', '30s', '--drain-idle', '1s', '--grace', '10s'], stopWithinMs: 10_000 });
    report('PORT, --drain 30s --drain-idle 1s', outcome);
    console.log(`stops with --drain-idle 1s: median ${median(outcome.stopMs)} ms of ${outcome.stopMs.length} (${outcome.stopMs.join(', ')} ms)`);
    expectEveryInstanceServed(outcome);
    for (const logs of outcome.stoppedLogs) expect(logs.filter((msg) => msg.startsWith('drain ended'))).toEqual([expect.stringMatching(/^drain ended after \S+: no traffic for 1s$/)]);
    for (const ms of outcome.stopMs) expect(ms).toBeLessThan(10_000);
    expect(outcome.failures, JSON.stringify(outcome.failureKinds)).toBe(0);
  }, 60_000);
});
