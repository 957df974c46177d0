import { describe, expect, it } from 'vitest';
import { escapeLabelValue, renderMetrics, type MetricsInput } from '../../src/http/metrics.js';
import type { CheckRecord, InitScriptRecord, StateFile } from '../../src/state/schema.js';

const NOW = 1_700_000_100_000;

interface Sample {
  readonly labels: Record<string, string>;
  readonly value: number;
}

interface ParsedFamily {
  help: string;
  type: string;
  readonly samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL_NAME = '[a-zA-Z_][a-zA-Z0-9_]*';
const LABEL_VALUE = '"(?:[^"\\\\\\n]|\\\\[\\\\"n])*"';
const LABEL = `${LABEL_NAME}=${LABEL_VALUE}`;
const VALUE = '(?:[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?|NaN|[+-]Inf)';
const SAMPLE = new RegExp(`^(${NAME})(?:\\{(${LABEL}(?:,${LABEL})*)\\})? (${VALUE})$`);
const HELP = new RegExp(`^# HELP (${NAME}) ((?:[^\\\\\\n]|\\\\[\\\\n])*)$`);
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);

function unescape(value: string): string {
  return value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

/**
 * A strict reader of the text exposition format: every line is HELP, TYPE or a sample; each
 * family has one HELP and one TYPE, before its samples, which come together and never repeat.
 */
function parseExposition(text: string): Map<string, ParsedFamily> {
  expect(text.endsWith('\n')).toBe(true);
  const families = new Map<string, ParsedFamily>();
  const closed = new Set<string>();
  const series = new Set<string>();
  let current: string | undefined;
  const open = (name: string): ParsedFamily => {
    if (name !== current) {
      expect(closed.has(name), `${name} appears in two places`).toBe(false);
      if (current) closed.add(current);
      current = name;
    }
    let family = families.get(name);
    if (!family) families.set(name, (family = { help: '', type: '', samples: [] }));
    return family;
  };
  for (const line of text.slice(0, -1).split('\n')) {
    const help = HELP.exec(line);
    const type = TYPE.exec(line);
    const sample = SAMPLE.exec(line);
    if (help) {
      const family = open(help[1] ?? '');
      expect(family.help, `second HELP for ${help[1]}`).toBe('');
      expect(family.samples).toEqual([]);
      family.help = unescape(help[2] ?? '');
    } else if (type) {
      const family = open(type[1] ?? '');
      expect(family.type, `second TYPE for ${type[1]}`).toBe('');
      expect(family.samples).toEqual([]);
      family.type = type[2] ?? '';
    } else if (sample) {
      const name = sample[1] ?? '';
      const family = open(name);
      expect(family.type, `${name} sample before its TYPE`).not.toBe('');
      if (family.type === 'counter') expect(name).toMatch(/_total$/);
      expect(series.has(`${name}{${sample[2] ?? ''}}`), `repeated series ${line}`).toBe(false);
      series.add(`${name}{${sample[2] ?? ''}}`);
      const labels: Record<string, string> = {};
      for (const match of (sample[2] ?? '').matchAll(new RegExp(`(${LABEL_NAME})=(${LABEL_VALUE})`, 'g'))) {
        const labelName = match[1] ?? '';
        expect(labels[labelName], `label ${labelName} twice in ${line}`).toBeUndefined();
        labels[labelName] = unescape((match[2] ?? '""').slice(1, -1));
      }
      family.samples.push({ labels, value: Number(sample[3]) });
    } else {
      throw new Error(`not a valid exposition line: ${JSON.stringify(line)}`);
    }
  }
  for (const [name, family] of families) {
    expect(family.help, `${name} has no HELP`).not.toBe('');
    expect(family.type, `${name} has no TYPE`).not.toBe('');
  }
  return families;
}

function script(overrides: Partial<InitScriptRecord> & { name: string }): InitScriptRecord {
  return { path: `/etc/usher/init.d/${overrides.name}`, status: 'ok', startedAt: null, endedAt: null, exitCode: null, signal: null, ...overrides };
}

function check(overrides: Partial<CheckRecord> & { id: string }): CheckRecord {
  return {
    kind: 'ready', type: 'http', target: 'http://127.0.0.1:8080/health', status: 'unknown', consecutiveFailures: 0, consecutiveSuccesses: 0,
    lastRunAt: null, lastDurationMs: null, lastResult: null, output: '', lastDetail: '', ...overrides,
  };
}

const WEIRD = 'we"ird\\name\nline2.sh';

function state(overrides: Partial<StateFile> = {}): StateFile {
  return {
    version: 1, usherPid: 1, heartbeatAt: NOW - 1000, heartbeatMs: 2000, staleAfterMs: 10_000,
    startupCode: 0, readyCode: 3, liveCode: 0,
    startupReason: '', readyReason: 'check ready-http-1 failing', liveReason: '', startupDetail: '', readyDetail: '', liveDetail: '',
    reasonSince: NOW - 5000, phase: 'running', appPid: 42, startedAt: NOW - 90_500, exitCode: -1, appStatus: '', appMainPid: 0,
    readiness: [{ source: 'app', ready: true, reason: '' }, { source: 'ports', ready: true, reason: '' }, { source: 'checks', ready: false, reason: 'check ready-http-1 failing' }],
    readinessHeldBy: 'checks', readyPorts: [8080],
    timeline: [{ phase: 'initializing', at: NOW - 90_500 }, { phase: 'running', at: NOW - 80_000 }],
    init: [
      script({ name: '10-migrate.sh', status: 'ok', startedAt: NOW - 90_000, endedAt: NOW - 88_500, exitCode: 0 }),
      script({ name: '20-warm.sh', status: 'timeout', startedAt: NOW - 88_000, endedAt: NOW - 85_750, signal: 'SIGKILL' }),
      script({ name: WEIRD, status: 'failed', startedAt: NOW - 85_000, endedAt: NOW - 84_999, exitCode: 3 }),
      script({ name: '90-later.sh', status: 'pending' }),
    ],
    checks: [
      check({ id: 'ready-http-1', status: 'failing', consecutiveFailures: 3, lastRunAt: NOW - 100, lastDurationMs: 12, lastResult: 'HTTP 500' }),
      check({ id: 'live-cmd-1', kind: 'live', type: 'cmd', target: 'curl -u admin:hunter2 http://localhost', status: 'passing', consecutiveSuccesses: 7, lastRunAt: NOW - 200, lastDurationMs: 1500, lastResult: 'ok', output: 'TOKEN=s3cret' }),
      check({ id: 'ready-tcp-1', type: 'tcp', target: '127.0.0.1:5432' }),
    ],
    lastReload: { at: NOW - 30_000, path: '/run/secrets/tls.crt', signal: 'SIGHUP' },
    ...overrides,
  };
}

function input(overrides: Partial<MetricsInput> = {}): MetricsInput {
  return { state: state(), counters: { signalsForwarded: { SIGWINCH: 4, SIGHUP: 2 }, orphansReaped: 17, appStarts: 1 }, now: NOW, ...overrides };
}

function values(families: Map<string, ParsedFamily>, name: string): Sample[] {
  const family = families.get(name);
  if (!family) throw new Error(`no family ${name}`);
  return family.samples;
}

const FAMILIES: Record<string, 'gauge' | 'counter'> = {
  usher_phase: 'gauge',
  usher_started: 'gauge',
  usher_ready: 'gauge',
  usher_live: 'gauge',
  usher_probe_code: 'gauge',
  usher_uptime_seconds: 'gauge',
  usher_readiness_source_ready: 'gauge',
  usher_readiness_held_by: 'gauge',
  usher_init_script_duration_seconds: 'gauge',
  usher_init_script_exit_code: 'gauge',
  usher_check_passing: 'gauge',
  usher_check_duration_seconds: 'gauge',
  usher_check_consecutive_failures: 'gauge',
  usher_signals_forwarded_total: 'counter',
  usher_orphans_reaped_total: 'counter',
  usher_app_restarts_total: 'counter',
  usher_last_reload_timestamp_seconds: 'gauge',
};

describe('renderMetrics', () => {
  it('names each part of readiness and the one holding it back', () => {
    const families = parseExposition(renderMetrics(input()));
    expect(values(families, 'usher_readiness_source_ready')).toEqual([{ labels: { source: 'app' }, value: 1 }, { labels: { source: 'ports' }, value: 1 }, { labels: { source: 'checks' }, value: 0 }]);
    expect(values(families, 'usher_readiness_held_by')).toEqual([{ labels: { source: 'checks' }, value: 1 }]);
  });

  it('writes valid exposition text: every line parses, each family once with HELP and TYPE', () => {
    const families = parseExposition(renderMetrics(input()));
    expect(Object.fromEntries([...families].map(([name, family]) => [name, family.type]))).toEqual(FAMILIES);
  });

  it('stays valid with nothing to show yet (no scripts, checks, signals or reload)', () => {
    const text = renderMetrics(input({ state: state({ init: [], checks: [], lastReload: null, phase: 'initializing' }), counters: { signalsForwarded: {}, orphansReaped: 0, appStarts: 1 } }));
    const families = parseExposition(text);
    expect(Object.keys(FAMILIES).every((name) => families.has(name))).toBe(true);
    expect(values(families, 'usher_last_reload_timestamp_seconds')).toEqual([]);
    expect(values(families, 'usher_signals_forwarded_total')).toEqual([]);
  });

  it('gives the phase, probe and counter values of the state', () => {
    const families = parseExposition(renderMetrics(input()));
    expect(values(families, 'usher_phase')).toEqual([
      { labels: { phase: 'initializing' }, value: 0 },
      { labels: { phase: 'running' }, value: 1 },
      { labels: { phase: 'draining' }, value: 0 },
      { labels: { phase: 'stopping' }, value: 0 },
      { labels: { phase: 'exited' }, value: 0 },
    ]);
    expect(values(families, 'usher_started')).toEqual([{ labels: {}, value: 1 }]);
    expect(values(families, 'usher_ready')).toEqual([{ labels: {}, value: 0 }]);
    expect(values(families, 'usher_live')).toEqual([{ labels: {}, value: 1 }]);
    expect(values(families, 'usher_probe_code')).toEqual([
      { labels: { probe: 'startup' }, value: 0 },
      { labels: { probe: 'ready' }, value: 3 },
      { labels: { probe: 'live' }, value: 0 },
    ]);
    expect(values(families, 'usher_uptime_seconds')).toEqual([{ labels: {}, value: 90.5 }]);
    expect(values(families, 'usher_signals_forwarded_total')).toEqual([
      { labels: { signal: 'SIGHUP' }, value: 2 },
      { labels: { signal: 'SIGWINCH' }, value: 4 },
    ]);
    expect(values(families, 'usher_orphans_reaped_total')).toEqual([{ labels: {}, value: 17 }]);
    expect(values(families, 'usher_app_restarts_total')).toEqual([{ labels: {}, value: 0 }]);
    expect(families.get('usher_app_restarts_total')?.help).toMatch(/usher never restarts the app/);
    expect(values(families, 'usher_last_reload_timestamp_seconds')).toEqual([{ labels: {}, value: 1_700_000_070 }]);
  });

  it('shows every phase in turn', () => {
    for (const phase of ['initializing', 'running', 'draining', 'stopping', 'exited'] as const) {
      const samples = values(parseExposition(renderMetrics(input({ state: state({ phase }) }))), 'usher_phase');
      expect(samples.filter((sample) => sample.value === 1)).toEqual([{ labels: { phase }, value: 1 }]);
      expect(samples).toHaveLength(5);
    }
  });

  it('reports ended init scripts only, with 128+N for a signal, and escapes their names', () => {
    const families = parseExposition(renderMetrics(input()));
    expect(values(families, 'usher_init_script_duration_seconds')).toEqual([
      { labels: { script: '10-migrate.sh' }, value: 1.5 },
      { labels: { script: '20-warm.sh' }, value: 2.25 },
      { labels: { script: WEIRD }, value: 0.001 },
    ]);
    expect(values(families, 'usher_init_script_exit_code')).toEqual([
      { labels: { script: '10-migrate.sh' }, value: 0 },
      { labels: { script: '20-warm.sh' }, value: 137 },
      { labels: { script: WEIRD }, value: 3 },
    ]);
  });

  it('reports every check: passing, last duration and consecutive failures', () => {
    const families = parseExposition(renderMetrics(input()));
    expect(values(families, 'usher_check_passing')).toEqual([
      { labels: { check: 'ready-http-1', kind: 'ready', type: 'http' }, value: 0 },
      { labels: { check: 'live-cmd-1', kind: 'live', type: 'cmd' }, value: 1 },
      { labels: { check: 'ready-tcp-1', kind: 'ready', type: 'tcp' }, value: 0 },
    ]);
    expect(values(families, 'usher_check_duration_seconds')).toEqual([
      { labels: { check: 'ready-http-1' }, value: 0.012 },
      { labels: { check: 'live-cmd-1' }, value: 1.5 },
    ]);
    expect(values(families, 'usher_check_consecutive_failures')).toEqual([
      { labels: { check: 'ready-http-1' }, value: 3 },
      { labels: { check: 'live-cmd-1' }, value: 0 },
      { labels: { check: 'ready-tcp-1' }, value: 0 },
    ]);
  });

  it('escapes backslash, double quote and newline in label values, in the text itself', () => {
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    const text = renderMetrics(input());
    expect(text).toContain('usher_init_script_exit_code{script="we\\"ird\\\\name\\nline2.sh"} 3\n');
    const signals = renderMetrics(input({ counters: { signalsForwarded: { 'SIG"\\\n': 1 }, orphansReaped: 0, appStarts: 1 } }));
    expect(values(parseExposition(signals), 'usher_signals_forwarded_total')).toEqual([{ labels: { signal: 'SIG"\\\n' }, value: 1 }]);
  });

  it('never shows check targets or output, paths, or anything of the app but its state', () => {
    const text = renderMetrics(input());
    for (const secret of ['hunter2', 's3cret', '/run/secrets', '/etc/usher/init.d', '127.0.0.1', 'localhost', 'HTTP 500']) expect(text).not.toContain(secret);
  });

  it('writes a repeated series once, keeping the scrape valid', () => {
    const twice = state({ init: [script({ name: 'a.sh', startedAt: NOW - 2000, endedAt: NOW - 1000, exitCode: 0 }), script({ name: 'a.sh', startedAt: NOW - 900, endedAt: NOW - 800, exitCode: 1 })] });
    expect(values(parseExposition(renderMetrics(input({ state: twice }))), 'usher_init_script_exit_code')).toEqual([{ labels: { script: 'a.sh' }, value: 0 }]);
  });
});
