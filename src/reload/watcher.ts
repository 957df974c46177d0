import { statSync } from 'node:fs';
import { describeCode, errorCode } from '../sys/errno.js';
import { isMissing } from './follow-path.js';
import { DEFAULT_TUNING, startTunedReloadWatcher } from './target.js';

export interface ReloadChange {
  /** the watched path as given */
  readonly path: string;
  /** e.g. 'content changed', 'appeared' */
  readonly detail: string;
}

export interface ReloadWatcherOptions {
  /** absolute paths, files or directories */
  readonly paths: readonly string[];
  /** --reload-optional */
  readonly optional: boolean;
  /** --reload-debounce, default 1000 */
  readonly debounceMs: number;
  readonly log: {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
    debug(obj: object, msg: string): void;
  };
  /** called once per debounced burst in which some content really changed */
  readonly onChange: (change: ReloadChange) => void;
}

export interface ReloadWatcher {
  stop(): void;
}

/**
 * Throws Error('no such file or directory: "PATH"') for a missing path unless optional.
 * A dangling symlink counts as missing: that is a Kubernetes volume before its first sync.
 * Other failures (EACCES) throw whether optional or not: waiting would not fix them.
 */
export function checkReloadPaths(paths: readonly string[], optional: boolean): void {
  for (const given of paths) {
    let stats;
    try {
      stats = statSync(given);
    } catch (error) {
      if (!isMissing(error)) throw new Error(`${describeCode(errorCode(error))}: ${JSON.stringify(given)}`);
      if (optional) continue;
      throw new Error(`no such file or directory: ${JSON.stringify(given)}`);
    }
    if (!stats.isFile() && !stats.isDirectory()) throw new Error(`not a file or directory: ${JSON.stringify(given)}`);
  }
}

/**
 * Watches `paths` (fs.watch on the directories their content depends on, plus a slow metadata
 * poll as a safety net) and calls onChange after a debounced burst that changed the content
 * (sha256 per file). Never throws after it returned: problems are logged.
 */
export function startReloadWatcher(options: ReloadWatcherOptions): ReloadWatcher {
  return startTunedReloadWatcher(options, DEFAULT_TUNING);
}
