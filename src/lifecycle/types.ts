import type { Phase, PhaseMark } from './phases.js';

/** Who a forwarded signal reaches: the app's process alone, or its whole process group. */
export type SignalScope = 'app' | 'group';

export type { Phase, PhaseMark };

export type TimerName = 'drain' | 'grace';

export type LogLevelName = 'debug' | 'info' | 'warn' | 'error';

/** What the machine needs to know of the configuration; nothing here does I/O. */
export interface MachineConfig {
  readonly rewrite: ReadonlyMap<number, number>;
  readonly drainMs: number;
  /** --drain-idle: the drain ends once the readiness ports were quiet this long; undefined: it lasts drainMs. */
  readonly drainIdleMs: number | undefined;
  readonly graceMs: number;
  /** The TCP ports the app's tree must listen on to be ready (--ready-port, $PORT). */
  readonly readyPorts: readonly number[];
  readonly stopSignal: number | undefined;
  readonly singleChild: boolean;
  /** Where forwarded signals and the stop signal go: the app's process alone, or its process group. */
  readonly signalScope: SignalScope;
  readonly exitMap: ReadonlyMap<number, number>;
  /** The platform signals every process itself (Heroku): never send the app a second stop signal. */
  readonly platformSignalsApp: boolean;
  readonly init: {
    readonly present: boolean;
    readonly mode: 'before' | 'parallel';
    readonly onFailure: 'exit' | 'unready';
    readonly only: boolean;
  };
  readonly onUnhealthy: 'report' | 'exit';
  readonly reloadSignal: number;
  /** How the app says it is ready, when asked to; readiness waits for it. */
  readonly appReadyVia: 'ready-fd' | 'notify-socket' | null;
}

export interface AppExit {
  readonly code: number | null;
  readonly signal: number | null;
}

export interface InitState {
  readonly status: 'none' | 'running' | 'ok' | 'failed';
  /** The script running now. */
  readonly current: string | null;
  /** e.g. `init script 10-migrate.sh failed with exit code 3`. */
  readonly failure: string | null;
}

export interface ChecksState {
  /** Readiness checks together: none configured, not yet decided, all passing, or one failing. */
  readonly ready: 'none' | 'unknown' | 'passing' | 'failing';
  readonly readyReason: string | null;
  /** Why liveness fails (a liveness check past its failure threshold); null while live. */
  readonly liveFailing: string | null;
  /** What the failing readiness check, and the failing liveness check, last said (`output: …`); '' when nothing. */
  readonly readyDetail: string;
  readonly liveDetail: string;
}

/** Port readiness: none configured; waiting for the first listen; every port listened on; or one lost since. */
export interface PortsState {
  readonly status: 'none' | 'waiting' | 'listening' | 'lost';
  /** Every readiness port. */
  readonly configured: readonly number[];
  /** The readiness ports the app's tree does not listen on (now). */
  readonly missing: readonly number[];
}

export interface State {
  readonly phase: Phase;
  /** When usher started (the `start` event), and each phase it entered since. */
  readonly startedAt: number;
  readonly timeline: readonly PhaseMark[];
  /** Derived after every event from the phase, init and checks (see readiness.ts). */
  readonly ready: boolean;
  /** Why not ready, for probes and logs; null when ready. */
  readonly reason: string | null;
  /** Since when `reason` holds (readers add "for 4m12s"). */
  readonly reasonSince: number;
  readonly appPid: number | null;
  readonly appExit: AppExit | null;
  /**
   * Signals (after rewriting) received before the app started, to be forwarded once it has: as
   * the kernel keeps a standard signal pending, each once, in the order they came.
   */
  readonly heldSignals: readonly number[];
  readonly init: InitState;
  readonly checks: ChecksState;
  readonly ports: PortsState;
  /** When the drain began (the unready report), while draining. */
  readonly drainStartedAt: number | null;
  /** Why usher is draining or stopping. */
  readonly stopReason: string | null;
  /** The signal that starts the app's graceful stop, fixed by the first TERM/INT. */
  readonly stopSignal: number | null;
  /** Set once the stop signal went out (or the app exited): the grace timer runs from then. */
  readonly graceStarted: boolean;
  /** Set once the grace was over and SIGKILL went out: what is found left from then on is killed at once. */
  readonly killSent: boolean;
  /** An exit code that wins over the app's: a failed init script's, or 1 after a liveness stop. */
  readonly forcedExitCode: number | null;
  readonly exitCode: number | null;
  /** What the app said of itself (ready-fd, sd_notify). */
  readonly app: AppReport;
  /** The last reload signal sent: which watched path changed, and when (from the event). */
  readonly lastReload: { readonly path: string; readonly signal: number; readonly at: number } | null;
}

