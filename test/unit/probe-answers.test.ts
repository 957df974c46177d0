import { describe, expect, it } from 'vitest';
import { initialState } from '../../src/lifecycle/machine.js';
import { probeAnswers } from '../../src/lifecycle/probe-answers.js';
import { readiness } from '../../src/lifecycle/readiness.js';
import type { State } from '../../src/lifecycle/types.js';

function at(patch: Partial<State>): State {
  const state = { ...initialState, ...patch };
  return { ...state, ...readiness(state) };
}

const codes = (state: State) => {
  const answers = probeAnswers(state);
  return [answers.startup.code, answers.ready.code, answers.live.code];
};

describe('probe answers', () => {
  it('running and ready: all 0', () => {
    expect(codes(at({ phase: 'running', appPid: 5 }))).toEqual([0, 0, 0]);
  });
  it('slow init: startup and ready 1, live 0, with the script in the reason', () => {
    const state = at({ phase: 'initializing', init: { status: 'running', current: '10-migrate.sh', failure: null } });
    expect(codes(state)).toEqual([1, 1, 0]);
    expect(probeAnswers(state).ready.reason).toBe('init script 10-migrate.sh running');
  });
  it('init failed: 2 for startup and ready, live 0', () => {
    expect(codes(at({ phase: 'running', appPid: 5, init: { status: 'failed', current: null, failure: 'init script a failed' } }))).toEqual([2, 2, 0]);
  });
  it('a readiness check failing: ready 3; liveness failing: live 3', () => {
    expect(codes(at({ phase: 'running', appPid: 5, checks: { ready: 'failing', readyReason: 'x', liveFailing: null, readyDetail: '', liveDetail: '' } }))).toEqual([0, 3, 0]);
    expect(codes(at({ phase: 'running', appPid: 5, checks: { ready: 'none', readyReason: null, liveFailing: 'y', readyDetail: '', liveDetail: '' } }))).toEqual([0, 0, 3]);
  });
  it('draining or stopping: ready 4, live 0', () => {
    expect(codes(at({ phase: 'draining', appPid: 5, stopReason: 'draining: SIGTERM received' }))).toEqual([0, 4, 0]);
    expect(codes(at({ phase: 'stopping', appPid: 5, stopReason: 'stopping' }))).toEqual([0, 4, 0]);
  });
  it('the app exited: 5 everywhere', () => {
    expect(codes(at({ phase: 'stopping', appPid: 5, appExit: { code: 0, signal: null } }))).toEqual([5, 5, 5]);
  });
  it('checks not yet passed: ready 1', () => {
    expect(codes(at({ phase: 'running', appPid: 5, checks: { ready: 'unknown', readyReason: null, liveFailing: null, readyDetail: '', liveDetail: '' } }))).toEqual([0, 1, 0]);
  });
  it('a failing check says what it printed: the detail goes with its answer, and only with it', () => {
    const failing = { ready: 'failing', readyReason: 'readiness check ready-cmd-1 failing: exit 17', liveFailing: 'liveness check live-cmd-1 failing: exit 3', readyDetail: 'output: db replica lag 42s', liveDetail: 'output: heap full' } as const;
    const running = probeAnswers(at({ phase: 'running', appPid: 5, checks: failing }));
    expect(running.ready).toEqual({ code: 3, reason: 'readiness check ready-cmd-1 failing: exit 17', detail: 'output: db replica lag 42s' });
    expect(running.live).toEqual({ code: 3, reason: 'liveness check live-cmd-1 failing: exit 3', detail: 'output: heap full' });
    expect(running.startup).toEqual({ code: 0, reason: '', detail: '' });
    // Another reason holds readiness back first: the check's words are not its.
    const initRunning = probeAnswers(at({ phase: 'running', appPid: 5, init: { status: 'running', current: '10-a.sh', failure: null }, checks: failing }));
    expect(initRunning.ready).toEqual({ code: 1, reason: 'init script 10-a.sh running', detail: '' });
    expect(probeAnswers(at({ phase: 'draining', appPid: 5, stopReason: 'draining: SIGTERM received', checks: failing })).ready.detail).toBe('');
    // A missed watchdog is no check: nothing more to say.
    const watchdog = at({ phase: 'running', appPid: 5, app: { ...initialState.app, watchdogFailing: 'no WATCHDOG=1 for 2s' } });
    expect(probeAnswers({ ...watchdog, checks: { ...initialState.checks, liveDetail: 'output: stale' } }).live).toEqual({ code: 3, reason: 'no WATCHDOG=1 for 2s', detail: '' });
  });
});
