import { describe, expect, it } from 'vitest';
import { SIG } from '../../src/config/signals.js';
import { initialState, transition } from '../../src/lifecycle/machine.js';
import type { Effect, MachineConfig, State, Unstamped } from '../../src/lifecycle/types.js';

/** An event as a test writes it: `at` is optional, the clock of `run` stamps the others. */
type Event = Unstamped & { readonly at?: number };

const base: MachineConfig = {
  rewrite: new Map(), drainMs: 0, drainIdleMs: undefined, graceMs: 10_000, stopSignal: undefined, singleChild: false, signalScope: 'group', readyPorts: [],
  exitMap: new Map(), platformSignalsApp: false,
  init: { present: false, mode: 'before', onFailure: 'exit', only: false }, onUnhealthy: 'report', reloadSignal: SIG.HUP,
  appReadyVia: null,
};

/** Feeds events in order, the n-th at n ms unless it says when; returns the final state and every effect except logs. */
function run(events: readonly Event[], config: Partial<MachineConfig> = {}): { state: State; effects: Effect[] } {
  let state = initialState;
  const effects: Effect[] = [];
  for (const [index, event] of events.entries()) {
    const next = transition(state, { at: index + 1, ...event } as Parameters<typeof transition>[1], { ...base, ...config });
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
    expect(sends(run([...started, signal(SIG.HUP)]).effects)).toEqual([{ type: 'signalApp', signal: SIG.HUP, pid: 100, scope: 'group' }]);
    expect(sends(run([...started, signal(SIG.HUP)], { singleChild: true }).effects)).toEqual([{ type: 'signalApp', signal: SIG.HUP, pid: 100, scope: 'app' }]);
  });

  it('rewrites before forwarding, and drops a signal rewritten to 0', () => {
    const rewrite = new Map([[SIG.USR1, SIG.HUP], [SIG.HUP, 0]]);
    const { effects } = run([...started, signal(SIG.USR1), signal(SIG.HUP)], { rewrite });
    expect(sends(effects)).toEqual([{ type: 'signalApp', signal: SIG.HUP, pid: 100, scope: 'group' }]);
  });

  it('stops itself after forwarding TSTP, TTIN and TTOU', () => {
    for (const number of [SIG.TSTP, SIG.TTIN, SIG.TTOU]) {
      const { effects } = run([...started, signal(number)]);
      expect(effects.slice(-2)).toEqual([{ type: 'signalApp', signal: number, pid: 100, scope: 'group' }, { type: 'stopSelf' }]);
    }
  });

  it('without a drain, TERM goes out at once and SIGKILL follows the grace period', () => {
    const { state, effects } = run([...started, signal(SIG.TERM), { type: 'timer', name: 'grace' }]);
    expect(state).toMatchObject({ phase: 'stopping', ready: false });
    expect(sends(effects)).toEqual([
      { type: 'signalApp', signal: SIG.TERM, pid: 100, scope: 'group' },
      { type: 'signalApp', signal: SIG.KILL, pid: 100, scope: 'group' },
    ]);
    expect(effects).toContainEqual({ type: 'setTimer', name: 'grace', ms: 10_000 });
  });

  it('with a drain, goes unready at once and sends the stop signal only when the drain is over', () => {
    const draining = run([...started, signal(SIG.TERM)], { drainMs: 5000 });
    expect(draining.state).toMatchObject({ phase: 'draining', ready: false });
    expect(sends(draining.effects)).toEqual([]);
    expect(draining.effects).toContainEqual({ type: 'publish' });
    const stopped = run([...started, signal(SIG.TERM), { type: 'timer', name: 'drain' }], { drainMs: 5000 });
    expect(sends(stopped.effects)).toEqual([{ type: 'signalApp', signal: SIG.TERM, pid: 100, scope: 'group' }]);
  });

  it('keeps forwarding other signals during the drain', () => {
    const { effects } = run([...started, signal(SIG.TERM), signal(SIG.HUP)], { drainMs: 5000 });
    expect(sends(effects)).toEqual([{ type: 'signalApp', signal: SIG.HUP, pid: 100, scope: 'group' }]);
  });

  it('a second TERM ends the drain now; a third is forwarded like any signal, SIGKILL waits for the grace end', () => {
    const { effects } = run([...started, signal(SIG.TERM), signal(SIG.INT), signal(SIG.TERM)], { drainMs: 5000 });
    expect(sends(effects)).toEqual([
      { type: 'signalApp', signal: SIG.TERM, pid: 100, scope: 'group' },
      { type: 'signalApp', signal: SIG.TERM, pid: 100, scope: 'group' },
    ]);
    const killed = run([...started, signal(SIG.TERM), signal(SIG.INT), { type: 'timer', name: 'grace' }]);
    expect(sends(killed.effects)).toEqual([
      { type: 'signalApp', signal: SIG.TERM, pid: 100, scope: 'group' },
      { type: 'signalApp', signal: SIG.INT, pid: 100, scope: 'group' },
      { type: 'signalApp', signal: SIG.KILL, pid: 100, scope: 'group' },
    ]);
  });

  it('sends the stop signal, and forwards others, to the app alone with --signals app; SIGKILL still to all of it', () => {
    const { effects } = run([...started, signal(SIG.HUP), signal(SIG.TERM), { type: 'timer', name: 'grace' }], { signalScope: 'app' });
    expect(sends(effects)).toEqual([
      { type: 'signalApp', signal: SIG.HUP, pid: 100, scope: 'app' },
      { type: 'signalApp', signal: SIG.TERM, pid: 100, scope: 'app' },
      { type: 'signalApp', signal: SIG.KILL, pid: 100, scope: 'group' },
    ]);
    expect(effects).toContainEqual({ type: 'signalLeftovers', signal: SIG.KILL, pgid: 100 });
  });

  it('gives what usher adopted TERM at the stop and SIGKILL at the grace end', () => {
    const { effects } = run([...started, signal(SIG.TERM), { type: 'timer', name: 'grace' }]);
    expect(effects).toContainEqual({ type: 'signalOrphans', signal: SIG.TERM, pgid: 100 });
    expect(effects).toContainEqual({ type: 'signalLeftovers', signal: SIG.KILL, pgid: 100 });
  });

  it('gives what the app leaves when it exits during a stop (a daemon adopted only now) its TERM, leaving the app\'s group to the stop signal\'s scope', () => {
    const leftovers = (config: Partial<MachineConfig>): Effect[] =>
      run([...started, signal(SIG.TERM), { type: 'appExited', code: null, signal: SIG.TERM }], config).effects.filter((effect) => effect.type === 'signalLeftovers');
    expect(leftovers({})).toEqual([{ type: 'signalLeftovers', signal: SIG.TERM, pgid: 100, spareGroup: true }]);
    expect(leftovers({ signalScope: 'app' })).toEqual([{ type: 'signalLeftovers', signal: SIG.TERM, pgid: 100, spareGroup: true }]);
    expect(leftovers({ platformSignalsApp: true })).toEqual([]);
  });

  it('holds signals received before the app started, each once, and forwards them once it has', () => {
    const early = run([{ type: 'start' }, signal(SIG.USR1), signal(SIG.HUP), signal(SIG.USR1)]);
    expect(sends(early.effects)).toEqual([]);
    expect(early.state.heldSignals).toEqual([SIG.USR1, SIG.HUP]);
    const later = run([{ type: 'start' }, signal(SIG.USR1), signal(SIG.HUP), signal(SIG.USR1), { type: 'spawned', pid: 100 }]);
    expect(sends(later.effects)).toEqual([
      { type: 'signalApp', signal: SIG.USR1, pid: 100, scope: 'group' },
      { type: 'signalApp', signal: SIG.HUP, pid: 100, scope: 'group' },
    ]);
    expect(later.state.heldSignals).toEqual([]);
    expect(later.effects.some((effect) => effect.type === 'stopSelf')).toBe(false);
    const stopped = run([{ type: 'start' }, signal(SIG.TSTP), { type: 'spawned', pid: 100 }]).effects.filter((effect) => effect.type === 'signalApp' || effect.type === 'stopSelf');
    expect(stopped).toEqual([{ type: 'signalApp', signal: SIG.TSTP, pid: 100, scope: 'group' }, { type: 'stopSelf' }]);
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
    expect(sends(effects)).toEqual([{ type: 'signalApp', signal: SIG.KILL, pid: 100, scope: 'group' }]);
  });

  it('on the app\'s exit waits until nothing is left of it, then exits with the mapped code', () => {
    const exited = run([...started, { type: 'appExited', code: null, signal: SIG.TERM }], { exitMap: new Map([[143, 0]]) });
    expect(exited.state).toMatchObject({ phase: 'stopping', exitCode: 0 });
    expect(exited.effects).toContainEqual({ type: 'watchLeftovers', pgid: 100 });
    const leftovers = run([...started, { type: 'appExited', code: 3, signal: null }, { type: 'leftoversCounted', live: 2 }, { type: 'leftoversCounted', live: 1 }]);
    expect(leftovers.effects.filter((effect) => effect.type === 'signalLeftovers')).toEqual([{ type: 'signalLeftovers', signal: SIG.TERM, pgid: 100 }]);
    // After the grace, what is found left (a killed daemon's children, adopted now) is killed at once, every time.
    const late = run([...started, { type: 'appExited', code: 3, signal: null }, { type: 'leftoversCounted', live: 2 }, { type: 'timer', name: 'grace' }, { type: 'leftoversCounted', live: 1 }]);
    expect(late.effects.filter((effect) => effect.type === 'signalLeftovers').map((effect) => 'signal' in effect && effect.signal)).toEqual([SIG.TERM, SIG.KILL, SIG.KILL]);
    const done = run([...started, { type: 'appExited', code: 3, signal: null }, { type: 'leftoversCounted', live: 0 }]);
    expect(done.state.phase).toBe('exited');
    expect(done.effects.at(-1)).toEqual({ type: 'exit', code: 3 });
  });

  it('with single-child exits as soon as the app exits', () => {
    const { effects } = run([...started, { type: 'appExited', code: 4, signal: null }], { singleChild: true });
    expect(effects.at(-1)).toEqual({ type: 'exit', code: 4 });
    expect(effects.some((effect) => effect.type === 'watchLeftovers')).toBe(false);
  });

  it('exits at once when the app exits on its own during the drain', () => {
    const { state, effects } = run([...started, signal(SIG.TERM), { type: 'appExited', code: 0, signal: null }, { type: 'leftoversCounted', live: 0 }], { drainMs: 5000 });
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
      { type: 'appExited', code: null, signal: SIG.TERM }, { type: 'leftoversCounted', live: 0 }];
    const { effects } = run(events, withInit({ mode: 'parallel' }));
    expect(sends(effects)).toEqual([{ type: 'signalApp', signal: SIG.TERM, pid: 9, scope: 'group' }]);
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
    const unknown: Event = { type: 'checksChanged', ready: 'unknown', readyReason: null, liveFailing: null, readyDetail: '', liveDetail: '' };
    const failing: Event = { type: 'checksChanged', ready: 'failing', readyReason: 'readiness check ready-http-1 failing: HTTP 503', liveFailing: null, readyDetail: '', liveDetail: '' };
    const passing: Event = { type: 'checksChanged', ready: 'passing', readyReason: null, liveFailing: null, readyDetail: '', liveDetail: '' };
    expect(finalState([...base, unknown], {})).toMatchObject({ ready: false, reason: 'waiting for the readiness checks to pass' });
    expect(finalState([...base, unknown, failing], {})).toMatchObject({ ready: false, reason: 'readiness check ready-http-1 failing: HTTP 503' });
    expect(finalState([...base, unknown, failing, passing], {}).ready).toBe(true);
  });

  it('failing liveness is reported, and with --on-unhealthy exit stops the app and exits non-zero', () => {
    const unhealthy: Event = { type: 'checksChanged', ready: 'none', readyReason: null, liveFailing: 'liveness check live-cmd-1 failing: exit 1', readyDetail: '', liveDetail: '' };
    const reported = run([...started, unhealthy]);
    expect(sends(reported.effects)).toEqual([]);
    const stopped = run([...started, unhealthy, { type: 'appExited', code: 0, signal: null }, { type: 'leftoversCounted', live: 0 }], { onUnhealthy: 'exit' });
    expect(sends(stopped.effects)).toEqual([{ type: 'signalApp', signal: SIG.TERM, pid: 100, scope: 'group' }]);
    expect(stopped.effects.at(-1)).toEqual({ type: 'exit', code: 1 });
  });
});

