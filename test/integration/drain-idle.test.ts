import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { unshareArgs } from '../helpers/namespaces.js';
import { FIXTURES, runUsher, USHER } from '../helpers/usher.js';

// --drain-idle with real connections on loopback, each scenario in a network namespace of its
// own (a pod has one): nothing else on the machine accepts connections there, so the timings
// are the app's alone.

const APP = path.join(FIXTURES, 'listen-app.mjs');
const SCENARIO = path.join(FIXTURES, 'drain-scenario.mjs');

interface Outcome {
  readonly code: number;
  readonly termSent: number;
  readonly lastByte: number;
  readonly appTerm: number;
  readonly ended: string | null;
}

function scenario(drain: string, idle: string, traffic: 'trickle' | 'forever' | 'churn', trafficMs = 0): Outcome {
  const [unshare, ...flags] = unshareArgs('--net');
  const script = 'ip link set lo up && exec "$@"';
  const run = spawnSync(unshare!, [...flags, 'sh', '-c', script, 'sh', process.execPath, SCENARIO, USHER, APP, drain, idle, traffic, String(trafficMs)], { encoding: 'utf8', timeout: 90_000 });
  const line = run.stdout.trim().split('\n').at(-1) ?? '';
  let outcome: Outcome & { error?: string };
  try {
    outcome = JSON.parse(line) as Outcome & { error?: string };
  } catch {
    throw new Error(`the scenario gave no result: status ${run.status}, stdout ${run.stdout}, stderr ${run.stderr}`);
  }
  if (outcome.error) throw new Error(outcome.error);
  return outcome;
}

describe('--drain-idle', () => {
  it('ends the drain within DURATION + 100 ms of the last inbound byte', () => {
    const outcome = scenario('20s', '500ms', 'trickle', 400);
    expect(outcome.code).toBe(0);
    expect(outcome.appTerm - outcome.lastByte).toBeGreaterThanOrEqual(490);
    expect(outcome.appTerm - outcome.lastByte).toBeLessThanOrEqual(600);
    expect(outcome.ended).toMatch(/^drain ended after (\d+ms|\d\.\ds): no traffic for 500ms$/);
  });

  it('ends the drain at its limit while traffic keeps arriving', () => {
    const outcome = scenario('1500ms', '300ms', 'forever');
    expect(outcome.appTerm - outcome.termSent).toBeGreaterThanOrEqual(1450);
    expect(outcome.ended).toBe('drain ended at its limit of 1500ms: traffic still arriving');
  });

  it('counts connections that open and close between two polls (new connections are traffic too)', () => {
    const outcome = scenario('1500ms', '300ms', 'churn');
    expect(outcome.appTerm - outcome.termSent).toBeGreaterThanOrEqual(1450);
    expect(outcome.ended).toBe('drain ended at its limit of 1500ms: traffic still arriving');
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
