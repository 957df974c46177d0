/**
 * Reads `state.json` for `usher probe` and `usher status`, and turns it into an
 * exit code and the one line that says why. bin/usher-probe repeats this logic in sh: every
 * message and every rule here has its twin there, and a test runs both on the same files.
 * Keep this module free of heavy imports: the probe bundle must start as fast as `node -e 0`.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { errorCode } from '../sys/errno.js';
import { processName } from '../sys/proc.js';
import { formatElapsed } from '../config/duration.js';
import { CODE_FIELD, DETAIL_FIELD, PROBE_CODES, REASON_FIELD, STALE_NAME, STATE_FILE, STATE_VERSION, type ProbeCode, type ProbeKind, type StateFile } from './schema.js';

export type ReadResult =
  | { readonly ok: true; readonly state: StateFile }
  /** `state` is there when the file parsed but its usher is gone or stale (`usher status` shows it). */
  | { readonly ok: false; readonly code: 6; readonly reason: string; readonly state?: StateFile };

export interface ProbeLine {
  readonly code: ProbeCode;
  /**
   * The line that says why: `not ready: init script 10-migrate.sh running for 4m12s`, and after
   * a failing check's reason what it said: `not ready: readiness check ready-cmd-1 failing:
   * exit 17 for 3s; output: db replica lag 42s`.
   */
  readonly line: string;
}

/** How each probe says ok and not ok at the start of its line. */
export const PROBE_LABELS: Readonly<Record<ProbeKind, { readonly ok: string; readonly not: string }>> = {
  startup: { ok: 'started', not: 'not started' },
  ready: { ok: 'ready', not: 'not ready' },
  live: { ok: 'live', not: 'not live' },
};

/**
 * Reads and judges the state in `dir`. Time is taken in whole seconds because bin/usher-probe
 * only has `date +%s`: both then call the same state stale at the same instant.
 */
export function readState(dir: string, now = Date.now()): ReadResult {
  const file = path.join(dir, STATE_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = errorCode(error);
    // A directory at the file's name looks the same as no file to `[ -f ]` in the sh twin.
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return noUsher(`no ${STATE_FILE} in ${dir}`);
    return noUsher(`cannot read ${file} (${code})`);
  }
  const parsed = parseState(text);
  if (parsed === 'invalid') return noUsher(`${STATE_FILE} in ${dir} is not valid usher state`);
  if (typeof parsed === 'number') return noUsher(`${STATE_FILE} in ${dir} has version ${parsed}, this usher reads version ${STATE_VERSION}`);
  const state = parsed;
  if (!existsSync(`/proc/${state.usherPid}`)) {
    return noUsher(`state in ${dir} is left over: usher pid ${state.usherPid} is gone`, state);
  }
  if (processName(state.usherPid) === STALE_NAME) {
    return noUsher(`state in ${dir} is out of date: usher pid ${state.usherPid} cannot write it`, state);
  }
  const ageMs = wholeSeconds(now) * 1000 - state.heartbeatAt;
  if (ageMs > state.staleAfterMs) {
    return noUsher(`state in ${dir} is stale: heartbeat ${formatElapsed(Math.floor(ageMs / 1000))} ago`, state);
  }
  return { ok: true, state };
}

/** The exit code and line of one probe against a live state. */
export function probeLine(kind: ProbeKind, state: StateFile, now = Date.now()): ProbeLine {
  const code = state[CODE_FIELD[kind]];
  const label = PROBE_LABELS[kind];
  if (code === PROBE_CODES.ok) return { code, line: `${label.ok}: ${describeRunning(state)}` };
  const reason = state[REASON_FIELD[kind]];
  if (!reason) return { code, line: label.not };
  const since = state.reasonSince > 0 ? ` for ${formatElapsed(Math.max(0, wholeSeconds(now) - wholeSeconds(state.reasonSince)))}` : '';
  // Absent from files of older ushers: same version, a field fewer.
  const detail = state[DETAIL_FIELD[kind]];
  return { code, line: `${label.not}: ${reason}${since}${detail ? `; ${detail}` : ''}` };
}

/** The line of any probe when there is no live usher to ask. */
export function noUsherLine(kind: ProbeKind, reason: string): string {
  return `${PROBE_LABELS[kind].not}: no usher running (${reason})`;
}

function describeRunning(state: StateFile): string {
  if (state.phase === 'running' && state.appPid > 0) return `app running (pid ${state.appPid})`;
  return state.appPid > 0 ? `${state.phase} (app pid ${state.appPid})` : `${state.phase} (usher pid ${state.usherPid})`;
}


function noUsher(reason: string, state?: StateFile): ReadResult {
  return state ? { ok: false, code: PROBE_CODES.noUsher, reason, state } : { ok: false, code: PROBE_CODES.noUsher, reason };
}

function wholeSeconds(ms: number): number {
  return Math.floor(ms / 1000);
}

/**
 * The checks a reader relies on (the sh twin checks the same flat fields); the nested records
 * are only displayed, so they are not checked field by field. Returns the version number when
 * only that is wrong.
 */
function parseState(text: string): StateFile | number | 'invalid' {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'invalid';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'invalid';
  const record = value as Record<string, unknown>;
  if (!isCount(record.version)) return 'invalid';
  if (record.version !== STATE_VERSION) return record.version;
  const countsOk = ['heartbeatAt', 'staleAfterMs', 'reasonSince'].every((key) => isCount(record[key]));
  const codesOk = Object.values(CODE_FIELD).every((key) => isProbeCode(record[key]));
  const reasonsOk = Object.values(REASON_FIELD).every((key) => typeof record[key] === 'string');
  // Absent from files of older ushers; when there, a string (the sh twin checks the same).
  const detailsOk = Object.values(DETAIL_FIELD).every((key) => record[key] === undefined || typeof record[key] === 'string');
  if (!countsOk || !codesOk || !reasonsOk || !detailsOk || !isCount(record.usherPid) || record.usherPid === 0) return 'invalid';
  // An older usher's file has no details: '' (none said), as this one writes when there is nothing.
  const detail = (key: string): string => (typeof record[key] === 'string' ? record[key] : '');
  const checks = Array.isArray(record.checks)
    ? record.checks.map((check: unknown) => (typeof check === 'object' && check !== null && typeof (check as { lastDetail?: unknown }).lastDetail !== 'string' ? { ...check, lastDetail: '' } : check))
    : record.checks;
  return { ...record, startupDetail: detail('startupDetail'), readyDetail: detail('readyDetail'), liveDetail: detail('liveDetail'), checks } as unknown as StateFile;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isProbeCode(value: unknown): value is ProbeCode {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 6;
}
