import { formatDuration } from '../config/duration.js';
import { SIG, signalName } from '../config/signals.js';
import { liveFailure, readiness } from './readiness.js';
import type { ChecksChanged, Effect, Event, MachineConfig, State, Transition } from './types.js';

/**
 * usher's lifecycle as one pure function: (state, event) -> (state, effects). Spawning,
 * signals, timers, init scripts, checks and the reaper are adapters that feed it events and
 * carry out its effects. Readiness is derived after every event, never set by hand.
 */
export const initialState: State = {
  phase: 'initializing', ready: false, reason: 'starting', appPid: null, appExit: null,
  init: { status: 'none', current: null, failure: null },
  checks: { ready: 'none', readyReason: null, liveFailing: null },
  stopReason: null, stopSignal: null, graceStarted: false, forcedExitCode: null, exitCode: null, lastReload: null,
  app: { said: 'not-asked', status: null, mainPid: null, watchdogFailing: null },
};

const JOB_CONTROL_STOPS = new Set<number>([SIG.TSTP, SIG.TTIN, SIG.TTOU]);
const STOP_REQUESTS = new Set<number>([SIG.TERM, SIG.INT]);

export function transition(state: State, event: Event, config: MachineConfig): Transition {
  const next = step(state, event, config);
  const derived = readiness(next.state);
  const settled: State = { ...next.state, ...derived };
  const visible = settled.phase !== state.phase || settled.ready !== state.ready || settled.reason !== state.reason
    || settled.init !== state.init || settled.checks !== state.checks || settled.app !== state.app;
  const published = next.effects.some((effect) => effect.type === 'publish');
  if (!visible || published) return { state: settled, effects: next.effects };
  // Publish before an exit, so the final state is written; else after the event's own effects.
  const exitAt = next.effects.findIndex((effect) => effect.type === 'exit');
  const effects = [...next.effects];
  effects.splice(exitAt < 0 ? effects.length : exitAt, 0, { type: 'publish' });
  return { state: settled, effects };
}

function step(state: State, event: Event, config: MachineConfig): Transition {
  switch (event.type) {
    case 'start':
      return onStart(config.appReadyVia ? { ...state, app: { ...state.app, said: 'waiting' } } : state, config);
    case 'spawned':
      return {
        state: { ...state, phase: state.phase === 'initializing' ? 'running' : state.phase, appPid: event.pid },
        effects: [{ type: 'log', level: 'info', msg: 'app started', fields: { pid: event.pid } }],
      };
    case 'spawnFailed':
      return exit({ ...state, stopReason: event.message }, event.code, [{ type: 'log', level: 'error', msg: event.message, fields: { exitCode: event.code } }]);
    case 'signal':
      return onSignal(state, event.signal, config);
    case 'timer':
      return onTimer(state, event.name, config);
    case 'appExited':
      return onAppExit(state, event.code, event.signal, config);
    case 'groupChecked':
      return onGroupChecked(state, event.live, config);
    case 'initScriptStarted':
      return { state: { ...state, init: { ...state.init, status: 'running', current: event.name } }, effects: [] };
    case 'initDone':
      return onInitDone(state, config);
    case 'initFailed':
      return onInitFailed(state, event, config);
    case 'initStopped':
      return onInitStopped(state, config);
    case 'checksChanged':
      return onChecksChanged(state, event, config);
    case 'reloadRequested':
      return onReload(state, event, config);
    case 'appReport':
      return onAppReport(state, event);
    case 'watchdog':
      return onLivenessChange(state, { ...state, app: { ...state.app, watchdogFailing: event.failing } }, config);
  }
}

function scope(config: MachineConfig): 'group' | 'app' {
  return config.singleChild ? 'app' : 'group';
}

function mapExit(code: number, config: MachineConfig): number {
  return config.exitMap.get(code) ?? code;
}

function exit(state: State, code: number, effects: readonly Effect[]): Transition {
  return {
    state: { ...state, phase: 'exited', exitCode: code },
    effects: [...effects, { type: 'clearTimer', name: 'drain' }, { type: 'clearTimer', name: 'grace' }, { type: 'publish' }, { type: 'exit', code }],
  };
}

