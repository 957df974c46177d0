import type { OptionReader } from '../config/option-reader.js';
import { parseDuration } from '../config/duration.js';
import { parseCount, parsePositiveDuration } from '../config/parsers.js';
import { parseCommand, parseHttpTarget, parseTcpTarget, type CheckSpec, type CheckTiming } from './check-spec.js';

/** --ready-* and --live-* checks, in the order of the option table, each with its id; and their timing. */
export function checksConfig(read: OptionReader): { checks: CheckSpec[]; checkTiming: CheckTiming } {
  const checks: CheckSpec[] = [];
  for (const kind of ['ready', 'live'] as const) {
    for (const [type, parse] of [['cmd', parseCommand], ['http', parseHttpTarget], ['tcp', parseTcpTarget]] as const) {
      read.list(`${kind}-${type}`, parse).forEach((target, index) => checks.push({ id: `${kind}-${type}-${index + 1}`, kind, type, target }));
    }
  }
  return {
    checks,
    checkTiming: {
      intervalMs: read.one('check-interval', parsePositiveDuration)?.value ?? 10_000,
      timeoutMs: read.one('check-timeout', parsePositiveDuration)?.value ?? 1000,
      failures: read.one('check-failures', parseCount)?.value ?? 3,
      successes: read.one('check-successes', parseCount)?.value ?? 1,
      startPeriodMs: read.one('check-start-period', parseDuration)?.value ?? 0,
    },
  };
}