describe('lifecycle machine: reloads', () => {
  const reload: Event = { type: 'reloadRequested', path: '/etc/tls', detail: 'content changed', at: 1000 };

  it('sends the reload signal to the group while running, and records it', () => {
    const { state, effects } = run([...started, reload]);
    expect(sends(effects)).toEqual([{ type: 'signalApp', signal: SIG.HUP, pid: 100, scope: 'group' }]);
    expect(state.lastReload).toEqual({ path: '/etc/tls', signal: SIG.HUP, at: 1000 });
  });

  it('honours --single-child and --reload-signal', () => {
    expect(sends(run([...started, reload], { singleChild: true, reloadSignal: SIG.USR2 }).effects)).toEqual([{ type: 'signalApp', signal: SIG.USR2, pid: 100, scope: 'app' }]);
  });

  it('skips reloads during init, drain and stopping', () => {
    expect(sends(run([{ type: 'start' }, reload]).effects)).toEqual([]);
    expect(sends(run([...started, signal(SIG.TERM), reload], { drainMs: 5000 }).effects)).toEqual([]);
    const stopping = run([...started, signal(SIG.TERM), reload]);
    expect(sends(stopping.effects)).toEqual([{ type: 'signalApp', signal: SIG.TERM, pid: 100, scope: 'group' }]);
    expect(stopping.state.lastReload).toBeNull();
  });
});

