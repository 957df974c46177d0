import { describe, expect, it } from 'vitest';
import { SIG } from '../../src/config/signals.js';
import { initialState, transition } from '../../src/lifecycle/machine.js';
import type { Effect, Event, MachineConfig, State } from '../../src/lifecycle/types.js';

const base: MachineConfig = {
  rewrite: new Map(), drainMs: 0, graceMs: 10_000, stopSignal: undefined, singleChild: false,
  exitMap: new Map(), platformSignalsApp: false,
  init: { present: false, mode: 'before', onFailure: 'exit', only: false }, onUnhealthy: 'report', reloadSignal: SIG.HUP,
  appReadyVia: null,
};

/** Feeds events in order; returns the final state and every effect except logs. */
function run(events: readonly Event[], config: Partial<MachineConfig> = {}): { state: State; effects: Effect[] } {
  let state = initialState;
  const effects: Effect[] = [];
  for (const event of events) {
    const next = transition(state, event, { ...base, ...config });
    state = next.state;
    effects.push(...next.effects.filter((effect) => effect.type !== 'log'));
  }
  return { state, effects };
}

const started: Event[] = [{ type: 'start' }, { type: 'spawned', pid: 100 }];
const signal = (number: number): Event => ({ type: 'signal', signal: number });
const sends = (effects: Effect[]) => effects.filter((effect) => effect.type === 'signalApp');

