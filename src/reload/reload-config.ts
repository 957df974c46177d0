import type { ReloadConfig } from '../config/config.js';
import type { OptionReader } from '../config/option-reader.js';
import { parseBoolean, parsePath, parsePositiveDuration } from '../config/parsers.js';
import { parseRequestSignal, SIG } from '../config/signals.js';

/** --reload-on and its signal, debounce and optional flag. */
export function reloadConfig(read: OptionReader): ReloadConfig {
  return {
    paths: read.list('reload-on', parsePath(read.cwd)),
    signal: read.one('reload-signal', parseRequestSignal('reload signal'))?.value ?? SIG.HUP,
    debounceMs: read.one('reload-debounce', parsePositiveDuration)?.value ?? 1000,
    optional: read.one('reload-optional', parseBoolean)?.value ?? false,
  };
}
