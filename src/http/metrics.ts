import { constants } from 'node:os';
import { PHASES } from '../lifecycle/phases.js';
import type { StateFile } from '../state/schema.js';

/**
 * `/metrics` in Prometheus' text exposition format (0.0.4), written by hand.
 *
 * Why not prom-client: usher must start fast (it sits before the app on every container start),
 * and prom-client is a registry library of some thirty modules plus dependencies (tdigest,
 * bintrees) that would have to be loaded and compiled at start-up or on the first scrape. It is
 * not installed here, so its start-up cost was not measured. usher's metrics are a dozen gauges
 * and counters read off the state file at scrape time, with no histograms and no
 * registry: this writer covers them in about a hundred lines and loads nothing.
 *
 * It shows names and numbers only: never the app's argv or environment, nor a check's target
 * (a command line may carry a password), a check's output, or paths.
 */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricsCounters {
  /** Signals forwarded to the app, by name (`SIGHUP`), as forwarded. */
  readonly signalsForwarded: Readonly<Record<string, number>>;
  readonly orphansReaped: number;
  /** Times usher started the app: 1 once it runs (usher never restarts it; the orchestrator restarts the container). */
  readonly appStarts: number;
}

export interface MetricsInput {
  readonly state: StateFile;
  readonly counters: MetricsCounters;
  /** Epoch milliseconds. */
  readonly now: number;
}

type Labels = Readonly<Record<string, string>>;

interface Family {
  readonly name: string;
  readonly type: 'gauge' | 'counter';
  readonly help: string;
  readonly samples: ReadonlyArray<readonly [Labels, number]>;
}

const NO_LABELS: Labels = {};

export function renderMetrics(input: MetricsInput): string {
  return [...lifecycleFamilies(input.state, input.now), ...scriptAndCheckFamilies(input.state), ...counterFamilies(input.state, input.counters)].map(renderFamily).join('');
}

const flag = (on: boolean): number => (on ? 1 : 0);

/** Phase, probe answers and uptime. */
function lifecycleFamilies(state: StateFile, now: number): Family[] {
  return [
    {
      name: 'usher_phase',
      type: 'gauge',
      help: 'The lifecycle phase usher is in: 1 for the current phase, 0 for the others.',
      samples: PHASES.map((phase) => [{ phase }, flag(phase === state.phase)]),
    },
    { name: 'usher_started', type: 'gauge', help: 'Whether the startup probe passes (1) or not (0).', samples: [[NO_LABELS, flag(state.startupCode === 0)]] },
    { name: 'usher_ready', type: 'gauge', help: 'Whether the readiness probe passes (1) or not (0).', samples: [[NO_LABELS, flag(state.readyCode === 0)]] },
    { name: 'usher_live', type: 'gauge', help: 'Whether the liveness probe passes (1) or not (0).', samples: [[NO_LABELS, flag(state.liveCode === 0)]] },
    {
      name: 'usher_probe_code',
      type: 'gauge',
      help: 'The exit code `usher probe` gives for each probe: 0 ok, 1 not yet, 2 init failed, 3 check failing, 4 stopping, 5 app exited.',
      samples: [
        [{ probe: 'startup' }, state.startupCode],
        [{ probe: 'ready' }, state.readyCode],
        [{ probe: 'live' }, state.liveCode],
      ],
    },
    { name: 'usher_uptime_seconds', type: 'gauge', help: 'Seconds since usher started.', samples: [[NO_LABELS, Math.max(0, (now - state.startedAt) / 1000)]] },
    {
      name: 'usher_readiness_source_ready',
      type: 'gauge',
      help: 'Whether each part of readiness says ready (1) or not (0): init, app, ports, checks, ready-fd, notify-socket, as configured.',
      samples: (state.readiness ?? []).map((source) => [{ source: source.source }, flag(source.ready)]),
    },
    {
      name: 'usher_readiness_held_by',
      type: 'gauge',
      help: 'The part of readiness that holds it back (1), if any: the first one not ready, outside a stop.',
      samples: state.readinessHeldBy ? [[{ source: state.readinessHeldBy }, 1]] : [],
    },
  ];
}

