import type { CheckSpec, CheckTiming } from '../checks/check-spec.js';
import type { LogFormat, LogLevel } from '../log/levels.js';
import type { PortsConfig } from '../ports/port-config.js';

export interface HttpAddress {
  readonly host: string;
  readonly port: number;
}

/** --http as configured: the address and the flag or variable it came from, for messages. */
export interface HttpConfig extends HttpAddress {
  readonly where: string;
}

/** Everything usher needs to run one app; built once, before the app starts, then read-only. */
export interface Config extends PortsConfig {
  readonly command: readonly string[];
  readonly singleChild: boolean;
  /** --signals as given: resolved against COMMAND at start (process/signal-scope.ts). */
  readonly signals: 'app' | 'group' | 'auto';
  /** Where --signals came from, for the start-up log: `--signals app`, `USHER_SIGNALS=group`, `--group`, `TINI_KILL_PROCESS_GROUP`. */
  readonly signalsWhere: string;
  /** Received signal -> signal sent to the app; 0 drops it. */
  readonly rewrite: ReadonlyMap<number, number>;
  readonly drainMs: number;
  /** Why the drain has its value; logged at start because a 5s default surprises otherwise. */
  readonly drainSource: 'flag' | 'env' | 'kubernetes' | 'default';
  readonly graceMs: number;
  readonly stopSignal: number | undefined;
  readonly exitMap: ReadonlyMap<number, number>;
  readonly http: HttpConfig | undefined;
  readonly logLevel: LogLevel;
  /** auto: text when stderr is a terminal, json otherwise (decided at start, log/logger.ts). */
  readonly logFormat: LogFormat | 'auto';
  readonly platform: import('../platform/platform.js').Platform;
  readonly init: InitConfig;
  readonly checks: readonly CheckSpec[];
  readonly checkTiming: CheckTiming;
  readonly onUnhealthy: 'report' | 'exit';
  readonly reload: ReloadConfig;
  readonly readyFd: number | undefined;
  readonly notify: { readonly socket: boolean; readonly watchdogMs: number | undefined };
  /** From --state-dir / USHER_STATE_DIR; undefined: the default search. */
  readonly stateDir: string | undefined;
  /** tini's -p: the signal usher gets when its own parent dies. */
  readonly parentDeathSignal: number | undefined;
  /** tini's -w: reaped orphans logged as warnings. */
  readonly warnOnReap: boolean;
  /** Flags and variables of tini and dumb-init that mean nothing more for usher: said at debug. */
  readonly compatNotes: readonly string[];
}

export interface InitConfig {
  /** Absolute paths, as given: listed into scripts when usher starts. */
  readonly paths: readonly string[];
  readonly mode: 'before' | 'parallel';
  readonly timeoutMs: number | undefined;
  readonly onFailure: 'exit' | 'unready';
  readonly only: boolean;
}

export interface ReloadConfig {
  /** Absolute paths. */
  readonly paths: readonly string[];
  readonly signal: number;
  readonly debounceMs: number;
  readonly optional: boolean;
}