describe('lifecycle machine', () => {
  it('spawns on start and is ready once the app runs', () => {
    const { state, effects } = run(started);
    expect(effects[0]).toEqual({ type: 'spawnApp' });
    expect(state).toMatchObject({ phase: 'running', ready: true, appPid: 100 });
  });

  it('forwards other signals to the group, or to the app alone with single-child', () => {
    expect(sends(run([...started, signal(SIG.HUP)]).effects)).toEqual([{ type: 'signalApp', signal: SIG.HUP, scope: 'group' }]);
    expect(sends(run([...started, signal(SIG.HUP)], { singleChild: true }).effects)).toEqual([{ type: 'signalApp', signal: SIG.HUP, scope: 'app' }]);
  });

  it('rewrites before forwarding, and drops a signal rewritten to 0', () => {
    const rewrite = new Map([[SIG.USR1, SIG.HUP], [SIG.HUP, 0]]);
    const { effects } = run([...started, signal(SIG.USR1), signal(SIG.HUP)], { rewrite });
    expect(sends(effects)).toEqual([{ type: 'signalApp', signal: SIG.HUP, scope: 'group' }]);
  });

  it('stops itself after forwarding TSTP, TTIN and TTOU', () => {
    for (const number of [SIG.TSTP, SIG.TTIN, SIG.TTOU]) {
      const { effects } = run([...started, signal(number)]);
      expect(effects.slice(-2)).toEqual([{ type: 'signalApp', signal: number, scope: 'group' }, { type: 'stopSelf' }]);
    }
  });

  it('without a drain, TERM goes out at once and SIGKILL follows the grace period', () => {
    const { state, effects } = run([...started, signal(SIG.TERM), { type: 'timer', name: 'grace' }]);
    expect(state).toMatchObject({ phase: 'stopping', ready: false });
    expect(sends(effects)).toEqual([
      { type: 'signalApp', signal: SIG.TERM, scope: 'group' },
      { type: 'signalApp', signal: SIG.KILL, scope: 'group' },
    ]);
    expect(effects).toContainEqual({ type: 'setTimer', name: 'grace', ms: 10_000 });
  });

  it('with a drain, goes unready at once and sends the stop signal only when the drain is over', () => {
    const draining = run([...started, signal(SIG.TERM)], { drainMs: 5000 });
    expect(draining.state).toMatchObject({ phase: 'draining', ready: false });
    expect(sends(draining.effects)).toEqual([]);
    expect(draining.effects).toContainEqual({ type: 'publish' });
    const stopped = run([...started, signal(SIG.TERM), { type: 'timer', name: 'drain' }], { drainMs: 5000 });
    expect(sends(stopped.effects)).toEqual([{ type: 'signalApp', signal: SIG.TERM, scope: 'group' }]);
  });

  it('keeps forwarding other signals during the drain', () => {
    const { effects } = run([...started, signal(SIG.TERM), signal(SIG.HUP)], { drainMs: 5000 });
    expect(sends(effects)).toEqual([{ type: 'signalApp', signal: SIG.HUP, scope: 'group' }]);
  });

  it('a second TERM ends the drain now; a third sends SIGKILL', () => {
    const { effects } = run([...started, signal(SIG.TERM), signal(SIG.INT), signal(SIG.TERM)], { drainMs: 5000 });
    expect(sends(effects)).toEqual([
      { type: 'signalApp', signal: SIG.TERM, scope: 'group' },
      { type: 'signalApp', signal: SIG.KILL, scope: 'group' },
    ]);
  });

  it('uses the stop signal from config, else the received one after rewrite', () => {
    expect(sends(run([...started, signal(SIG.TERM)], { stopSignal: SIG.QUIT }).effects)[0]).toMatchObject({ signal: SIG.QUIT });
    expect(sends(run([...started, signal(SIG.TERM)], { rewrite: new Map([[SIG.TERM, SIG.QUIT]]) }).effects)[0]).toMatchObject({ signal: SIG.QUIT });
  });

  it('ignores a TERM rewritten to 0 entirely', () => {
    const { state, effects } = run([...started, signal(SIG.TERM)], { rewrite: new Map([[SIG.TERM, 0]]) });
    expect(state).toMatchObject({ phase: 'running', ready: true });
    expect(effects.slice(2)).toEqual([]);
  });

  it('does not send the stop signal again where the platform signals every process', () => {
    const { effects } = run([...started, signal(SIG.TERM), { type: 'timer', name: 'grace' }], { platformSignalsApp: true });
    expect(sends(effects)).toEqual([{ type: 'signalApp', signal: SIG.KILL, scope: 'group' }]);
  });

  it('on the app\'s exit waits for its group to empty, then exits with the mapped code', () => {
    const exited = run([...started, { type: 'appExited', code: null, signal: SIG.TERM }], { exitMap: new Map([[143, 0]]) });
    expect(exited.state).toMatchObject({ phase: 'stopping', exitCode: 0 });
    expect(exited.effects).toContainEqual({ type: 'checkGroup' });
    const leftovers = run([...started, { type: 'appExited', code: 3, signal: null }, { type: 'groupChecked', live: 2 }, { type: 'groupChecked', live: 1 }]);
    expect(sends(leftovers.effects)).toEqual([{ type: 'signalApp', signal: SIG.TERM, scope: 'group' }]);
    const done = run([...started, { type: 'appExited', code: 3, signal: null }, { type: 'groupChecked', live: 0 }]);
    expect(done.state.phase).toBe('exited');
    expect(done.effects.at(-1)).toEqual({ type: 'exit', code: 3 });
  });

  it('with single-child exits as soon as the app exits', () => {
    const { effects } = run([...started, { type: 'appExited', code: 4, signal: null }], { singleChild: true });
    expect(effects.at(-1)).toEqual({ type: 'exit', code: 4 });
    expect(effects).not.toContainEqual({ type: 'checkGroup' });
  });

  it('exits at once when the app exits on its own during the drain', () => {
    const { state, effects } = run([...started, signal(SIG.TERM), { type: 'appExited', code: 0, signal: null }, { type: 'groupChecked', live: 0 }], { drainMs: 5000 });
    expect(effects).toContainEqual({ type: 'clearTimer', name: 'drain' });
    expect(state.exitCode).toBe(0);
    expect(effects.at(-1)).toEqual({ type: 'exit', code: 0 });
  });

  it('a stop before the app started exits 128+N and never spawns', () => {
    const { effects } = run([signal(SIG.TERM)]);
    expect(effects.at(-1)).toEqual({ type: 'exit', code: 143 });
    expect(effects).not.toContainEqual({ type: 'spawnApp' });
  });

  it('exits with the spawn failure\'s code', () => {
    const { state, effects } = run([{ type: 'start' }, { type: 'spawnFailed', code: 127, message: 'not found' }]);
    expect(state.phase).toBe('exited');
    expect(effects.at(-1)).toEqual({ type: 'exit', code: 127 });
  });
});

