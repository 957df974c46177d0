import { SIG } from '../config/signals.js';
import { exit } from './outcomes.js';
import { beginStop } from './stop.js';
import type { Effect, EventOf, MachineConfig, State, Transition } from './types.js';

/** Init scripts: before or beside the app, and what their success or failure does. */
export function onStart(state: State, config: MachineConfig): Transition {
  if (!config.init.present) return { state, effects: [{ type: 'spawnApp' }] };
  const running: State = { ...state, init: { ...state.init, status: 'running' } };
  const parallel = config.init.mode === 'parallel' && !config.init.only;
  return { state: running, effects: parallel ? [{ type: 'runInit' }, { type: 'spawnApp' }] : [{ type: 'runInit' }] };
}

export function onInitDone(state: State, config: MachineConfig): Transition {
  const done: State = { ...state, init: { status: 'ok', current: null, failure: null } };
  const log: Effect = { type: 'log', level: 'info', msg: 'init scripts succeeded' };
  if (config.init.only) return exit(done, 0, [log], config);
  if (state.phase === 'stopping') return onInitStopped(done, config);
  if (state.phase === 'initializing') return { state: done, effects: [log, { type: 'spawnApp' }] };
  return { state: done, effects: [log] };
}

export function onInitFailed(state: State, event: EventOf<'initFailed'>, config: MachineConfig): Transition {
  const failed: State = { ...state, init: { status: 'failed', current: null, failure: event.reason } };
  if (state.phase === 'stopping' || state.phase === 'exited') return onInitStopped(failed, config);
  if (config.init.only) return exit(failed, event.code, [{ type: 'log', level: 'error', msg: event.reason, fields: { exitCode: event.code } }], config);
  if (config.init.onFailure === 'unready') {
    const log: Effect = { type: 'log', level: 'error', msg: `${event.reason}: the app runs but will not be ready (--on-init-failure unready)` };
    return { state: failed, effects: state.phase === 'initializing' ? [log, { type: 'spawnApp' }] : [log] };
  }
  const log: Effect = { type: 'log', level: 'error', msg: `${event.reason}: exiting (--on-init-failure exit)`, fields: { exitCode: event.code } };
  if (state.appPid === null) return exit(failed, event.code, [log], config);
  // parallel mode: the app runs but was never ready, so no drain is owed to anyone.
  return beginStop({ ...failed, forcedExitCode: event.code, stopReason: event.reason, stopSignal: config.stopSignal ?? SIG.TERM }, config, [log]);
}

export function onInitStopped(state: State, config: MachineConfig): Transition {
  if (state.appPid !== null || state.phase === 'exited') return { state, effects: [] };
  const code = 128 + (state.stopSignal ?? SIG.TERM);
  return exit(state, code, [{ type: 'log', level: 'info', msg: 'init scripts stopped: exiting', fields: { exitCode: code } }], config);
}
