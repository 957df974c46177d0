import type { State } from './types.js';

/**
 * Ready = init succeeded AND the app runs AND every readiness check passes, outside a stop.
 * The first reason that holds is the one reported, most fundamental first.
 */
export function readiness(state: State): { ready: boolean; reason: string | null } {
  const no = (reason: string) => ({ ready: false, reason });
  if (state.phase === 'exited' || state.appExit) return no('the app has exited');
  if (state.stopReason) return no(state.stopReason);
  if (state.init.status === 'failed') return no(state.init.failure ?? 'an init script failed');
  if (state.init.status === 'running') return no(state.init.current ? `init script ${state.init.current} running` : 'init scripts running');
  if (state.appPid === null) return no('starting');
  if (state.checks.ready === 'failing') return no(state.checks.readyReason ?? 'a readiness check is failing');
  if (state.checks.ready === 'unknown') return no('waiting for the readiness checks to pass');
  if (state.app.said === 'stopping') return no('the app said it is stopping');
  if (state.app.said === 'waiting') return no('waiting for the app to say it is ready');
  return { ready: true, reason: null };
}

/** Why liveness fails, if it does: a liveness check past its threshold, or a missed watchdog. */
export function liveFailure(state: State): string | null {
  return state.checks.liveFailing ?? state.app.watchdogFailing;
}
