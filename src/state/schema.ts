/**
 * The contract of the state directory: what usher writes, and what `usher probe`,
 * `bin/usher-probe` and `usher status` read (ARCHITECTURE.md, "State files"). Times are epoch
 * milliseconds.
 *
 * The flat fields come first and stay primitives: JSON.stringify(state, null, 2) then puts
 * each on a line of its own (`  "readyCode": 1,`), which bin/usher-probe reads line by line
 * with the shell's `read`, up to `reasonSince`.
 *
 * Fields added later within version 1 (the details, the readiness records, …) may be absent from
 * a file an older usher wrote: readers take a missing one as empty. A reader of version 1 never
 * depends on a field it does not know, so adding one needs no new version; changing or removing
 * one does.
 */
import type { Phase, PhaseMark } from '../lifecycle/phases.js';

export type { Phase, PhaseMark };

export const STATE_VERSION = 1;

/** The state file in the state directory. */
export const STATE_FILE = 'state.json';

/**
 * usher's process name (/proc/PID/comm) while its state file is out of date and could not be
 * removed (a read-only remount): readers answer 6 rather than trust an older, better state.
 * While the file is current the name is USHER_NAME.
 */
export const STALE_NAME = 'usher-stale';
export const USHER_NAME = 'usher';

/** The lock a live usher holds on its state directory (a second usher uses a directory of its own). */
export const LOCK_FILE = 'usher.lock';

/** `usher probe` exit codes (README, "Probes: exit codes"). */
export const PROBE_CODES = {
  ok: 0,
  notYet: 1,
  initFailed: 2,
  checkFailing: 3,
  stopping: 4,
  appExited: 5,
  noUsher: 6,
  usage: 64,
} as const;

export type ProbeCode = 0 | 1 | 2 | 3 | 4 | 5 | 6;
export const PROBE_KINDS = ['startup', 'ready', 'live'] as const;
export type ProbeKind = (typeof PROBE_KINDS)[number];

/** Each probe's fields in the state file, and its marker file, which exists exactly when the probe answers 0. */
export const CODE_FIELD = { startup: 'startupCode', ready: 'readyCode', live: 'liveCode' } as const satisfies Record<ProbeKind, keyof StateFile>;
export const REASON_FIELD = { startup: 'startupReason', ready: 'readyReason', live: 'liveReason' } as const satisfies Record<ProbeKind, keyof StateFile>;
export const DETAIL_FIELD = { startup: 'startupDetail', ready: 'readyDetail', live: 'liveDetail' } as const satisfies Record<ProbeKind, keyof StateFile>;
export const MARKER_FILE = { startup: 'started', ready: 'ready', live: 'live' } as const satisfies Record<ProbeKind, string>;

export interface InitScriptRecord {
  readonly name: string;
  readonly path: string;
  readonly status: 'pending' | 'running' | 'ok' | 'failed' | 'timeout' | 'stopped' | 'skipped';
  readonly startedAt: number | null;
  readonly endedAt: number | null;
  readonly exitCode: number | null;
  readonly signal: string | null;
}

export interface CheckRecord {
  /** e.g. `ready-http-1`: kind, type and position among the checks of that kind. */
  readonly id: string;
  readonly kind: 'ready' | 'live';
  readonly type: 'cmd' | 'http' | 'tcp';
  readonly target: string;
  readonly status: 'unknown' | 'passing' | 'failing';
  readonly consecutiveFailures: number;
  readonly consecutiveSuccesses: number;
  readonly lastRunAt: number | null;
  readonly lastDurationMs: number | null;
  /** `ok`, `exit 3`, `HTTP 500`, `timeout after 1s`, `connection refused`, … */
  readonly lastResult: string | null;
  /** The last 4 KB of a command check's output (stdout and stderr together). */
  readonly output: string;
  /**
   * What the last run said beyond its result, one line of 200 characters at most, control
   * characters out and URLs' secrets hidden: `output: db replica lag 42s` (a command's last
   * non-empty output line), `body: upstream down` (a failing HTTP answer's first line),
   * `connect ECONNREFUSED 127.0.0.1:5432` (an error's words); '' when nothing. Absent from files
   * of older ushers.
   */
  readonly lastDetail: string;
}

export interface StateFile {
  readonly version: typeof STATE_VERSION;
  readonly usherPid: number;
  /** Rewritten every heartbeatMs; a reader treats the state as stale after staleAfterMs. */
  readonly heartbeatAt: number;
  readonly heartbeatMs: number;
  readonly staleAfterMs: number;
  readonly startupCode: ProbeCode;
  readonly readyCode: ProbeCode;
  readonly liveCode: ProbeCode;
  /** Why the probe is not ok, e.g. `init script 10-migrate.sh running`; '' when ok. */
  readonly startupReason: string;
  readonly readyReason: string;
  readonly liveReason: string;
  /**
   * What the failing check said (its CheckRecord's lastDetail) when a check is why the probe is
   * not ok, else ''; readers print it after the reason: `not ready: readiness check ready-cmd-1
   * failing: exit 17 for 3s; output: db replica lag 42s`. Not part of the reason, so that a
   * message that changes at every run (`lag 42s`, `lag 43s`) leaves `reasonSince` alone.
   * Absent from files of older ushers.
   */
  readonly startupDetail: string;
  readonly readyDetail: string;
  readonly liveDetail: string;
  /** Since when the current not-ready reason holds (readers add "for 4m12s"); 0 when ready. */
  readonly reasonSince: number;
  readonly phase: Phase;
  readonly appPid: number;
  readonly startedAt: number;
  /** usher's exit code once known, else -1. */
  readonly exitCode: number;
  /** What the app says of itself over sd_notify: STATUS=… ('' when nothing), MAINPID=… (0). */
  readonly appStatus: string;
  readonly appMainPid: number;
  readonly timeline: readonly PhaseMark[];
  readonly init: readonly InitScriptRecord[];
  readonly checks: readonly CheckRecord[];
  /** The last reload signal sent because a --reload-on path changed; null before any. */
  readonly lastReload: ReloadRecord | null;
  /**
   * What readiness is made of, in order (init, app, ports, checks, ready-fd or notify-socket, as
   * configured), each ready or why not; `readinessHeldBy` names the first one not ready ('' when
   * ready or stopping). Absent from files of ushers before port readiness: same version.
   */
  readonly readiness: readonly ReadinessRecord[];
  readonly readinessHeldBy: string;
  /** The readiness ports (--ready-port, $PORT); empty when none. */
  readonly readyPorts: readonly number[];
}

export interface ReadinessRecord {
  readonly source: string;
  readonly ready: boolean;
  /** Why not; '' when ready. */
  readonly reason: string;
}

export interface ReloadRecord {
  readonly at: number;
  /** The watched path whose content changed. */
  readonly path: string;
  readonly signal: string;
}
