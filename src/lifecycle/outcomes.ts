import { SIG } from '../config/signals.js';
import type { AppExit, Effect, MachineConfig, State, Transition } from './types.js';

/** What every part of the machine needs: where signals go, the exit code, and how it ends. */
export function scope(config: MachineConfig): 'group' | 'app' {
  return config.singleChild ? 'app' : config.signalScope;
}

/** A signal to the app (its group, or it alone): nothing when no app runs. */
export function signalApp(state: State, signal: number, config: MachineConfig, to: 'group' | 'app' = scope(config)): Effect[] {
  return state.appPid === null ? [] : [{ type: 'signalApp', signal, pid: state.appPid, scope: to }];
}

/** The shell's convention, which usher's exit code follows: the app's code, or 128+N after signal N. */
export function exitCodeOf(exit: AppExit): number {
  return exit.signal !== null ? 128 + exit.signal : (exit.code ?? 1);
}

/** The code usher owes once the app has exited, before --exit-map: a failed init script's, or the app's. */
export function appOutcome(state: State): number {
  if (state.forcedExitCode !== null && state.forcedExitCode >= 0) return state.forcedExitCode;
  return state.appExit ? exitCodeOf(state.appExit) : 1;
}

/**
 * --exit-map, applied here and only here: to every code usher ends with once its configuration
 * was accepted. After a stop for failing liveness usher never exits 0, even when the app exited
 * cleanly or its code maps to 0: that exit must say the app was unhealthy.
 */
export function finalExitCode(state: State, code: number, config: MachineConfig): number {
  const mapped = config.exitMap.get(code) ?? code;
  return state.forcedExitCode === LIVENESS_STOP && mapped === 0 ? 1 : mapped;
}

/** forcedExitCode of a stop for failing liveness (--on-unhealthy exit). */
export const LIVENESS_STOP = -1;

/** usher ends: `code` (before --exit-map) becomes its exit code; timers go, the final state is published. */
export function exit(state: State, code: number, effects: readonly Effect[], config: MachineConfig): Transition {
  const final = finalExitCode(state, code, config);
  return {
    state: { ...state, phase: 'exited', exitCode: final },
    effects: [...effects, { type: 'clearTimer', name: 'drain' }, { type: 'clearTimer', name: 'grace' }, { type: 'publish' }, { type: 'exit', code: final }],
  };
}

/**
 * SIGKILL to everything that runs, whatever --signals says: the app's whole group (or the app
 * with --single-child, whose group is usher's), what is left of it elsewhere (daemons that left
 * the group, adopted orphans), and the running init script's group.
 */
export function kill(state: State, config: MachineConfig): Effect[] {
  const effects: Effect[] = signalApp(state, SIG.KILL, config, config.singleChild ? 'app' : 'group');
  effects.push({ type: 'signalLeftovers', signal: SIG.KILL, pgid: config.singleChild ? null : state.appPid });
  if (state.init.status === 'running') effects.push({ type: 'signalInit', signal: SIG.KILL });
  return effects;
}
