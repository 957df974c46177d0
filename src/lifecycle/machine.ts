import { SIG, signalName } from '../config/signals.js';
import { onAppReport, onChecksChanged, onLivenessChange, onPortsChanged, onReload } from './health-events.js';
import { onInitDone, onInitFailed, onInitStopped, onStart } from './init-events.js';
import { exit, scope, signalApp } from './outcomes.js';
import { readiness } from './readiness.js';
import { onAppExit, onDrainQuiet, onLeftoversCounted, onStopRequest, onTimer, STOP_REQUESTS } from './stop.js';
import type { Effect, Event, MachineConfig, State, Transition } from './types.js';

/**
 * usher's lifecycle as one pure function: (state, event) -> (state, effects). Spawning,
 * signals, timers, init scripts, checks and the reaper are adapters that feed it events and
 * carry out its effects. Readiness is derived after every event, never set by hand, and the
 * machine keeps the timeline: each event says when it happened.
 */
export const initialState: State = {
  phase: 'initializing', startedAt: 0, timeline: [], ready: false, reason: 'starting', reasonSince: 0, appPid: null, appExit: null, heldSignals: [],
  init: { status: 'none', current: null, failure: null },
  checks: { ready: 'none', readyReason: null, liveFailing: null, readyDetail: '', liveDetail: '' },
  ports: { status: 'none', configured: [], missing: [] }, drainStartedAt: null,
  stopReason: null, stopSignal: null, graceStarted: false, killSent: false, forcedExitCode: null, exitCode: null, lastReload: null,
  app: { via: null, said: 'not-asked', status: null, mainPid: null, watchdogFailing: null },
};

const JOB_CONTROL_STOPS = new Set<number>([SIG.TSTP, SIG.TTIN, SIG.TTOU]);

export function transition(state: State, event: Event, config: MachineConfig): Transition {
  const next = step(state, event, config);
  let settled: State = { ...next.state, ...readiness(next.state) };
  if (settled.phase !== state.phase) settled = { ...settled, timeline: [...settled.timeline, { phase: settled.phase, at: event.at }] };
  if (settled.reason !== state.reason) settled = { ...settled, reasonSince: event.at };
  const visible = settled.phase !== state.phase || settled.ready !== state.ready || settled.reason !== state.reason
    || settled.init !== state.init || settled.checks !== state.checks || settled.app !== state.app || settled.ports !== state.ports;
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
    case 'start': {
      const started: State = {
        ...state, startedAt: event.at, timeline: [{ phase: state.phase, at: event.at }], reasonSince: event.at,
        ports: config.readyPorts.length > 0 ? { status: 'waiting', configured: config.readyPorts, missing: config.readyPorts } : state.ports,
        app: config.appReadyVia ? { ...state.app, via: config.appReadyVia, said: 'waiting' } : state.app,
      };
      return onStart(started, config);
    }
    case 'spawned':
      return onSpawned(state, event.pid, config);
    case 'spawnFailed':
      return exit({ ...state, stopReason: event.message }, event.code, [{ type: 'log', level: 'error', msg: event.message, fields: { exitCode: event.code } }], config);
    case 'signal':
      return onSignal(state, event.signal, config, event.at);
    case 'timer':
      return onTimer(state, event.name, config);
    case 'appExited':
      return onAppExit(state, event, config);
    case 'leftoversCounted':
      return onLeftoversCounted(state, event.live, config);
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
    case 'portsChanged':
      return onPortsChanged(state, event);
    case 'drainQuiet':
      return onDrainQuiet(state, event, config);
  }
}

function onSpawned(state: State, pid: number, config: MachineConfig): Transition {
  const running: State = { ...state, phase: state.phase === 'initializing' ? 'running' : state.phase, appPid: pid, heldSignals: [] };
  // 'app started' is said by the start line (main.ts), which carries the pid.
  const effects: Effect[] = [];
  for (const signal of state.heldSignals) {
    effects.push({ type: 'log', level: 'info', msg: `${signalName(signal)} held from before the start: forwarded`, fields: { scope: scope(config) } });
    effects.push(...signalApp(running, signal, config));
  }
  // A Ctrl-Z held for the app stops usher too once the app has it, as one forwarded at once does.
  if (state.heldSignals.some((signal) => JOB_CONTROL_STOPS.has(signal))) effects.push({ type: 'stopSelf' });
  return { state: running, effects };
}

function onSignal(state: State, received: number, config: MachineConfig, at: number): Transition {
  const signal = config.rewrite.get(received) ?? received;
  const name = signalName(received);
  if (signal === 0) {
    return { state, effects: [{ type: 'log', level: 'info', msg: `${name} received: dropped by rewrite` }] };
  }
  const isStop = STOP_REQUESTS.has(received) || STOP_REQUESTS.has(signal);
  if (state.phase === 'exited') return { state, effects: [] };
  if (isStop) return onStopRequest(state, name, signal, config, at);
  if (state.appPid === null && !state.appExit && !config.init.only) {
    // The app is yet to start (usher's own start-up, init scripts before it): held for it, as a
    // blocked signal would be, not lost.
    const heldSignals = state.heldSignals.includes(signal) ? state.heldSignals : [...state.heldSignals, signal];
    return { state: { ...state, heldSignals }, effects: [{ type: 'log', level: 'info', msg: `${name} received before the app started: held for it` }] };
  }
  if (state.appPid === null || state.appExit) {
    return { state, effects: [{ type: 'log', level: 'info', msg: `${name} received while no app runs: not forwarded` }] };
  }
  const effects: Effect[] = [
    { type: 'log', level: signal === SIG.WINCH ? 'debug' : 'info', msg: `${name} received: forwarded as ${signalName(signal)}`, fields: { scope: scope(config) } },
    ...signalApp(state, signal, config),
  ];
  if (JOB_CONTROL_STOPS.has(signal)) effects.push({ type: 'stopSelf' });
  return { state, effects };
}
