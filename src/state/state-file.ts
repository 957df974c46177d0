import { signalName } from '../config/signals.js';
import { probeAnswers } from '../lifecycle/probe-answers.js';
import { readinessSources } from '../lifecycle/readiness.js';
import type { State } from '../lifecycle/types.js';
import { STATE_VERSION, type CheckRecord, type InitScriptRecord, type StateFile } from './schema.js';

export interface StateFileInput {
  readonly state: State;
  /** What the init runner and the checks keep of each script and check. */
  readonly init: readonly InitScriptRecord[];
  readonly checks: readonly CheckRecord[];
}

/** The state file's content for a moment of the lifecycle; the writer adds the heartbeat. */
export function buildStateFile({ state, init, checks }: StateFileInput): StateFile {
  const probes = probeAnswers(state);
  const sources = readinessSources(state);
  const stopping = state.phase === 'draining' || state.phase === 'stopping' || state.phase === 'exited';
  return {
    version: STATE_VERSION,
    usherPid: process.pid,
    heartbeatAt: Date.now(),
    heartbeatMs: 0,
    staleAfterMs: 0,
    startupCode: probes.startup.code,
    readyCode: probes.ready.code,
    liveCode: probes.live.code,
    startupReason: probes.startup.reason,
    readyReason: probes.ready.reason,
    liveReason: probes.live.reason,
    startupDetail: probes.startup.detail,
    readyDetail: probes.ready.detail,
    liveDetail: probes.live.detail,
    reasonSince: state.ready ? 0 : state.reasonSince,
    phase: state.phase,
    appPid: state.appPid ?? 0,
    startedAt: state.startedAt,
    exitCode: state.exitCode ?? -1,
    appStatus: state.app.status ?? '',
    appMainPid: state.app.mainPid ?? 0,
    timeline: state.timeline,
    init,
    checks,
    lastReload: state.lastReload ? { at: state.lastReload.at, path: state.lastReload.path, signal: signalName(state.lastReload.signal) } : null,
    readiness: sources.map((source) => ({ source: source.source, ready: source.ready, reason: source.reason ?? '' })),
    readinessHeldBy: stopping ? '' : (sources.find((source) => !source.ready)?.source ?? ''),
    readyPorts: state.ports.configured,
  };
}
