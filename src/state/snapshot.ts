import { signalName } from '../config/signals.js';
import { probeAnswers } from '../lifecycle/probe-codes.js';
import type { Phase, State } from '../lifecycle/types.js';
import { STATE_VERSION, type CheckRecord, type InitScriptRecord, type PhaseMark, type StateFile } from './schema.js';

export interface SnapshotInput {
  readonly state: State;
  readonly startedAt: number;
  readonly timeline: readonly PhaseMark[];
  readonly init: readonly InitScriptRecord[];
  readonly checks: readonly CheckRecord[];
  readonly reasonSince: number;
}

/** The state file's content for a moment of the lifecycle; the writer adds the heartbeat. */
export function buildSnapshot(input: SnapshotInput): StateFile {
  const { state } = input;
  const probes = probeAnswers(state);
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
    reasonSince: state.ready ? 0 : input.reasonSince,
    phase: state.phase as Phase,
    appPid: state.appPid ?? 0,
    startedAt: input.startedAt,
    exitCode: state.exitCode ?? -1,
    appStatus: state.app.status ?? '',
    appMainPid: state.app.mainPid ?? 0,
    timeline: input.timeline,
    init: input.init,
    checks: input.checks,
    lastReload: state.lastReload ? { at: state.lastReload.at, path: state.lastReload.path, signal: signalName(state.lastReload.signal) } : null,
  };
}