describe('lifecycle machine: the timeline and the exit code are the machine\'s', () => {
  it('marks each phase and the start of each not-ready reason at the time of the event that caused it', () => {
    const { state } = run([
      { type: 'start', at: 1000 }, { type: 'spawned', pid: 100, at: 1010 },
      { type: 'checksChanged', ready: 'unknown', readyReason: null, liveFailing: null, readyDetail: '', liveDetail: '', at: 1020 },
      { type: 'signal', signal: SIG.TERM, at: 1500 },
    ], { drainMs: 5000 });
    expect(state.startedAt).toBe(1000);
    expect(state.timeline).toEqual([{ phase: 'initializing', at: 1000 }, { phase: 'running', at: 1010 }, { phase: 'draining', at: 1500 }]);
    expect(state.reasonSince).toBe(1500);
    const waiting = run([{ type: 'start', at: 1000 }, { type: 'spawned', pid: 100, at: 1010 }, { type: 'checksChanged', ready: 'unknown', readyReason: null, liveFailing: null, readyDetail: '', liveDetail: '', at: 1020 }]);
    expect(waiting.state).toMatchObject({ reason: 'waiting for the readiness checks to pass', reasonSince: 1020 });
  });

  const exitOf = (events: readonly Event[], config: Partial<MachineConfig>): Effect | undefined => run(events, config).effects.at(-1);
  const withInit = (overrides: Partial<MachineConfig['init']> = {}): Partial<MachineConfig> => ({
    init: { present: true, mode: 'before', onFailure: 'exit', only: false, ...overrides },
  });

  it('applies --exit-map to every code usher ends with: the app\'s, 126/127, an init script\'s, a stop during init, --init-only', () => {
    const exitMap = new Map([[143, 0], [127, 27], [3, 33], [0, 10]]);
    expect(exitOf([...started, { type: 'appExited', code: null, signal: SIG.TERM }, { type: 'leftoversCounted', live: 0 }], { exitMap })).toEqual({ type: 'exit', code: 0 });
    expect(exitOf([{ type: 'start' }, { type: 'spawnFailed', code: 127, message: 'not found' }], { exitMap })).toEqual({ type: 'exit', code: 27 });
    expect(exitOf([{ type: 'start' }, { type: 'initFailed', name: 'a', code: 3, reason: 'x' }], { exitMap, ...withInit() })).toEqual({ type: 'exit', code: 33 });
    expect(exitOf([{ type: 'start' }, { type: 'initScriptStarted', name: 'a' }, signal(SIG.TERM), { type: 'initStopped' }], { exitMap, ...withInit() })).toEqual({ type: 'exit', code: 0 });
    expect(exitOf([{ type: 'start' }, { type: 'initDone' }], { exitMap, ...withInit({ only: true }) })).toEqual({ type: 'exit', code: 10 });
    const parallel = [{ type: 'start' }, { type: 'spawned', pid: 9 }, { type: 'initFailed', name: 'a', code: 3, reason: 'x' }, { type: 'appExited', code: null, signal: SIG.TERM }, { type: 'leftoversCounted', live: 0 }] as const;
    expect(exitOf(parallel, { exitMap, ...withInit({ mode: 'parallel' }) })).toEqual({ type: 'exit', code: 33 });
  });

  it('after a stop for failing liveness, maps the code but never exits 0', () => {
    const unhealthy: Event = { type: 'checksChanged', ready: 'none', readyReason: null, liveFailing: 'liveness check live-cmd-1 failing: exit 1', readyDetail: '', liveDetail: '' };
    const stop = (code: number | null, sig: number | null): Event[] => [...started, unhealthy, { type: 'appExited', code, signal: sig }, { type: 'leftoversCounted', live: 0 }];
    expect(exitOf(stop(null, SIG.TERM), { onUnhealthy: 'exit', exitMap: new Map([[143, 0]]) })).toEqual({ type: 'exit', code: 1 });
    expect(exitOf(stop(null, SIG.TERM), { onUnhealthy: 'exit', exitMap: new Map([[143, 7]]) })).toEqual({ type: 'exit', code: 7 });
    expect(exitOf(stop(0, null), { onUnhealthy: 'exit', exitMap: new Map([[1, 9]]) })).toEqual({ type: 'exit', code: 1 });
  });
});

