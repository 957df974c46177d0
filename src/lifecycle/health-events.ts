import { SIG, signalName } from '../config/signals.js';
import { liveFailure } from './readiness.js';
import { LIVENESS_STOP, scope, signalApp } from './outcomes.js';
import { beginStop } from './stop.js';
import type { ChecksChanged, Effect, EventOf, MachineConfig, State, Transition } from './types.js';

/** What the checks, the app itself and watched files say while it runs. */
export function onChecksChanged(state: State, event: ChecksChanged, config: MachineConfig): Transition {
  const { ready, readyReason, liveFailing, readyDetail, liveDetail } = event;
  return onLivenessChange(state, { ...state, checks: { ready, readyReason, liveFailing, readyDetail, liveDetail } }, config);
}

/** Liveness turned bad: report it, and with --on-unhealthy exit stop the app. */
export function onLivenessChange(state: State, changed: State, config: MachineConfig): Transition {
  const failing = liveFailure(changed);
  if (failing === null || liveFailure(state) !== null) return { state: changed, effects: [] };
  const detail = changed.checks.liveFailing !== null && changed.checks.liveDetail ? `; ${changed.checks.liveDetail}` : '';
  const log: Effect = { type: 'log', level: 'warn', msg: `not live: ${failing}${detail}` };
  if (config.onUnhealthy !== 'exit' || (state.phase !== 'running' && state.phase !== 'draining')) return { state: changed, effects: [log] };
  const stopping: State = { ...changed, stopReason: `not live: ${failing}`, stopSignal: config.stopSignal ?? SIG.TERM, forcedExitCode: changed.forcedExitCode ?? LIVENESS_STOP };
  return beginStop(stopping, config, [log, { type: 'log', level: 'warn', msg: 'stopping the app (--on-unhealthy exit)' }]);
}

/** The readiness ports: lost once they were all listened on; still waiting until then. */
export function onPortsChanged(state: State, event: EventOf<'portsChanged'>): Transition {
  const status = event.missing.length === 0 ? 'listening' : state.ports.status === 'waiting' ? 'waiting' : 'lost';
  return { state: { ...state, ports: { ...state.ports, status, missing: event.missing } }, effects: [] };
}

export function onAppReport(state: State, event: EventOf<'appReport'>): Transition {
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
export function onReload(state: State, event: EventOf<'reloadRequested'>, config: MachineConfig): Transition {
  const { path, detail, at } = event;
  const name = signalName(config.reloadSignal);
  if (state.phase !== 'running' || state.appPid === null || state.appExit) {
    return { state, effects: [{ type: 'log', level: 'info', msg: `${path} changed: reload skipped while ${state.phase}`, fields: { path, detail } }] };
  }
  return {
    state: { ...state, lastReload: { path, signal: config.reloadSignal, at } },
    effects: [
      { type: 'log', level: 'info', msg: `${path} changed: ${name} sent to the app`, fields: { path, detail, signal: name, scope: scope(config) } },
      ...signalApp(state, config.reloadSignal, config),
      { type: 'publish' },
    ],
  };
}
