import { describe, expect, it } from 'vitest';
import { SIG } from '../../src/config/signals.js';
import { initialState, transition } from '../../src/lifecycle/machine.js';
import type { Effect, Event, MachineConfig, State } from '../../src/lifecycle/types.js';

const base: MachineConfig = {
  rewrite: new Map(), drainMs: 0, graceMs: 10_000, stopSignal: undefined, singleChild: false,
  exitMap: new Map(), platformSignalsApp: false,
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
