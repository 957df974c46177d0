import path from 'node:path';
import type { Platform, PlatformProbe } from './platform.js';
import { systemdUnitOf } from './systemd-unit.js';

/** One platform's detection: its stop budget when usher runs on it, else undefined. */
export type Runner = (probe: PlatformProbe) => Platform | undefined;

const SECOND = 1000;

function platform(fields: Omit<Platform, 'signalsEveryProcess'> & { signalsEveryProcess?: boolean }): Platform {
  return { signalsEveryProcess: false, ...fields };
}

/** foreman gives each process PS=name.N (and PORT); a shell's PS1 is no match. Its -t cannot be read: it retitles itself "foreman: master". */
const foreman: Runner = ({ env }) => (/^[\w-]+\.\d+$/.test(env.PS ?? '')
  ? platform({ name: 'foreman', stopBudgetMs: 5 * SECOND, budgetFrom: 'foreman\'s default -t', raiseBudget: 'raise foreman -t (or timeout: in .foreman) and pass the same as --stop-budget' })
  : undefined);

/** honcho sets nothing of its own in the environment: it is found among usher's ancestors (python …/honcho start). */
const honcho: Runner = ({ ancestors }) => (ancestors().some((argv) => argv.slice(0, 3).some((word) => path.basename(word) === 'honcho'))
  ? platform({ name: 'honcho', stopBudgetMs: 5 * SECOND, budgetFrom: 'honcho\'s fixed KILL_WAIT', raiseBudget: 'honcho\'s 5s cannot be raised: shorten drain or grace' })
  : undefined);

/** overmind runs each process in a tmux server of its own, on a socket named overmind-TITLE-ID, which TMUX names. */
const overmind: Runner = ({ env }) => {
  if (!/(^|\/)overmind-[^/,]+,\d+,\d+$/.test(env.TMUX ?? '')) return undefined;
  // overmind reads OVERMIND_TIMEOUT (also from its .overmind.env files) into its own environment, which tmux passes on.
  const seconds = /^\d+$/.test(env.OVERMIND_TIMEOUT ?? '') ? Number(env.OVERMIND_TIMEOUT) : undefined;
  return platform({
    name: 'overmind', stopBudgetMs: (seconds ?? 5) * SECOND, budgetFrom: seconds === undefined ? 'overmind\'s default -t' : 'OVERMIND_TIMEOUT',
    raiseBudget: 'raise OVERMIND_TIMEOUT (usher reads it) or overmind -t (pass the same as --stop-budget)',
  });
};

/** systemd gives every process of a service INVOCATION_ID; TimeoutStopSec is asked of systemctl once the app runs. */
const systemd: Runner = ({ env, cgroup }) => (/^[0-9a-f]{32}$/.test(env.INVOCATION_ID ?? '')
  ? platform({
    name: 'systemd', stopBudgetMs: 90 * SECOND, budgetFrom: 'systemd\'s default TimeoutStopSec',
    raiseBudget: 'raise TimeoutStopSec= in the unit (usher reads it with systemctl where it can, else pass it as --stop-budget)', systemdUnit: systemdUnitOf(cgroup()),
  })
  : undefined);

const kubernetes: Runner = ({ env }) => (env.KUBERNETES_SERVICE_HOST
  ? platform({ name: 'kubernetes', stopBudgetMs: 30 * SECOND, budgetFrom: 'the default terminationGracePeriodSeconds', raiseBudget: 'raise terminationGracePeriodSeconds and pass it as --stop-budget' })
  : undefined);

const heroku: Runner = ({ env }) => (env.DYNO
  ? platform({ name: 'heroku', stopBudgetMs: 30 * SECOND, budgetFrom: 'Heroku\'s fixed 30s', signalsEveryProcess: true, raiseBudget: 'Heroku\'s 30s cannot be raised: shorten drain or grace' })
  : undefined);

/** podman writes /run/.containerenv into every container and sets container=podman. */
const podman: Runner = ({ env, exists }) => (env.container === 'podman' || exists('/run/.containerenv')
  ? platform({ name: 'podman', stopBudgetMs: 10 * SECOND, budgetFrom: 'podman stop\'s default -t', raiseBudget: 'raise it with podman stop -t / podman run --stop-timeout and pass it as --stop-budget' })
  : undefined);

const docker: Runner = ({ exists }) => (exists('/.dockerenv')
  ? platform({ name: 'docker', stopBudgetMs: 10 * SECOND, budgetFrom: 'docker stop\'s default -t', raiseBudget: 'raise it with docker stop -t / stop_grace_period and pass it as --stop-budget' })
  : undefined);

/**
 * What usher runs under directly, and signals it. systemd last: INVOCATION_ID is inherited by
 * whatever a service starts (a terminal that runs foreman, say), the others are nearer.
 */
export const PROCESS_MANAGERS: readonly Runner[] = [foreman, overmind, honcho, systemd];
/** Around it: an orchestrator, whose budget replaces the container runtime's, or the runtime alone. */
export const ORCHESTRATORS: readonly Runner[] = [kubernetes, heroku, podman, docker];