/** Each init script's duration and code, each check's result. */
function scriptAndCheckFamilies(state: StateFile): Family[] {
  const ended = state.init.filter((script) => script.endedAt !== null);
  return [
    {
      name: 'usher_init_script_duration_seconds',
      type: 'gauge',
      help: 'How long each init script that has ended ran, in seconds.',
      samples: ended.filter((script) => script.startedAt !== null).map((script) => [{ script: script.name }, ((script.endedAt ?? 0) - (script.startedAt ?? 0)) / 1000]),
    },
    {
      name: 'usher_init_script_exit_code',
      type: 'gauge',
      help: 'The exit code of each init script that has ended; 128+N when signal N ended it.',
      samples: ended.flatMap((script): Array<readonly [Labels, number]> => {
        const code = script.exitCode ?? (script.signal ? signalExitCode(script.signal) : null);
        return code === null ? [] : [[{ script: script.name }, code]];
      }),
    },
    {
      name: 'usher_check_passing',
      type: 'gauge',
      help: 'Whether each readiness or liveness check passes (1) or not (0: failing, or not yet run).',
      samples: state.checks.map((check) => [{ check: check.id, kind: check.kind, type: check.type }, flag(check.status === 'passing')]),
    },
    {
      name: 'usher_check_duration_seconds',
      type: 'gauge',
      help: 'How long the last run of each check took, in seconds.',
      samples: state.checks.flatMap((check): Array<readonly [Labels, number]> => (check.lastDurationMs === null ? [] : [[{ check: check.id }, check.lastDurationMs / 1000]])),
    },
    {
      name: 'usher_check_consecutive_failures',
      type: 'gauge',
      help: 'How many times in a row each check has failed.',
      samples: state.checks.map((check) => [{ check: check.id }, check.consecutiveFailures]),
    },
  ];
}

/** What usher did: signals sent, orphans reaped, restarts, the last reload. */
function counterFamilies(state: StateFile, counters: MetricsCounters): Family[] {
  return [
    {
      name: 'usher_signals_forwarded_total',
      type: 'counter',
      help: 'Signals usher forwarded to the app, by signal.',
      samples: Object.keys(counters.signalsForwarded)
        .sort()
        .map((signal) => [{ signal }, counters.signalsForwarded[signal] ?? 0]),
    },
    { name: 'usher_orphans_reaped_total', type: 'counter', help: 'Orphaned processes usher reaped (zombies it did not spawn).', samples: [[NO_LABELS, counters.orphansReaped]] },
    {
      name: 'usher_app_restarts_total',
      type: 'counter',
      help: 'Times the app was started again after it exited (app starts beyond the first): usher never restarts the app, it exits with it and the orchestrator restarts the container.',
      samples: [[NO_LABELS, Math.max(0, counters.appStarts - 1)]],
    },
    {
      name: 'usher_last_reload_timestamp_seconds',
      type: 'gauge',
      help: 'When usher last sent the app its reload signal because a watched path changed, in seconds since the epoch.',
      samples: state.lastReload ? [[NO_LABELS, state.lastReload.at / 1000]] : [],
    },
  ];
}

function renderFamily(family: Family): string {
  let text = `# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}\n`;
  const seen = new Set<string>();
  for (const [labels, value] of family.samples) {
    const pairs = Object.entries(labels).map(([name, labelValue]) => `${name}="${escapeLabelValue(labelValue)}"`);
    const series = pairs.length > 0 ? `${family.name}{${pairs.join(',')}}` : family.name;
    if (seen.has(series)) continue; // a repeated series would make the whole scrape invalid
    seen.add(series);
    text += `${series} ${formatValue(value)}\n`;
  }
  return text;
}

/** Label values escape backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** HELP text escapes backslash and line feed. */
function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function signalExitCode(signal: string): number | null {
  const number = (constants.signals as Readonly<Record<string, number>>)[signal];
  return number === undefined ? null : 128 + number;
}
