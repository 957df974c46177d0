import type { CheckSpec, CheckTiming } from '../checks/check-spec.js';
import type { LogFormat, LogLevel } from '../log/levels.js';
import type { PortsConfig } from '../ports/port-config.js';

export interface HttpAddress {
  readonly host: string;
  readonly port: number;
}

/** Everything usher needs to run one app; built once, before the app starts, then read-only. */
export interface Config extends PortsConfig {
  readonly command: readonly string[];
  readonly singleChild: boolean;
  /** Received signal -> signal sent to the app; 0 drops it. */
  readonly rewrite: ReadonlyMap<number, number>;
  readonly drainMs: number;
  /** Why the drain has its value; logged at start because a 5s default surprises otherwise. */
  readonly drainSource: 'flag' | 'env' | 'kubernetes' | 'default';
  readonly graceMs: number;
  readonly stopSignal: number | undefined;
  readonly exitMap: ReadonlyMap<number, number>;
  readonly http: HttpAddress | undefined;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  readonly platform: import('./platform.js').Platform;
  readonly init: InitConfig;
  readonly checks: readonly CheckSpec[];
  readonly checkTiming: CheckTiming;
  readonly onUnhealthy: 'report' | 'exit';
  readonly reload: ReloadConfig;
  readonly readyFd: number | undefined;
  readonly notify: { readonly socket: boolean; readonly watchdogMs: number | undefined };
  /** From --state-dir / USHER_STATE_DIR; undefined: the default search. */
  readonly stateDir: string | undefined;
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
