import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatElapsed } from '../../src/config/duration.js';
import { noUsherLine, probeLine, readState } from '../../src/state/reader.js';
import type { ProbeCode, StateFile } from '../../src/state/schema.js';

const NOW = 1_700_000_100_000;

function state(overrides: Partial<StateFile> = {}): StateFile {
  return {
    version: 1, usherPid: process.pid, heartbeatAt: NOW - 1000, heartbeatMs: 2000, staleAfterMs: 10_000,
    startupCode: 0, readyCode: 1, liveCode: 0,
    startupReason: '', readyReason: 'init script 10-migrate.sh running', liveReason: '', startupDetail: '', readyDetail: '', liveDetail: '',
    reasonSince: NOW - 252_000, phase: 'initializing', appPid: 0, startedAt: NOW - 260_000, exitCode: -1,
    timeline: [{ phase: 'initializing', at: NOW - 260_000 }], init: [], checks: [], lastReload: null, appStatus: '', appMainPid: 0, readiness: [], readinessHeldBy: '', readyPorts: [],
    ...overrides,
  };
}

/** A pid that no process has: one of a child that has exited and been waited for. */
function deadPid(): number {
  const child = spawnSync('sh', ['-c', 'echo $$']);
  return Number(String(child.stdout).trim());
}

describe('formatElapsed', () => {
  it.each([[0, '0s'], [12, '12s'], [59.9, '59s'], [60, '1m0s'], [252, '4m12s'], [3599, '59m59s'], [3600, '1h0m'], [3780, '1h3m'], [90_000, '25h0m'], [-5, '0s']])(
    '%s s is %s', (seconds, text) => {
      expect(formatElapsed(seconds)).toBe(text);
    });
});

describe('probeLine', () => {
  it('says why not ready, and for how long', () => {
    expect(probeLine('ready', state(), NOW)).toEqual({ code: 1, line: 'not ready: init script 10-migrate.sh running for 4m12s' });
  });

  it('counts whole seconds the way `date +%s` does', () => {
    // reasonSince 999 ms into a second, now 1 ms into the next: one second has passed, as in sh.
    const s = state({ reasonSince: NOW - 1, readyReason: 'x' });
    expect(probeLine('ready', s, NOW + 1).line).toBe('not ready: x for 1s');
    expect(probeLine('ready', state({ reasonSince: NOW - 1001, readyReason: 'x' }), NOW).line).toBe('not ready: x for 2s');
  });

  it('leaves out "for" when reasonSince is 0, and the colon when there is no reason', () => {
    expect(probeLine('ready', state({ reasonSince: 0 }), NOW).line).toBe('not ready: init script 10-migrate.sh running');
    expect(probeLine('ready', state({ readyReason: '' }), NOW).line).toBe('not ready');
  });

  it.each([['startup', 'started'], ['ready', 'ready'], ['live', 'live']] as const)('%s ok says %s and what runs', (kind, label) => {
    const s = state({ startupCode: 0, readyCode: 0, liveCode: 0, phase: 'running', appPid: 123 });
    expect(probeLine(kind, s, NOW)).toEqual({ code: 0, line: `${label}: app running (pid 123)` });
  });

  it('ok outside running names the phase', () => {
    expect(probeLine('live', state(), NOW).line).toBe(`live: initializing (usher pid ${process.pid})`);
    expect(probeLine('live', state({ phase: 'draining', appPid: 7 }), NOW).line).toBe('live: draining (app pid 7)');
  });

  it.each([1, 2, 3, 4, 5] as ProbeCode[])('passes code %i through, with the kind\'s label', (code) => {
    const s = state({ startupCode: code, startupReason: 'because', reasonSince: 0 });
    expect(probeLine('startup', s, NOW)).toEqual({ code, line: 'not started: because' });
  });

  it('noUsherLine', () => {
    expect(noUsherLine('live', 'no state.json in /d')).toBe('not live: no usher running (no state.json in /d)');
  });
});

describe('readState', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'usher-reader-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const put = (content: unknown): void => writeFileSync(path.join(dir, 'state.json'), typeof content === 'string' ? content : JSON.stringify(content, null, 2));

  it('reads a live state', () => {
    put(state());
    expect(readState(dir, NOW)).toEqual({ ok: true, state: state() });
  });

  it('6 when the directory or the file is missing', () => {
    expect(readState(path.join(dir, 'nope'), NOW)).toEqual({ ok: false, code: 6, reason: `no state.json in ${dir}/nope` });
    expect(readState(dir, NOW)).toEqual({ ok: false, code: 6, reason: `no state.json in ${dir}` });
    mkdirSync(path.join(dir, 'state.json'));
    expect(readState(dir, NOW)).toMatchObject({ ok: false, code: 6, reason: `no state.json in ${dir}` });
  });

  it.each([
    ['not JSON', '{"version": 1, "usherPid'],
    ['not an object', '[1]'],
    ['a version that is not a number', { ...state(), version: '1' }],
    ['a code out of range', { ...state(), liveCode: 7 }],
    ['a missing reason', { ...state(), readyReason: undefined }],
    ['pid 0', { ...state(), usherPid: 0 }],
    ['a fractional heartbeat', { ...state(), heartbeatAt: 1.5 }],
  ])('6 for %s', (_what, content) => {
    put(content);
    expect(readState(dir, NOW)).toEqual({ ok: false, code: 6, reason: `state.json in ${dir} is not valid usher state` });
  });

  it('6 for another version', () => {
    put({ ...state(), version: 2 });
    expect(readState(dir, NOW)).toEqual({ ok: false, code: 6, reason: `state.json in ${dir} has version 2, this usher reads version 1` });
  });

  it('6 when the usher pid is gone, with the state for `usher status`', () => {
    const pid = deadPid();
    put(state({ usherPid: pid }));
    expect(readState(dir, NOW)).toEqual({ ok: false, code: 6, reason: `state in ${dir} is left over: usher pid ${pid} is gone`, state: state({ usherPid: pid }) });
  });

  it('6 when the heartbeat is older than staleAfterMs, in whole seconds', () => {
    put(state({ heartbeatAt: NOW - 42_000 }));
    expect(readState(dir, NOW)).toMatchObject({ ok: false, code: 6, reason: `state in ${dir} is stale: heartbeat 42s ago` });
    put(state({ heartbeatAt: NOW - 10_000 }));
    expect(readState(dir, NOW + 999).ok).toBe(true); // 10.999 s, but `date +%s` says 10 s
    expect(readState(dir, NOW + 1000).ok).toBe(false);
  });

  it('a heartbeat from the future (a clock set back) is not stale', () => {
    put(state({ heartbeatAt: NOW + 60_000 }));
    expect(readState(dir, NOW).ok).toBe(true);
  });
});
