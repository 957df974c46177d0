import path from 'node:path';
import { describeChange } from './compare.js';
import { Debouncer } from './debounce.js';
import { DirWatches } from './dir-watches.js';
import { readContent, scanPath, type Content, type Scan } from './scan.js';
import type { ReloadWatcher, ReloadWatcherOptions } from './watcher.js';

/** Knobs the public API fixes; tests turn one mechanism off to prove the other alone works. */
export interface Tuning {
  /** Metadata poll while the path exists: the safety net for what inotify misses (0: off). */
  readonly safetyPollMs: number;
  /** Metadata poll while the path is missing (0: off). */
  readonly missingPollMs: number;
  readonly useFsWatch: boolean;
}

export const DEFAULT_TUNING: Tuning = { safetyPollMs: 5_000, missingPollMs: 1_000, useFsWatch: true };

/** A burst longer than this many debounce periods is checked anyway (see Debouncer). */
const MAX_WAIT_DEBOUNCES = 10;
/** Checks are synchronous (below); one slower than this means the path is too big for it. */
const SLOW_CHECK_MS = 200;

const MISSING: Content = { kind: 'missing', hashes: new Map() };

export function startTunedReloadWatcher(options: ReloadWatcherOptions, tuning: Tuning): ReloadWatcher {
  const seen = new Set<string>();
  const targets: Target[] = [];
  for (const given of options.paths) {
    const absolute = path.resolve(given);
    if (seen.has(absolute)) continue; // one path given twice must not reload twice
    seen.add(absolute);
    targets.push(new Target(given, absolute, options, tuning));
  }
  options.log.debug({ paths: [...seen] }, 'reload: watching');
  return { stop: () => targets.forEach((target) => target.stop()) };
}

/**
 * One watched path. A check is synchronous on purpose: the baseline is exactly the content at
 * start (a write right after start is a change, not part of the baseline), and nothing can
 * interleave with a check. --reload-on is for certificates and config, which hash in
 * microseconds; a check slower than SLOW_CHECK_MS is logged once.
 */
class Target {
  readonly #debouncer: Debouncer;
  readonly #watches: DirWatches | undefined;
  /** Last content seen while present; MISSING if never seen; undefined if never readable. */
  #baseline: Content | undefined;
  #gone = false;
  #signature: string | undefined;
  #lastError: string | undefined;
  #warnedSlow = false;
  #pollTimer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    private readonly given: string,
    private readonly absolute: string,
    private readonly options: ReloadWatcherOptions,
    private readonly tuning: Tuning,
  ) {
    this.#debouncer = new Debouncer(options.debounceMs, options.debounceMs * MAX_WAIT_DEBOUNCES, () => this.#guarded(() => this.#check()));
    if (tuning.useFsWatch) this.#watches = new DirWatches((dir, name) => this.#onFsEvent(dir, name), options.log);
    this.#guarded(() => this.#start());
    this.#schedulePoll();
  }

  stop(): void {
    this.#stopped = true;
    this.#debouncer.cancel();
    clearTimeout(this.#pollTimer);
    this.#watches?.closeAll();
  }

  #start(): void {
    const scan = this.#scan();
    if (!scan) return;
    if (scan.kind === 'missing') {
      this.#gone = true;
      this.#baseline = MISSING;
      this.options.log.info({ path: this.given }, 'reload: path does not exist yet; watching for it');
      return;
    }
    this.#baseline = this.#read(scan);
  }

  #onFsEvent(dir: string, name: string | null): void {
    if (this.#stopped) return;
    this.options.log.debug({ path: this.given, dir, name }, 'reload: file system event');
    this.#debouncer.poke();
  }

  #check(): void {
    if (this.#stopped) return;
    const started = performance.now();
    const scan = this.#scan();
    if (!scan) return;
    if (scan.kind === 'missing') return this.#disappeared();
    const content = this.#read(scan);
    if (content) this.#compare(content);
    this.#noteDuration(performance.now() - started);
  }

  /** Scan and re-plan the watches; undefined (logged) on an error such as EACCES. */
  #scan(): Scan | undefined {
    let scan: Scan;
    try {
      scan = scanPath(this.absolute);
    } catch (error) {
      this.#failed(error);
      return undefined;
    }
    this.#watches?.update(scan.plan);
    this.#signature = scan.signature;
    return scan;
  }

  #read(scan: Scan): Content | undefined {
    let content: Content | undefined;
    try {
      content = readContent(scan);
    } catch (error) {
      this.#failed(error);
      return undefined;
    }
    if (!content) {
      this.options.log.debug({ path: this.given }, 'reload: content changed while reading it; checking again');
      this.#debouncer.poke();
      return undefined;
    }
    if (this.#lastError !== undefined) this.options.log.info({ path: this.given }, 'reload: path readable again');
    this.#lastError = undefined;
    return content;
  }

  #disappeared(): void {
    if (this.#gone) return;
    this.#gone = true;
    this.options.log.warn({ path: this.given }, 'reload: path disappeared; watching for it to return');
    this.#schedulePoll();
  }

  #compare(content: Content): void {
    const baseline = this.#baseline;
    const wasGone = this.#gone;
    this.#gone = false;
    this.#baseline = content;
    if (wasGone) this.#schedulePoll();
    // Unreadable until now: nothing to compare with, this becomes the baseline.
    if (baseline === undefined) return;
    if (wasGone && baseline !== MISSING) this.options.log.info({ path: this.given }, 'reload: path is back');
    const detail = describeChange(baseline, content);
    if (detail === undefined) {
      this.options.log.debug({ path: this.given }, 'reload: content unchanged');
      return;
    }
    this.#notify(!wasGone ? detail : baseline === MISSING ? 'appeared' : 'reappeared with different content');
  }

  #notify(detail: string): void {
    try {
      this.options.onChange({ path: this.given, detail });
    } catch (error) {
      this.options.log.warn({ path: this.given, err: error }, 'reload: change handler failed');
    }
  }

  #failed(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    if (message === this.#lastError) return; // once per distinct failure, not once per event
    this.#lastError = message;
    this.options.log.warn({ path: this.given, err: error }, 'reload: cannot read the watched path; will retry on the next change');
  }

  #noteDuration(ms: number): void {
    if (ms < SLOW_CHECK_MS || this.#warnedSlow) return;
    this.#warnedSlow = true;
    this.options.log.warn({ path: this.given, ms: Math.round(ms) }, 'reload: hashing the watched path is slow; --reload-on is meant for small config and certificate files');
  }

  /**
   * The poll compares metadata only; a difference goes through the same debounce as an event.
   * Called again whenever the path goes or comes back, as the interval depends on that.
   */
  #schedulePoll(): void {
    clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
    const interval = this.#gone ? this.tuning.missingPollMs : this.tuning.safetyPollMs;
    if (this.#stopped || interval <= 0) return;
    this.#pollTimer = setTimeout(() => {
      this.#guarded(() => this.#poll());
      this.#schedulePoll();
    }, interval).unref();
  }

  #poll(): void {
    let signature: string;
    try {
      signature = scanPath(this.absolute).signature;
    } catch (error) {
      this.#failed(error);
      return;
    }
    if (signature === this.#signature) return;
    this.options.log.debug({ path: this.given }, 'reload: poll saw a change');
    this.#debouncer.poke();
  }

  /** usher must outlive any surprise in here: log it and keep watching. */
  #guarded(action: () => void): void {
    try {
      action();
    } catch (error) {
      this.options.log.warn({ path: this.given, err: error }, 'reload: unexpected error while watching');
    }
  }
}
