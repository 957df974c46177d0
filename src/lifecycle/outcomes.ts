import type { Effect, MachineConfig, State, Transition } from './types.js';
import { SIG } from '../config/signals.js';

/** What every part of the machine needs: where signals go, the exit code, and how it ends. */
export function scope(config: MachineConfig): 'group' | 'app' {
  return config.singleChild ? 'app' : 'group';
}

export function mapExit(code: number, config: MachineConfig): number {
  return config.exitMap.get(code) ?? code;
}

export function exit(state: State, code: number, effects: readonly Effect[]): Transition {
  return {
    state: { ...state, phase: 'exited', exitCode: code },
    effects: [...effects, { type: 'clearTimer', name: 'drain' }, { type: 'clearTimer', name: 'grace' }, { type: 'publish' }, { type: 'exit', code }],
  };
}

/** SIGKILL to what runs: the app's group and the running init script's group. */
export function kill(state: State, config: MachineConfig): Effect[] {
  const effects: Effect[] = [];
  if (state.appPid !== null) effects.push({ type: 'signalApp', signal: SIG.KILL, scope: scope(config) });
  if (state.init.status === 'running') effects.push({ type: 'signalInit', signal: SIG.KILL });
  return effects;
}