function onStart(state: State, config: MachineConfig): Transition {
  if (!config.init.present) return { state, effects: [{ type: 'spawnApp' }] };
  const running: State = { ...state, init: { ...state.init, status: 'running' } };
  const parallel = config.init.mode === 'parallel' && !config.init.only;
  return { state: running, effects: parallel ? [{ type: 'runInit' }, { type: 'spawnApp' }] : [{ type: 'runInit' }] };
}

function onInitDone(state: State, config: MachineConfig): Transition {
  const done: State = { ...state, init: { status: 'ok', current: null, failure: null } };
  const log: Effect = { type: 'log', level: 'info', msg: 'init scripts succeeded' };
  if (config.init.only) return exit(done, 0, [log]);
  if (state.phase === 'stopping') return onInitStopped(done, config);
  if (state.phase === 'initializing') return { state: done, effects: [log, { type: 'spawnApp' }] };
  return { state: done, effects: [log] };
}

function onInitFailed(state: State, event: Extract<Event, { type: 'initFailed' }>, config: MachineConfig): Transition {
  const failed: State = { ...state, init: { status: 'failed', current: null, failure: event.reason } };
  if (state.phase === 'stopping' || state.phase === 'exited') return onInitStopped(failed, config);
  if (config.init.only) return exit(failed, event.code, [{ type: 'log', level: 'error', msg: event.reason, fields: { exitCode: event.code } }]);
  if (config.init.onFailure === 'unready') {
    const log: Effect = { type: 'log', level: 'error', msg: `${event.reason}: the app runs but will not be ready (--on-init-failure unready)` };
    return { state: failed, effects: state.phase === 'initializing' ? [log, { type: 'spawnApp' }] : [log] };
  }
  const log: Effect = { type: 'log', level: 'error', msg: `${event.reason}: exiting (--on-init-failure exit)`, fields: { exitCode: event.code } };
  if (state.appPid === null) return exit(failed, event.code, [log]);
  // parallel mode: the app runs but was never ready, so no drain is owed to anyone.
  return beginStop({ ...failed, forcedExitCode: event.code, stopReason: event.reason, stopSignal: config.stopSignal ?? SIG.TERM }, config, [log]);
}

function onInitStopped(state: State, config: MachineConfig): Transition {
  if (state.appPid !== null || state.phase === 'exited') return { state, effects: [] };
  const signal = state.stopSignal ?? SIG.TERM;
  const code = mapExit(128 + signal, config);
  return exit(state, code, [{ type: 'log', level: 'info', msg: 'init scripts stopped: exiting', fields: { exitCode: code } }]);
}

function onChecksChanged(state: State, event: ChecksChanged, config: MachineConfig): Transition {
  const checks = { ready: event.ready, readyReason: event.readyReason, liveFailing: event.liveFailing };
  return onLivenessChange(state, { ...state, checks }, config);
}

/** Liveness turned bad: report it, and with --on-unhealthy exit stop the app. */
function onLivenessChange(state: State, changed: State, config: MachineConfig): Transition {
  const failing = liveFailure(changed);
  if (failing === null || liveFailure(state) !== null) return { state: changed, effects: [] };
  const log: Effect = { type: 'log', level: 'warn', msg: `not live: ${failing}` };
  if (config.onUnhealthy !== 'exit' || (state.phase !== 'running' && state.phase !== 'draining')) return { state: changed, effects: [log] };
  const stopping: State = { ...changed, stopReason: `not live: ${failing}`, stopSignal: config.stopSignal ?? SIG.TERM, forcedExitCode: changed.forcedExitCode ?? -1 };
  return beginStop(stopping, config, [log, { type: 'log', level: 'warn', msg: 'stopping the app (--on-unhealthy exit)' }, { type: 'clearTimer', name: 'drain' }]);
}

function onAppReport(state: State, event: Extract<Event, { type: 'appReport' }>): Transition {
  const effects: Effect[] = [];
  let app = state.app;
  if (event.ready && app.said === 'waiting') {
    app = { ...app, said: 'ready' };
    effects.push({ type: 'log', level: 'info', msg: 'the app says it is ready' });
  }
  if (event.stopping && app.said !== 'stopping') {
    app = { ...app, said: 'stopping' };
    effects.push({ type: 'log', level: 'info', msg: 'the app says it is stopping: not ready from now on' });
  }
  if (event.status !== undefined && event.status !== app.status) app = { ...app, status: event.status };
  if (event.mainPid !== undefined && event.mainPid !== app.mainPid) {
    app = { ...app, mainPid: event.mainPid };
    effects.push({ type: 'log', level: 'info', msg: 'the app names its main pid', fields: { mainPid: event.mainPid } });
  }
  return { state: app === state.app ? state : { ...state, app }, effects };
}

