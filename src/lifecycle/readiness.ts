import type { State } from './types.js';

/** What readiness is made of; each is there only when configured (the app always is). */
export type ReadinessSourceName = 'init' | 'app' | 'ports' | 'checks' | 'ready-fd' | 'notify-socket';

export interface ReadinessSource {
  readonly source: ReadinessSourceName;
  readonly ready: boolean;
  /** Why not, when not. */
  readonly reason: string | null;
}

/** `:8080`, `:8080 and :9090`, `:80, :443 and :8080`. */
export function listPorts(ports: readonly number[]): string {
  const names = ports.map((port) => `:${port}`);
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

const yes = (source: ReadinessSourceName): ReadinessSource => ({ source, ready: true, reason: null });
const no = (source: ReadinessSourceName, reason: string): ReadinessSource => ({ source, ready: false, reason });

/**
 * The one readiness rule: ready = init scripts ok AND the app running AND every configured
 * source ready (the readiness ports, the readiness checks, the app's own word over --ready-fd or
 * --notify-socket), outside a stop. In this order, most fundamental first.
 */
export function readinessSources(state: State): ReadinessSource[] {
  const sources: ReadinessSource[] = [];
  const { init, ports, checks, app } = state;
  if (init.status === 'failed') sources.push(no('init', init.failure ?? 'an init script failed'));
  else if (init.status === 'running') sources.push(no('init', init.current ? `init script ${init.current} running` : 'init scripts running'));
  else if (init.status === 'ok') sources.push(yes('init'));
  if (state.appExit) sources.push(no('app', 'the app has exited'));
  else sources.push(state.appPid === null ? no('app', 'starting') : yes('app'));
  if (ports.status === 'waiting') sources.push(no('ports', `waiting for the app to listen on ${listPorts(ports.missing)}`));
  else if (ports.status === 'lost') sources.push(no('ports', `no longer listening on ${listPorts(ports.missing)}`));
  else if (ports.status === 'listening') sources.push(yes('ports'));
  if (checks.ready === 'failing') sources.push(no('checks', checks.readyReason ?? 'a readiness check is failing'));
  else if (checks.ready === 'unknown') sources.push(no('checks', 'waiting for the readiness checks to pass'));
  else if (checks.ready === 'passing') sources.push(yes('checks'));
  if (app.via !== null) {
    if (app.said === 'stopping') sources.push(no(app.via, 'the app said it is stopping'));
    else sources.push(app.said === 'ready' ? yes(app.via) : no(app.via, 'waiting for the app to say it is ready'));
  }
  return sources;
}

/** Derived after every event: a stop overrides every source; else the first source not ready says why. */
export function readiness(state: State): { ready: boolean; reason: string | null } {
  if (state.phase === 'exited' || state.appExit) return { ready: false, reason: 'the app has exited' };
  if (state.stopReason) return { ready: false, reason: state.stopReason };
  const holding = readinessSources(state).find((source) => !source.ready);
  return holding ? { ready: false, reason: holding.reason } : { ready: true, reason: null };
}

/** Why liveness fails, if it does: a liveness check past its threshold, or a missed watchdog. */
export function liveFailure(state: State): string | null {
  return state.checks.liveFailing ?? state.app.watchdogFailing;
}