export interface AppReport {
  /** The protocol the app speaks to say it is ready (--ready-fd, --notify-socket), or none. */
  readonly via: 'ready-fd' | 'notify-socket' | null;
  /** not-asked: no protocol configured; waiting: asked, not said yet; then what it last said. */
  readonly said: 'not-asked' | 'waiting' | 'ready' | 'stopping';
  /** sd_notify STATUS=…, shown in the state and `usher status`. */
  readonly status: string | null;
  /** sd_notify MAINPID=…. */
  readonly mainPid: number | null;
  /** Why the watchdog fails (no WATCHDOG=1 in time); null while it is fine or not used. */
  readonly watchdogFailing: string | null;
}

export type ChecksChanged = { readonly type: 'checksChanged'; readonly at: number } & ChecksState;

/** What the adapters tell the machine; every event says when it happened (epoch milliseconds). */
export type Event = { readonly at: number } & (
  | { readonly type: 'start' }
  | { readonly type: 'spawned'; readonly pid: number }
  | { readonly type: 'spawnFailed'; readonly code: number; readonly message: string }
  | { readonly type: 'signal'; readonly signal: number }
  | { readonly type: 'timer'; readonly name: TimerName }
  | { readonly type: 'appExited'; readonly code: number | null; readonly signal: number | null }
  /** Answer to `watchLeftovers`: how many live processes are left of the app (its group, its escapees, adopted orphans). */
  | { readonly type: 'leftoversCounted'; readonly live: number }
  | { readonly type: 'initScriptStarted'; readonly name: string }
  /** Every init script succeeded. */
  | { readonly type: 'initDone' }
  /** A script failed or timed out: the runner stops there. */
  | { readonly type: 'initFailed'; readonly name: string; readonly code: number; readonly reason: string }
  /** The runner ended because usher stopped it. */
  | { readonly type: 'initStopped' }
  | ChecksChanged
  /** The app said something of itself: READY=1 or a newline on its ready fd, STOPPING=1, STATUS=, MAINPID=. */
  | { readonly type: 'appReport'; readonly ready?: true; readonly stopping?: true; readonly status?: string; readonly mainPid?: number }
  | { readonly type: 'watchdog'; readonly failing: string | null }
  /** The content under a --reload-on path changed (debounced, compared by hash). */
  | { readonly type: 'reloadRequested'; readonly path: string; readonly detail: string }
  /** Which readiness ports the app's tree does not listen on changed. */
  | { readonly type: 'portsChanged'; readonly missing: readonly number[] }
  /** --drain-idle: the readiness ports have had no traffic for quietMs since the drain began. */
  | { readonly type: 'drainQuiet'; readonly quietMs: number }
);

export type EventOf<T extends Event['type']> = Extract<Event, { readonly type: T }>;

/** An event as an adapter reports it; the supervisor stamps `at` the moment it is reported. */
export type Unstamped<T extends Event['type'] = Event['type']> = T extends Event['type'] ? Omit<EventOf<T>, 'at'> : never;

/** What the machine asks the adapters to do; each effect carries the data it needs. */
export type Effect =
  | { readonly type: 'spawnApp' }
  /** `scope` group: the process group led by `pid`; app: `pid` alone. */
  | { readonly type: 'signalApp'; readonly signal: number; readonly pid: number; readonly scope: 'group' | 'app' }
  /** Job control: after forwarding TSTP/TTIN/TTOU usher stops itself, like the shell expects. */
  | { readonly type: 'stopSelf' }
  | { readonly type: 'setTimer'; readonly name: TimerName; readonly ms: number }
  | { readonly type: 'clearTimer'; readonly name: TimerName }
  /** Keep reporting `leftoversCounted` for the app whose group is `pgid` (after each reap and periodically) until none is left. */
  | { readonly type: 'watchLeftovers'; readonly pgid: number }
  /**
   * To each process usher adopted as subreaper (its children it did not start) but those of the
   * app's group `pgid`: the stop signal's scope decides for them (an app that died of it at once
   * hands its children to usher before they are listed).
   */
  | { readonly type: 'signalOrphans'; readonly signal: number; readonly pgid: number | null }
  /**
   * To each live process left of the app (group `pgid`, what left it, adopted orphans and their
   * children); TERM goes once to each process. `spareGroup`: the group's members are the stop
   * signal's to decide (they had it, or --signals app kept it from them).
   */
  | { readonly type: 'signalLeftovers'; readonly signal: number; readonly pgid: number | null; readonly spareGroup?: boolean }
  | { readonly type: 'runInit' }
  /** To the process group of the init script running now, if any. */
  | { readonly type: 'signalInit'; readonly signal: number }
  /** --drain-idle: report `drainQuiet` once the readiness ports were quiet idleMs from `since`; and its end. */
  | { readonly type: 'watchDrainTraffic'; readonly since: number; readonly idleMs: number }
  | { readonly type: 'unwatchDrainTraffic' }
  /** Readiness or phase changed: state files, markers and the HTTP server pick it up. */
  | { readonly type: 'publish' }
  | { readonly type: 'log'; readonly level: LogLevelName; readonly msg: string; readonly fields?: Readonly<Record<string, unknown>> }
  | { readonly type: 'exit'; readonly code: number };

export interface Transition {
  readonly state: State;
  readonly effects: readonly Effect[];
}
