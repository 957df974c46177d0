import { formatDuration, formatSpan } from '../config/duration.js';
import { SIG, signalName } from '../config/signals.js';
import { appOutcome, exit, finalExitCode, kill, scope, signalApp } from './outcomes.js';
import type { Effect, EventOf, MachineConfig, State, Transition } from './types.js';

/**
 * The stop sequence: TERM/INT -> unready, drain, stop signal, grace, SIGKILL; then the app's
 * exit, what is left of its group, and usher's own exit code.
 */
export const STOP_REQUESTS = new Set<number>([SIG.TERM, SIG.INT]);

export function onStopRequest(state: State, name: string, signal: number, config: MachineConfig, at: number): Transition {
  switch (state.phase) {
    case 'initializing': {
      // No app yet: the init scripts get the stop sequence, and the app never starts.
      if (state.init.status !== 'running') return exit({ ...state, stopReason: `stopped by ${name}` }, 128 + signal, [], config);
      return beginStop({ ...state, stopReason: `stopping: ${name} received`, stopSignal: config.stopSignal ?? signal }, config, [
        { type: 'log', level: 'info', msg: `${name} received during the init scripts: stopping them; the app will not start` },
      ]);
    }
    case 'running': {
      const stopping: State = { ...state, stopReason: `stopping: ${name} received`, stopSignal: config.stopSignal ?? signal };
      const effects: Effect[] = [{ type: 'log', level: 'info', msg: `${name} received: not ready from now on` }, { type: 'publish' }];
      if (config.drainMs > 0) return beginDrain({ ...stopping, phase: 'draining', stopReason: `draining: ${name} received`, drainStartedAt: at }, config, effects);
      return beginStop(stopping, config, effects);
    }
    case 'draining':
      return beginStop(state, config, [{ type: 'log', level: 'info', msg: `${name} received again during the drain: stopping now` }]);
    default:
      // Once the stop signal went out, another one is forwarded like any signal: a Procfile
      // runner's Ctrl-C sends INT and TERM at once, and the app must finish its stop. SIGKILL
      // comes at the grace end; whoever wants it now sends SIGKILL.
      if (state.appPid === null || state.appExit) return { state, effects: [{ type: 'log', level: 'info', msg: `${name} received while stopping: no app runs to forward it to` }] };
      return {
        state,
        effects: [
          { type: 'log', level: 'info', msg: `${name} received while stopping: forwarded as ${signalName(signal)}; SIGKILL at the grace end`, fields: { scope: scope(config) } },
          ...signalApp(state, signal, config),
        ],
      };
  }
}

/** The drain: unready already, the app still serving; the stop signal waits for its end. */
function beginDrain(state: State, config: MachineConfig, effects: readonly Effect[]): Transition {
  const drain = formatDuration(config.drainMs);
  if (config.drainIdleMs === undefined) {
    return {
      state,
      effects: [...effects, { type: 'log', level: 'info', msg: `draining for ${drain} before the stop signal; the app keeps serving` }, { type: 'setTimer', name: 'drain', ms: config.drainMs }],
    };
  }
  return {
    state,
    effects: [
      ...effects,
      { type: 'log', level: 'info', msg: `draining until the readiness ports have had no traffic for ${formatDuration(config.drainIdleMs)}, ${drain} at most; the app keeps serving` },
      { type: 'setTimer', name: 'drain', ms: config.drainMs },
      { type: 'watchDrainTraffic', since: state.drainStartedAt ?? 0, idleMs: config.drainIdleMs },
    ],
  };
}

/** --drain-idle: the ports went quiet, so the drain is over before its limit. */
export function onDrainQuiet(state: State, event: EventOf<'drainQuiet'>, config: MachineConfig): Transition {
  if (state.phase !== 'draining' || config.drainIdleMs === undefined) return { state, effects: [] };
  const after = formatSpan(event.at - (state.drainStartedAt ?? event.at));
  return beginStop(state, config, [{ type: 'log', level: 'info', msg: `drain ended after ${after}: no traffic for ${formatDuration(config.drainIdleMs)}`, fields: { quietMs: event.quietMs } }]);
}

export function onTimer(state: State, name: 'drain' | 'grace', config: MachineConfig): Transition {
  if (name === 'drain' && state.phase === 'draining') {
    const msg = config.drainIdleMs === undefined ? 'drain period over' : `drain ended at its limit of ${formatDuration(config.drainMs)}: traffic still arriving`;
    return beginStop(state, config, [{ type: 'log', level: 'info', msg }]);
  }
  if (name === 'grace' && state.phase === 'stopping') {
    return {
      state: { ...state, killSent: true },
      effects: [{ type: 'log', level: 'warn', msg: `grace period of ${formatDuration(config.graceMs)} over: SIGKILL to what is left` }, ...kill(state, config)],
    };
  }
  return { state, effects: [] };
}

/**
 * A stop the platform began (Heroku): it sent TERM to every process itself, and a second one is,
 * to many apps, "stop now". A stop usher began (a failed init script, a liveness failure) is
 * usher's to signal.
 */
