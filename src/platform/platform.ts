import { existsSync } from 'node:fs';
import { ancestorCommandLines, ownSystemdCgroup } from '../sys/proc.js';
import { ORCHESTRATORS, PROCESS_MANAGERS, type Runner } from './runners.js';

export type PlatformName = 'kubernetes' | 'heroku' | 'foreman' | 'honcho' | 'overmind' | 'systemd' | 'podman' | 'docker' | 'unknown';

/**
 * The platform usher runs on, as far as it changes the stop: how long the platform waits
 * between its stop signal and its SIGKILL, and whether it signals every process itself.
 */
export interface Platform {
  readonly name: PlatformName;
  /** Time between the platform's stop signal and its SIGKILL; undefined when unknown. */
  readonly stopBudgetMs: number | undefined;
  /** Where the budget comes from, for the warning: `foreman's default -t`, `OVERMIND_TIMEOUT`, `--stop-budget`. */
  readonly budgetFrom: string;
  /**
   * Heroku sends SIGTERM to every process of the dyno: the app already has the signal when
   * usher gets it, and a second TERM breaks some servers.
   */
  readonly signalsEveryProcess: boolean;
  /** How to give usher more time there, for the warning when drain + grace do not fit. */
  readonly raiseBudget: string;
  /** Under systemd: the unit whose TimeoutStopSec usher asks systemctl for once the app runs. */
  readonly systemdUnit?: SystemdUnit;
}

export interface SystemdUnit {
  readonly name: string;
  /** A unit of a user's service manager (systemctl --user). */
  readonly user: boolean;
}

/** What detection looks at; the real machine by default, a given one in unit tests. */
export interface PlatformProbe {
  readonly env: NodeJS.ProcessEnv;
  exists(file: string): boolean;
  /** Command lines of usher's ancestors, nearest first. */
  ancestors(): readonly (readonly string[])[];
  /** usher's cgroup path in systemd's hierarchy. */
  cgroup(): string | undefined;
}

export function machineProbe(env: NodeJS.ProcessEnv): PlatformProbe {
  let ancestors: string[][] | undefined;
  return { env, exists: existsSync, ancestors: () => (ancestors ??= ancestorCommandLines(4)), cgroup: ownSystemdCgroup };
}

const UNKNOWN: Platform = { name: 'unknown', stopBudgetMs: undefined, budgetFrom: 'unknown', signalsEveryProcess: false, raiseBudget: 'pass the real budget as --stop-budget' };

/**
 * Two layers may each SIGKILL usher: the process manager it runs under (foreman, honcho,
 * overmind, systemd) and the orchestrator or container runtime around it. The tighter budget
 * is the one that matters; at a tie the process manager, which is the one that signals usher.
 * Within a layer the first that matches wins: Kubernetes and Heroku before podman and Docker,
 * whose `stop` defaults do not apply there.
 */
export function detectPlatform(probe: PlatformProbe): Platform {
  const first = (runners: readonly Runner[]): Platform | undefined => {
    for (const runner of runners) {
      const found = runner(probe);
      if (found) return found;
    }
    return undefined;
  };
  const inner = first(PROCESS_MANAGERS);
  const outer = first(ORCHESTRATORS);
  if (!inner || !outer) return inner ?? outer ?? UNKNOWN;
  const tighter = (outer.stopBudgetMs ?? Infinity) < (inner.stopBudgetMs ?? Infinity) ? outer : inner;
  // Heroku signals every process of the dyno whatever runs inside it.
  return { ...tighter, signalsEveryProcess: inner.signalsEveryProcess || outer.signalsEveryProcess };
}
