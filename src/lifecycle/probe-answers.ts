import { PROBE_CODES, type ProbeCode, type ProbeKind } from '../state/schema.js';
import { liveFailure, readinessSources, type ReadinessSourceName } from './readiness.js';
import type { State } from './types.js';

export interface ProbeAnswer {
  readonly code: ProbeCode;
  /** Why not ok; '' when ok. */
  readonly reason: string;
  /** When a failing check is the reason: what it last said (`output: db replica lag 42s`); else ''. */
  readonly detail: string;
}

/**
 * The answer to each probe (README, "Probes: exit codes"), the one source for state.json, the markers, the HTTP
 * server and so `usher probe`, `usher-probe` and `/readyz` alike. Liveness holds during a slow
 * init and during the drain: neither must ever get the container killed.
 */
export function probeAnswers(state: State): Record<ProbeKind, ProbeAnswer> {
  const ok: ProbeAnswer = { code: PROBE_CODES.ok, reason: '', detail: '' };
  const answer = (code: ProbeCode, reason: string, detail = ''): ProbeAnswer => ({ code, reason, detail });
  if (state.phase === 'exited' || state.appExit) {
    const exited = answer(PROBE_CODES.appExited, state.appExit ? 'the app has exited' : (state.stopReason ?? 'usher has exited'));
    return { startup: exited, ready: exited, live: exited };
  }
  const failing = liveFailure(state);
  // A missed watchdog says nothing more; a liveness check says what it printed.
  const live = failing ? answer(PROBE_CODES.checkFailing, failing, state.checks.liveFailing === null ? '' : state.checks.liveDetail) : ok;
  const stopping = state.phase === 'draining' || state.phase === 'stopping' || state.app.said === 'stopping';
  let startup: ProbeAnswer = ok;
  if (state.init.status === 'failed') startup = answer(PROBE_CODES.initFailed, state.init.failure ?? 'an init script failed');
  else if (stopping && state.appPid === null) startup = answer(PROBE_CODES.stopping, state.stopReason ?? 'stopping');
  else if (state.init.status === 'running' || state.appPid === null) startup = answer(PROBE_CODES.notYet, state.reason ?? 'starting');
  let ready: ProbeAnswer = ok;
  if (!state.ready) {
    const holding = readinessSources(state).find((source) => !source.ready);
    if (state.phase === 'draining' || state.phase === 'stopping' || !holding) ready = answer(PROBE_CODES.stopping, state.reason ?? 'stopping');
    else {
      const detail = holding.source === 'checks' && state.checks.ready === 'failing' ? state.checks.readyDetail : '';
      ready = answer(readyCode(state, holding.source), holding.reason ?? 'starting', detail);
    }
  }
  return { startup, ready, live };
}

/** The code of the source that holds readiness back: failed for good (2, 3), stopping (4), or not yet (1). */
function readyCode(state: State, source: ReadinessSourceName): ProbeCode {
  switch (source) {
    case 'init':
      return state.init.status === 'failed' ? PROBE_CODES.initFailed : PROBE_CODES.notYet;
    case 'ports':
      return state.ports.status === 'lost' ? PROBE_CODES.checkFailing : PROBE_CODES.notYet;
    case 'checks':
      return state.checks.ready === 'failing' ? PROBE_CODES.checkFailing : PROBE_CODES.notYet;
    case 'ready-fd':
    case 'notify-socket':
      return state.app.said === 'stopping' ? PROBE_CODES.stopping : PROBE_CODES.notYet;
    case 'app':
      return PROBE_CODES.notYet;
  }
}