/** A reload only makes sense for an app that runs and serves: never during init, drain or stop. */
function onReload(state: State, event: Extract<Event, { type: 'reloadRequested' }>, config: MachineConfig): Transition {
  const { path, detail, at } = event;
  const name = signalName(config.reloadSignal);
  if (state.phase !== 'running' || state.appPid === null || state.appExit) {
    return { state, effects: [{ type: 'log', level: 'info', msg: `${path} changed: reload skipped while ${state.phase}`, fields: { path, detail } }] };
  }
  return {
    state: { ...state, lastReload: { path, signal: config.reloadSignal, at } },
    effects: [
      { type: 'log', level: 'info', msg: `${path} changed: ${name} sent to the app`, fields: { path, detail, signal: name, scope: scope(config) } },
      { type: 'signalApp', signal: config.reloadSignal, scope: scope(config) },
      { type: 'publish' },
    ],
  };
}

function onSignal(state: State, received: number, config: MachineConfig): Transition {
  const signal = config.rewrite.get(received) ?? received;
  const name = signalName(received);
  if (signal === 0) {
    return { state, effects: [{ type: 'log', level: 'info', msg: `${name} received: dropped by rewrite` }] };
  }
  const isStop = STOP_REQUESTS.has(received) || STOP_REQUESTS.has(signal);
  if (state.phase === 'exited') return { state, effects: [] };
  if (isStop) return onStopRequest(state, name, signal, config);
  if (state.appPid === null || state.appExit) {
    return { state, effects: [{ type: 'log', level: 'info', msg: `${name} received while no app runs: not forwarded` }] };
  }
  const effects: Effect[] = [
    { type: 'log', level: signal === SIG.WINCH ? 'debug' : 'info', msg: `${name} received: forwarded as ${signalName(signal)}`, fields: { scope: scope(config) } },
    { type: 'signalApp', signal, scope: scope(config) },
  ];
  if (JOB_CONTROL_STOPS.has(signal)) effects.push({ type: 'stopSelf' });
  return { state, effects };
}

function onStopRequest(state: State, name: string, signal: number, config: MachineConfig): Transition {
  switch (state.phase) {
    case 'initializing': {
      // No app yet: the init scripts get the stop sequence, and the app never starts.
      if (state.init.status !== 'running') return exit({ ...state, stopReason: `stopped by ${name}` }, mapExit(128 + signal, config), []);
      return beginStop({ ...state, stopReason: `stopping: ${name} received`, stopSignal: config.stopSignal ?? signal }, config, [
        { type: 'log', level: 'info', msg: `${name} received during the init scripts: stopping them; the app will not start` },
      ]);
    }
    case 'running': {
      const stopping: State = { ...state, stopReason: `stopping: ${name} received`, stopSignal: config.stopSignal ?? signal };
      const effects: Effect[] = [{ type: 'log', level: 'info', msg: `${name} received: not ready from now on` }, { type: 'publish' }];
      if (config.drainMs > 0) {
        return {
          state: { ...stopping, phase: 'draining', stopReason: `draining: ${name} received` },
          effects: [
            ...effects,
            { type: 'log', level: 'info', msg: `draining for ${formatDuration(config.drainMs)} before the stop signal; the app keeps serving` },
            { type: 'setTimer', name: 'drain', ms: config.drainMs },
          ],
        };
      }
      return beginStop(stopping, config, effects);
    }
    case 'draining':
      return beginStop(state, config, [
        { type: 'log', level: 'info', msg: `${name} received again during the drain: stopping now` },
        { type: 'clearTimer', name: 'drain' },
      ]);
    default:
      return {
        state,
        effects: [
          { type: 'log', level: 'warn', msg: `${name} received again while stopping: SIGKILL now` },
          { type: 'clearTimer', name: 'grace' },
          ...kill(state, config),
        ],
      };
  }
}