describe('lifecycle machine: init scripts and checks', () => {
  const withInit = (overrides: Partial<MachineConfig['init']> = {}): Partial<MachineConfig> => ({
    init: { present: true, mode: 'before', onFailure: 'exit', only: false, ...overrides },
  });
  const finalState = (events: Event[], config: Partial<MachineConfig>) => run(events, config).state;

  it('before mode: the app waits for the init scripts, and readiness names the running one', () => {
    const starting = run([{ type: 'start' }, { type: 'initScriptStarted', name: '10-migrate.sh' }], withInit());
    expect(starting.effects).toContainEqual({ type: 'runInit' });
    expect(starting.effects).not.toContainEqual({ type: 'spawnApp' });
    expect(starting.state).toMatchObject({ phase: 'initializing', ready: false, reason: 'init script 10-migrate.sh running' });
    const done = run([{ type: 'start' }, { type: 'initScriptStarted', name: 'a' }, { type: 'initDone' }, { type: 'spawned', pid: 9 }], withInit());
    expect(done.effects).toContainEqual({ type: 'spawnApp' });
    expect(done.state).toMatchObject({ phase: 'running', ready: true });
  });

  it('parallel mode: the app starts at once, readiness waits for the init scripts', () => {
    const events: Event[] = [{ type: 'start' }, { type: 'spawned', pid: 9 }, { type: 'initScriptStarted', name: 'a' }];
    const running = run(events, withInit({ mode: 'parallel' }));
    expect(running.effects.slice(0, 2)).toEqual([{ type: 'runInit' }, { type: 'spawnApp' }]);
    expect(running.state).toMatchObject({ phase: 'running', ready: false });
    expect(finalState([...events, { type: 'initDone' }], withInit({ mode: 'parallel' })).ready).toBe(true);
  });

  it('a failed init script exits with its code under policy exit, and the app never starts', () => {
    const { state, effects } = run([{ type: 'start' }, { type: 'initScriptStarted', name: 'a' }, { type: 'initFailed', name: 'a', code: 3, reason: 'init script a failed with exit code 3' }], withInit());
    expect(state.phase).toBe('exited');
    expect(effects.at(-1)).toEqual({ type: 'exit', code: 3 });
    expect(effects).not.toContainEqual({ type: 'spawnApp' });
  });

  it('under policy unready the app runs but is never ready', () => {
    const { state, effects } = run([{ type: 'start' }, { type: 'initFailed', name: 'a', code: 3, reason: 'init script a failed' }, { type: 'spawned', pid: 9 }], withInit({ onFailure: 'unready' }));
    expect(effects).toContainEqual({ type: 'spawnApp' });
    expect(state).toMatchObject({ phase: 'running', ready: false, reason: 'init script a failed' });
  });

  it('parallel mode, policy exit: a failed script stops the app and usher exits with the script\'s code', () => {
    const events: Event[] = [{ type: 'start' }, { type: 'spawned', pid: 9 }, { type: 'initFailed', name: 'a', code: 4, reason: 'x' },
      { type: 'appExited', code: null, signal: SIG.TERM }, { type: 'groupChecked', live: 0 }];
    const { effects } = run(events, withInit({ mode: 'parallel' }));
    expect(sends(effects)).toEqual([{ type: 'signalApp', signal: SIG.TERM, scope: 'group' }]);
    expect(effects.at(-1)).toEqual({ type: 'exit', code: 4 });
  });

  it('--init-only exits with the scripts\' result and never spawns', () => {
    expect(run([{ type: 'start' }, { type: 'initDone' }], withInit({ only: true })).effects.at(-1)).toEqual({ type: 'exit', code: 0 });
    expect(run([{ type: 'start' }, { type: 'initFailed', name: 'a', code: 5, reason: 'x' }], withInit({ only: true })).effects.at(-1)).toEqual({ type: 'exit', code: 5 });
  });

  it('a stop during the init scripts stops them, never starts the app, and exits 128+N', () => {
    const events: Event[] = [{ type: 'start' }, { type: 'initScriptStarted', name: 'a' }, signal(SIG.TERM), { type: 'timer', name: 'grace' }, { type: 'initStopped' }];
    const { effects } = run(events, withInit());
    expect(effects.filter((effect) => effect.type === 'signalInit')).toEqual([{ type: 'signalInit', signal: SIG.TERM }, { type: 'signalInit', signal: SIG.KILL }]);
    expect(effects).not.toContainEqual({ type: 'spawnApp' });
    expect(effects.at(-1)).toEqual({ type: 'exit', code: 143 });
  });

  it('readiness waits for the readiness checks, and follows them', () => {
    const base: Event[] = [...started];
    const unknown: Event = { type: 'checksChanged', ready: 'unknown', readyReason: null, liveFailing: null };
    const failing: Event = { type: 'checksChanged', ready: 'failing', readyReason: 'readiness check ready-http-1 failing: HTTP 503', liveFailing: null };
    const passing: Event = { type: 'checksChanged', ready: 'passing', readyReason: null, liveFailing: null };
    expect(finalState([...base, unknown], {})).toMatchObject({ ready: false, reason: 'waiting for the readiness checks to pass' });
    expect(finalState([...base, unknown, failing], {})).toMatchObject({ ready: false, reason: 'readiness check ready-http-1 failing: HTTP 503' });
    expect(finalState([...base, unknown, failing, passing], {}).ready).toBe(true);
  });

  it('failing liveness is reported, and with --on-unhealthy exit stops the app and exits non-zero', () => {
    const unhealthy: Event = { type: 'checksChanged', ready: 'none', readyReason: null, liveFailing: 'liveness check live-cmd-1 failing: exit 1' };
    const reported = run([...started, unhealthy]);
    expect(sends(reported.effects)).toEqual([]);
    const stopped = run([...started, unhealthy, { type: 'appExited', code: 0, signal: null }, { type: 'groupChecked', live: 0 }], { onUnhealthy: 'exit' });
    expect(sends(stopped.effects)).toEqual([{ type: 'signalApp', signal: SIG.TERM, scope: 'group' }]);
    expect(stopped.effects.at(-1)).toEqual({ type: 'exit', code: 1 });
  });
});