function platformSignalled(state: State, config: MachineConfig): boolean {
  return config.platformSignalsApp && state.forcedExitCode === null && state.stopSignal !== null;
}

export function beginStop(state: State, config: MachineConfig, effects: readonly Effect[]): Transition {
  const signal = state.stopSignal ?? SIG.TERM;
  const grace = formatDuration(config.graceMs);
  const send: Effect[] = [];
  const signalled = platformSignalled(state, config);
  if (state.appPid !== null && !state.appExit) {
    if (signalled) {
      send.push({ type: 'log', level: 'info', msg: `the platform signals every process itself: not sending ${signalName(signal)} again; SIGKILL in ${grace}` });
    } else {
      send.push({ type: 'log', level: 'info', msg: `sending ${signalName(signal)} to the app; SIGKILL in ${grace}`, fields: { scope: scope(config) } });
      send.push(...signalApp(state, signal, config));
    }
  }
  // Init scripts get TERM, whatever the app's stop signal: they are shell scripts, not nginx.
  if (state.init.status === 'running') send.push({ type: 'signalInit', signal: SIG.TERM });
  // What usher adopted as subreaper (daemons that double-forked away) stops with the app.
  if (!signalled) send.push({ type: 'signalOrphans', signal: SIG.TERM, pgid: state.appPid });
  return {
    state: { ...state, phase: 'stopping', stopReason: state.stopReason ?? `stopping: ${signalName(signal)} sent`, graceStarted: true, drainStartedAt: null },
    effects: [...effects, ...endDrain(state, config), { type: 'publish' }, ...send, { type: 'setTimer', name: 'grace', ms: config.graceMs }],
  };
}

/** Whatever ends a drain (its limit, quiet ports, a second TERM, the app's exit) stops its timer and its watch. */
function endDrain(state: State, config: MachineConfig): Effect[] {
  if (state.phase !== 'draining') return [];
  return [{ type: 'clearTimer', name: 'drain' }, ...(config.drainIdleMs === undefined ? [] : [{ type: 'unwatchDrainTraffic' } as const])];
}

export function onAppExit(state: State, event: EventOf<'appExited'>, config: MachineConfig): Transition {
  const exited: State = { ...state, appExit: { code: event.code, signal: event.signal } };
  const code = appOutcome(exited);
  const how = event.signal !== null ? { signal: signalName(event.signal) } : { code: event.code };
  const log: Effect = { type: 'log', level: 'info', msg: 'app exited', fields: { ...how, exitCode: finalExitCode(exited, code, config) } };
  const stopInit: Effect[] = state.init.status === 'running' ? [{ type: 'signalInit', signal: SIG.KILL }] : [];
  if (config.singleChild || state.appPid === null) return exit(exited, code, [log, ...stopInit], config);
  // During a stop, what the stop signal could not reach (a daemon that was still the app's child,
  // in a session of its own) is adopted now: it gets its TERM before the grace ends. The app's
  // group is left to the stop signal's scope: under --signals app its members get SIGKILL only.
  const stopping = state.graceStarted && !state.killSent && !platformSignalled(state, config);
  const termLeftovers: Effect[] = stopping ? [{ type: 'signalLeftovers', signal: SIG.TERM, pgid: state.appPid, spareGroup: true }] : [];
  return {
    state: { ...exited, phase: 'stopping', exitCode: finalExitCode(exited, code, config), drainStartedAt: null },
    effects: [log, ...stopInit, ...endDrain(state, config), ...termLeftovers, { type: 'watchLeftovers', pgid: state.appPid }],
  };
}

export function onLeftoversCounted(state: State, live: number, config: MachineConfig): Transition {
  if (state.phase !== 'stopping' || !state.appExit) return { state, effects: [] };
  // "app exited" said it, with the code: the exit itself is news only at debug.
  if (live === 0) return exit(state, appOutcome(state), [{ type: 'log', level: 'debug', msg: 'exiting', fields: { exitCode: finalExitCode(state, appOutcome(state), config) } }], config);
  // Past the grace, whatever shows up (the children of a killed daemon, adopted now) goes at once.
  if (state.killSent) return { state, effects: [{ type: 'signalLeftovers', signal: SIG.KILL, pgid: state.appPid }] };
  if (state.graceStarted) return { state, effects: [] };
  if (platformSignalled(state, config)) {
    return {
      state: { ...state, graceStarted: true },
      effects: [
        { type: 'log', level: 'info', msg: `${live} process(es) left of the app, signalled by the platform: SIGKILL in ${formatDuration(config.graceMs)}` },
        { type: 'setTimer', name: 'grace', ms: config.graceMs },
      ],
    };
  }
  return {
    state: { ...state, graceStarted: true },
    effects: [
      { type: 'log', level: 'info', msg: `${live} process(es) left of the app: SIGTERM, SIGKILL in ${formatDuration(config.graceMs)}` },
      { type: 'signalLeftovers', signal: SIG.TERM, pgid: state.appPid },
      { type: 'setTimer', name: 'grace', ms: config.graceMs },
    ],
  };
}
