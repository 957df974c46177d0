import { existsSync } from 'node:fs';

/**
 * The platform usher runs on, as far as it changes the stop: how long the platform waits
 * between its stop signal and its SIGKILL, and whether it signals every process itself.
 */
export interface Platform {
  readonly name: 'kubernetes' | 'heroku' | 'docker' | 'unknown';
  /** Time between the platform's stop signal and its SIGKILL; undefined when unknown. */
  readonly stopBudgetMs: number | undefined;
  /**
   * Heroku sends SIGTERM to every process of the dyno: the app already has the signal when
   * usher gets it, and a second TERM breaks some servers.
   */
  readonly signalsEveryProcess: boolean;
  /** How to give usher more time there, for the warning when drain + grace do not fit. */
  readonly raiseBudget: string;
}

export function detectPlatform(env: NodeJS.ProcessEnv, dockerEnvFile = '/.dockerenv'): Platform {
  if (env.KUBERNETES_SERVICE_HOST) {
    return { name: 'kubernetes', stopBudgetMs: 30_000, signalsEveryProcess: false, raiseBudget: 'raise terminationGracePeriodSeconds and pass it as --stop-budget' };
  }
  if (env.DYNO) return { name: 'heroku', stopBudgetMs: 30_000, signalsEveryProcess: true, raiseBudget: 'Heroku\'s 30s cannot be raised: shorten drain or grace' };
  if (existsSync(dockerEnvFile)) {
    return { name: 'docker', stopBudgetMs: 10_000, signalsEveryProcess: false, raiseBudget: 'raise it with docker stop -t / stop_grace_period and pass it as --stop-budget' };
  }
  return { name: 'unknown', stopBudgetMs: undefined, signalsEveryProcess: false, raiseBudget: 'pass the real budget as --stop-budget' };
}