describe('lifecycle machine: reloads', () => {
  const reload: Event = { type: 'reloadRequested', path: '/etc/tls', detail: 'content changed', at: 1000 };

  it('sends the reload signal to the group while running, and records it', () => {
    const { state, effects } = run([...started, reload]);
    expect(sends(effects)).toEqual([{ type: 'signalApp', signal: SIG.HUP, scope: 'group' }]);
    expect(state.lastReload).toEqual({ path: '/etc/tls', signal: SIG.HUP, at: 1000 });
  });

  it('honours --single-child and --reload-signal', () => {
    expect(sends(run([...started, reload], { singleChild: true, reloadSignal: SIG.USR2 }).effects)).toEqual([{ type: 'signalApp', signal: SIG.USR2, scope: 'app' }]);
  });

  it('skips reloads during init, drain and stopping', () => {
    expect(sends(run([{ type: 'start' }, reload]).effects)).toEqual([]);
    expect(sends(run([...started, signal(SIG.TERM), reload], { drainMs: 5000 }).effects)).toEqual([]);
    const stopping = run([...started, signal(SIG.TERM), reload]);
    expect(sends(stopping.effects)).toEqual([{ type: 'signalApp', signal: SIG.TERM, scope: 'group' }]);
    expect(stopping.state.lastReload).toBeNull();
  });
});
