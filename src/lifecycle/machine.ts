import { formatDuration } from '../config/duration.js';
import { SIG, signalName } from '../config/signals.js';
import type { Effect, Event, MachineConfig, State, Transition } from './types.js';

/**
 * usher's lifecycle as one pure function: (state, event) -> (state, effects). Spawning,
 * signals, timers and the reaper are adapters that feed it events and carry out its effects.
 */
export const initialState: State = {
  phase: 'initializing', ready: false, reason: 'starting', appPid: null, appExit: null,
  stopSignal: null, graceStarted: false, exitCode: null,
};

const JOB_CONTROL_STOPS = new Set<number>([SIG.TSTP, SIG.TTIN, SIG.TTOU]);
const STOP_REQUESTS = new Set<number>([SIG.TERM, SIG.INT]);

export function transition(state: State, event: Event, config: MachineConfig): Transition {
  switch (event.type) {
    case 'start':
      return { state, effects: [{ type: 'spawnApp' }] };
    case 'spawned':
      return {
        state: { ...state, phase: 'running', appPid: event.pid, ready: true, reason: null },
        effects: [{ type: 'log', level: 'info', msg: 'app started', fields: { pid: event.pid } }, { type: 'publish' }],
      };
    case 'spawnFailed':
      return exit({ ...state, reason: event.message }, event.code, [{ type: 'log', level: 'error', msg: event.message, fields: { exitCode: event.code } }]);
    case 'signal':
      return onSignal(state, event.signal, config);
    case 'timer':
      if (event.name === 'drain' && state.phase === 'draining') {
        return beginStop(state, config, [{ type: 'log', level: 'info', msg: 'drain period over' }]);
      }
      if (event.name === 'grace' && state.phase === 'stopping') {
        return {
          state,
          effects: [
            { type: 'log', level: 'warn', msg: `grace period of ${formatDuration(config.graceMs)} over: SIGKILL to what is left` },
            { type: 'signalApp', signal: SIG.KILL, scope: scope(config) },
          ],
        };
      }
      return { state, effects: [] };
    case 'appExited':
      return onAppExit(state, event.code, event.signal, config);
    case 'groupChecked':
      return onGroupChecked(state, event.live, config);
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
    state: { ...state, phase: 'exited', ready: false, exitCode: code },
    effects: [...effects, { type: 'clearTimer', name: 'drain' }, { type: 'clearTimer', name: 'grace' }, { type: 'publish' }, { type: 'exit', code }],
  };
}

function onSignal(state: State, received: number, config: MachineConfig): Transition {
  const signal = config.rewrite.get(received) ?? received;
  const name = signalName(received);
  if (signal === 0) {
    return { state, effects: [{ type: 'log', level: 'info', msg: `${name} received: dropped by rewrite` }] };
  }
  const isStop = STOP_REQUESTS.has(received) || STOP_REQUESTS.has(signal);
  const rewritten = signal === received ? {} : { rewrittenTo: signalName(signal) };

  if (state.phase === 'exited') return { state, effects: [] };
  if (state.phase === 'initializing') {
    if (!isStop) return { state, effects: [{ type: 'log', level: 'info', msg: `${name} received before the app started: ignored` }] };
    return exit({ ...state, reason: `stopped by ${name}` }, mapExit(128 + signal, config), [
      { type: 'log', level: 'info', msg: `${name} received before the app started: exiting`, fields: rewritten },
    ]);
  }
  if (isStop) return onStopRequest(state, name, signal, config);

  if (state.appExit) {
    return { state, effects: [{ type: 'log', level: 'info', msg: `${name} received after the app exited: not forwarded` }] };
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
    case 'running': {
      const stopping: State = { ...state, ready: false, reason: `stopping: ${name} received`, stopSignal: config.stopSignal ?? signal };
      const effects: Effect[] = [{ type: 'log', level: 'info', msg: `${name} received: not ready from now on` }, { type: 'publish' }];
      if (config.drainMs > 0) {
        return {
          state: { ...stopping, phase: 'draining', reason: `draining: ${name} received` },
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
          { type: 'signalApp', signal: SIG.KILL, scope: scope(config) },
        ],
      };
  }
}

function beginStop(state: State, config: MachineConfig, effects: readonly Effect[]): Transition {
  const signal = state.stopSignal ?? SIG.TERM;
  const grace = formatDuration(config.graceMs);
  const send: Effect[] = config.platformSignalsApp
    ? [{ type: 'log', level: 'info', msg: `the platform signals every process itself: not sending ${signalName(signal)} again; SIGKILL in ${grace}` }]
    : [
        { type: 'log', level: 'info', msg: `sending ${signalName(signal)} to the app; SIGKILL in ${grace}`, fields: { scope: scope(config) } },
        { type: 'signalApp', signal, scope: scope(config) },
      ];
  return {
    state: { ...state, phase: 'stopping', reason: `stopping: ${signalName(signal)} sent`, graceStarted: true },
    effects: [...effects, { type: 'publish' }, ...send, { type: 'setTimer', name: 'grace', ms: config.graceMs }],
  };
}

function onAppExit(state: State, code: number | null, signal: number | null, config: MachineConfig): Transition {
  const exitCode = mapExit(signal !== null ? 128 + signal : (code ?? 1), config);
  const how = signal !== null ? { signal: signalName(signal) } : { code };
  const exited: State = { ...state, appExit: { code, signal }, exitCode, ready: false, reason: 'the app has exited' };
  const log: Effect = { type: 'log', level: 'info', msg: 'app exited', fields: { ...how, exitCode } };
  if (config.singleChild) return exit(exited, exitCode, [log]);
  return {
    state: { ...exited, phase: 'stopping' },
    effects: [log, { type: 'clearTimer', name: 'drain' }, { type: 'publish' }, { type: 'checkGroup' }],
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
