import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { formatDuration } from '../config/duration.js';
import type { Logger } from '../log/logger.js';
import { findCommand } from '../process/find-command.js';
import type { Platform, SystemdUnit } from './platform.js';
import { parseSystemdTimespan } from './systemd-unit.js';

/** A child of usher's own (libuv reaps it, the orphan reaper leaves it alone). */
export type RunOwn = (file: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

export interface StopBudgetCheck {
  readonly platform: Platform;
  readonly drainMs: number;
  readonly graceMs: number;
  readonly log: Logger;
  readonly envPath: string | undefined;
  readonly runOwn: RunOwn;
}

/** systemctl answers from PID 1 at once, or not at all (no systemd, no bus): this is plenty. */
const SYSTEMCTL_TIMEOUT_MS = 1000;

/**
 * Warns when drain + grace exceed the time the platform gives between its stop signal and its
 * SIGKILL, naming the setting to raise. Under systemd the unit's TimeoutStopSec is asked of
 * systemctl, when there is one, after the app started (the app never waits for it).
 */
export function checkStopBudget(check: StopBudgetCheck): void {
  const { platform } = check;
  const unit = platform.systemdUnit;
  const systemctl = unit && findCommand('systemctl', check.envPath, '/');
  if (!unit || !systemctl?.ok) return warnIfOver(check, platform.stopBudgetMs, platform.budgetFrom);
  askSystemd(check, systemctl.file, unit, (ms) => {
    if (ms === undefined) return warnIfOver(check, platform.stopBudgetMs, `${platform.budgetFrom}: systemctl could not tell ${unit.name}'s`);
    check.log.debug({ unit: unit.name, timeoutStop: formatDuration(ms) }, 'TimeoutStopSec read with systemctl');
    warnIfOver(check, ms, `TimeoutStopSec of ${unit.name}`);
  });
}

function warnIfOver(check: StopBudgetCheck, budgetMs: number | undefined, from: string): void {
  const { drainMs, graceMs, platform } = check;
  if (budgetMs === undefined || drainMs + graceMs <= budgetMs) return;
  check.log.warn(
    { platform: platform.name, stopBudget: formatDuration(budgetMs), budgetFrom: from },
    `drain ${formatDuration(drainMs)} + grace ${formatDuration(graceMs)} exceed the ${platform.name} stop budget of ${formatDuration(budgetMs)} (${from}): ` +
      `${platform.name} will SIGKILL usher first; ${platform.raiseBudget}`,
  );
}

function askSystemd(check: StopBudgetCheck, systemctl: string, unit: SystemdUnit, answer: (ms: number | undefined) => void): void {
  let output = '';
  let answered = false;
  const done = (ms: number | undefined): void => {
    if (!answered) answer(ms);
    answered = true;
  };
  let child: ChildProcess;
  try {
    child = check.runOwn(systemctl, [...(unit.user ? ['--user'] : []), 'show', '-p', 'TimeoutStopUSec', '--value', unit.name], { stdio: ['ignore', 'pipe', 'ignore'], timeout: SYSTEMCTL_TIMEOUT_MS });
  } catch {
    return done(undefined);
  }
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (output += text));
  child.once('error', () => done(undefined));
  child.once('close', (code) => done(code === 0 ? parseSystemdTimespan(output) : undefined));
}