/** SIGKILL to what runs: the app's group and the running init script's group. */
function kill(state: State, config: MachineConfig): Effect[] {
  const effects: Effect[] = [];
  if (state.appPid !== null) effects.push({ type: 'signalApp', signal: SIG.KILL, scope: scope(config) });
  if (state.init.status === 'running') effects.push({ type: 'signalInit', signal: SIG.KILL });
  return effects;
}

function onTimer(state: State, name: 'drain' | 'grace', config: MachineConfig): Transition {
  if (name === 'drain' && state.phase === 'draining') {
    return beginStop(state, config, [{ type: 'log', level: 'info', msg: 'drain period over' }]);
  }
  if (name === 'grace' && state.phase === 'stopping') {
    return {
      state,
      effects: [{ type: 'log', level: 'warn', msg: `grace period of ${formatDuration(config.graceMs)} over: SIGKILL to what is left` }, ...kill(state, config)],
    };
  }
  return { state, effects: [] };
}

function beginStop(state: State, config: MachineConfig, effects: readonly Effect[]): Transition {
  const signal = state.stopSignal ?? SIG.TERM;
  const grace = formatDuration(config.graceMs);
  const send: Effect[] = [];
  if (state.appPid !== null && !state.appExit) {
    if (config.platformSignalsApp && state.forcedExitCode === null) {
      send.push({ type: 'log', level: 'info', msg: `the platform signals every process itself: not sending ${signalName(signal)} again; SIGKILL in ${grace}` });
    } else {
      send.push({ type: 'log', level: 'info', msg: `sending ${signalName(signal)} to the app; SIGKILL in ${grace}`, fields: { scope: scope(config) } });
      send.push({ type: 'signalApp', signal, scope: scope(config) });
    }
  }
  if (state.init.status === 'running') send.push({ type: 'signalInit', signal });
  return {
    state: { ...state, phase: 'stopping', stopReason: state.stopReason ?? `stopping: ${signalName(signal)} sent`, graceStarted: true },
    effects: [...effects, { type: 'publish' }, ...send, { type: 'setTimer', name: 'grace', ms: config.graceMs }],
  };
}

function finalCode(state: State, appCode: number): number {
  if (state.forcedExitCode === null) return appCode;
  // -1: stopped for failing liveness; the exit must say so even if the app exited cleanly.
  if (state.forcedExitCode === -1) return appCode === 0 ? 1 : appCode;
  return state.forcedExitCode;
}

function onAppExit(state: State, code: number | null, signal: number | null, config: MachineConfig): Transition {
  const exitCode = finalCode(state, mapExit(signal !== null ? 128 + signal : (code ?? 1), config));
  const how = signal !== null ? { signal: signalName(signal) } : { code };
  const exited: State = { ...state, appExit: { code, signal }, exitCode };
  const log: Effect = { type: 'log', level: 'info', msg: 'app exited', fields: { ...how, exitCode } };
  const stopInit: Effect[] = state.init.status === 'running' ? [{ type: 'signalInit', signal: SIG.KILL }] : [];
  if (config.singleChild) return exit(exited, exitCode, [log, ...stopInit]);
  return {
    state: { ...exited, phase: 'stopping' },
    effects: [log, ...stopInit, { type: 'clearTimer', name: 'drain' }, { type: 'checkGroup' }],
  };
}

function onGroupChecked(state: State, live: number, config: MachineConfig): Transition {
  if (state.phase !== 'stopping' || !state.appExit || state.exitCode === null) return { state, effects: [] };
  if (live === 0) return exit(state, state.exitCode, [{ type: 'log', level: 'info', msg: 'exiting', fields: { exitCode: state.exitCode } }]);
  if (state.graceStarted) return { state, effects: [] };
  return {
    state: { ...state, graceStarted: true },
    effects: [
      { type: 'log', level: 'info', msg: `${live} process(es) left in the app's group: SIGTERM, SIGKILL in ${formatDuration(config.graceMs)}` },
      { type: 'signalApp', signal: SIG.TERM, scope: 'group' },
      { type: 'setTimer', name: 'grace', ms: config.graceMs },
    ],
  };
}
