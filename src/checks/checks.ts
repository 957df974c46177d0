import type { Unstamped } from '../lifecycle/types.js';
import type { Logger } from '../log/logger.js';
import type { CheckRecord } from '../state/schema.js';
import { runCheck, type CheckContext } from './run-check.js';
import type { CheckSpec, CheckTiming } from './check-spec.js';
import { shownTarget } from './redact.js';

const FIRST_DECISION_EVERY_MS = 1000;

export interface ChecksOptions {
  readonly specs: readonly CheckSpec[];
  readonly timing: CheckTiming;
  readonly context: Omit<CheckContext, 'timeoutMs'>;
  readonly log: Logger;
  /** The aggregate changed: readiness checks together, and liveness. */
  readonly report: (event: Unstamped<'checksChanged'>) => void;
  /** A record changed, for the state file. */
  readonly changed: () => void;
}

export interface Checks {
  readonly records: () => readonly CheckRecord[];
  start(): void;
  stop(): void;
}

/**
 * Runs every check on its own schedule, like a Kubernetes probe: the next run starts an
 * interval after the previous one ended (so a check never overlaps itself; every second
 * at most until it first passes or fails), a check passes
 * after `successes` successes in a row and fails after `failures` failures in a row, and
 * failures during the start period do not count.
 */
export function createChecks(options: ChecksOptions): Checks {
  const { timing } = options;
  // A record is what every output shows (state.json, /status, usher status): its target is the
  // one shown, without secrets; the check runs on its spec's.
  const records: CheckRecord[] = options.specs.map((spec) => ({
    id: spec.id, kind: spec.kind, type: spec.type, target: shownTarget(spec),
    status: 'unknown', consecutiveFailures: 0, consecutiveSuccesses: 0, lastRunAt: null, lastDurationMs: null, lastResult: null, output: '', lastDetail: '',
  }));
  const timers = new Map<string, NodeJS.Timeout>();
  let startedAt = 0;
  let running = false;
  let last = '';

  function aggregate(): void {
    const event = checksEvent(records);
    const key = JSON.stringify(event);
    if (key === last) return;
    last = key;
    options.report(event);
  }

  async function runOnce(index: number): Promise<void> {
    const spec = options.specs[index]!;
    const began = Date.now();
    const run = runCheck(spec, { ...options.context, timeoutMs: timing.timeoutMs });
    const outcome = await run.outcome;
    if (!running) return;
    const before = records[index]!;
    // An error's message may quote the real target: it is shown as the record's.
    const shown = (text: string): string => (spec.type === 'cmd' ? text : text.split(spec.target).join(before.target));
    const result = shown(outcome.result);
    const detail = shown(outcome.detail);
    const inStartPeriod = began - startedAt < timing.startPeriodMs;
    const successes = outcome.ok ? before.consecutiveSuccesses + 1 : 0;
    const failures = outcome.ok ? 0 : inStartPeriod ? before.consecutiveFailures : before.consecutiveFailures + 1;
    let status = before.status;
    if (successes >= timing.successes) status = 'passing';
    else if (failures >= timing.failures) status = 'failing';
    records[index] = {
      ...before, status, consecutiveFailures: failures, consecutiveSuccesses: successes,
      lastRunAt: began, lastDurationMs: Date.now() - began, lastResult: result, output: outcome.output, lastDetail: detail,
    };
    if (status !== before.status) logChange(options.log, spec, records[index]!);
    // The machine first, then the record's own publish: no state file shows a result whose code
    // does not follow from it (a reader could otherwise see `HTTP 503` and still "not yet").
    aggregate();
    options.changed();
    // Until a check has decided (passing or failing), it runs every second at most: an app
    // that listens 200 ms after its start must not wait a whole interval to be ready.
    const next = status === 'unknown' ? Math.min(timing.intervalMs, FIRST_DECISION_EVERY_MS) : timing.intervalMs;
    await run.released; // a body still coming (at most until the deadline): the run is not over
    if (!running) return;
    timers.set(spec.id, setTimeout(() => void runOnce(index), next));
  }

  return {
    records: () => records,
    start() {
      if (running || records.length === 0) return;
      running = true;
      startedAt = Date.now();
      aggregate();
      options.specs.forEach((_, index) => void runOnce(index));
    },
    stop() {
      running = false;
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
    },
  };
}

/** The readiness checks together, and liveness, as the machine takes them. */
function checksEvent(records: readonly CheckRecord[]): Unstamped<'checksChanged'> {
  const ready = records.filter((record) => record.kind === 'ready');
  const failingReady = ready.find((record) => record.status === 'failing');
  const failingLive = records.find((record) => record.kind === 'live' && record.status === 'failing');
  return {
    type: 'checksChanged',
    ready: ready.length === 0 ? 'none' : failingReady ? 'failing' : ready.every((record) => record.status === 'passing') ? 'passing' : 'unknown',
    readyReason: failingReady ? `readiness check ${failingReady.id} failing: ${failingReady.lastResult}` : null,
    liveFailing: failingLive ? `liveness check ${failingLive.id} failing: ${failingLive.lastResult}` : null,
    // Apart from the reason: a message that changes at every run must not restart its "for 3s".
    readyDetail: failingReady?.lastDetail ?? '',
    liveDetail: failingLive?.lastDetail ?? '',
  };
}

/** A check passing or failing from now on: one line, and a failing one says what the check said. */
function logChange(log: Logger, spec: CheckSpec, record: CheckRecord): void {
  const { status, lastResult: result, lastDetail: detail } = record;
  const why = status === 'failing' ? `: ${result}${detail ? `; ${detail}` : ''}` : '';
  log[status === 'passing' ? 'info' : 'warn'](
    { check: spec.id, target: spec.type === 'cmd' ? undefined : record.target, result, detail: detail || undefined },
    `${spec.kind === 'ready' ? 'readiness' : 'liveness'} check ${spec.id} ${status}${why}`,
  );
}