describe('lifecycle machine: readiness ports and a drain that ends with the traffic', () => {
  const ports: Partial<MachineConfig> = { readyPorts: [8080, 9090] };

  it('is not ready until every readiness port is listened on, and says which', () => {
    const waiting = run(started, ports);
    expect(waiting.state).toMatchObject({ ready: false, reason: 'waiting for the app to listen on :8080 and :9090' });
    const one = run([...started, { type: 'portsChanged', missing: [9090] }], ports);
    expect(one.state).toMatchObject({ ready: false, reason: 'waiting for the app to listen on :9090' });
    expect(run([...started, { type: 'portsChanged', missing: [] }], ports).state.ready).toBe(true);
  });

  it('goes unready when a listener goes, with the reason, and ready again when it is back', () => {
    const lost = run([...started, { type: 'portsChanged', missing: [] }, { type: 'portsChanged', missing: [8080] }], ports);
    expect(lost.state).toMatchObject({ ready: false, reason: 'no longer listening on :8080', ports: { status: 'lost' } });
    expect(lost.effects.filter((effect) => effect.type === 'publish').length).toBeGreaterThanOrEqual(2);
    const back = run([...started, { type: 'portsChanged', missing: [] }, { type: 'portsChanged', missing: [8080] }, { type: 'portsChanged', missing: [] }], ports);
    expect(back.state.ready).toBe(true);
  });

  it('with --drain-idle watches the traffic from the unready report and stops as soon as it is quiet', () => {
    const config = { ...ports, drainMs: 30_000, drainIdleMs: 1000 };
    const events: Event[] = [...started, { type: 'portsChanged', missing: [] }, { type: 'signal', signal: SIG.TERM, at: 5000 }];
    const draining = run(events, config);
    expect(draining.state.phase).toBe('draining');
    expect(draining.effects).toContainEqual({ type: 'watchDrainTraffic', since: 5000, idleMs: 1000 });
    expect(draining.effects).toContainEqual({ type: 'setTimer', name: 'drain', ms: 30_000 });
    const quiet = run([...events, { type: 'drainQuiet', quietMs: 1000, at: 6300 }], config);
    expect(quiet.state.phase).toBe('stopping');
    expect(sends(quiet.effects)).toEqual([{ type: 'signalApp', signal: SIG.TERM, pid: 100, scope: 'group' }]);
    expect(quiet.effects).toContainEqual({ type: 'clearTimer', name: 'drain' });
  });

  it('ends the drain at its limit while traffic still arrives, and stops watching', () => {
    const config = { ...ports, drainMs: 30_000, drainIdleMs: 1000 };
    const { state, effects } = run([...started, { type: 'signal', signal: SIG.TERM }, { type: 'timer', name: 'drain' }], config);
    expect(state.phase).toBe('stopping');
    expect(effects).toContainEqual({ type: 'unwatchDrainTraffic' });
    // A late report of quiet changes nothing once the stop signal went out.
    expect(sends(run([...started, { type: 'signal', signal: SIG.TERM }, { type: 'timer', name: 'drain' }, { type: 'drainQuiet', quietMs: 1000 }], config).effects)).toHaveLength(1);
  });
});
