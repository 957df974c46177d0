import type { InitConfig } from '../config/config.js';
import type { OptionReader } from '../config/option-reader.js';
import { parseBoolean, parseChoice, parsePath, parsePositiveDuration } from '../config/parsers.js';

/** --init and its policies. */
export function initConfig(read: OptionReader): InitConfig {
  const only = read.one('init-only', parseBoolean)?.value ?? false;
  const paths = read.list('init', parsePath(read.cwd));
  if (only && paths.length === 0) read.fail('--init-only needs at least one --init PATH (or USHER_INIT)');
  return {
    paths,
    mode: read.one('init-mode', parseChoice(['before', 'parallel'] as const))?.value ?? 'before',
    timeoutMs: read.one('init-timeout', parsePositiveDuration)?.value,
    onFailure: read.one('on-init-failure', parseChoice(['exit', 'unready'] as const))?.value ?? 'exit',
    only,
  };
}
