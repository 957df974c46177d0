import { statSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { interested, type Interest, type WatchPlan } from './watch-plan.js';

interface DirWatch {
  readonly watcher: FSWatcher;
  /** dev:ino when opened: a directory deleted and created again needs a new watch. */
  readonly identity: string;
  interest: Interest;
}

export interface DirWatchLog {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

/** The fs.watch (inotify) watches of one watched path, kept in line with its latest plan. */
export class DirWatches {
  readonly #watches = new Map<string, DirWatch>();
  #warnedOpenFailure = false;

  constructor(
    private readonly onEvent: (dir: string, name: string | null) => void,
    private readonly log: DirWatchLog,
  ) {}

  update(plan: WatchPlan): void {
    const wanted = new Map(plan.entries());
    for (const dir of this.#watches.keys()) if (!wanted.has(dir)) this.#close(dir);
    for (const [dir, interest] of wanted) {
      const identity = identityOf(dir);
      const existing = this.#watches.get(dir);
      if (existing && existing.identity === identity) {
        existing.interest = interest;
        continue;
      }
      if (existing) this.#close(dir);
      if (identity === undefined) this.onEvent(dir, null); // gone since the scan: look again
      else this.#open(dir, identity, interest);
    }
  }

  closeAll(): void {
    for (const dir of [...this.#watches.keys()]) this.#close(dir);
  }

  #open(dir: string, identity: string, interest: Interest): void {
    let watcher: FSWatcher;
    try {
      // persistent: false, so a watch never keeps usher's event loop alive on its own.
      watcher = watch(dir, { persistent: false }, (_event, name) => this.#deliver(dir, name));
    } catch (error) {
      this.#openFailed(dir, error);
      return;
    }
    watcher.on('error', (error) => {
      this.log.debug({ dir, err: error }, 'reload: directory watch failed; re-planning');
      this.#close(dir);
      this.onEvent(dir, null);
    });
    this.#watches.set(dir, { watcher, identity, interest });
  }

  #deliver(dir: string, name: string | null): void {
    const current = this.#watches.get(dir);
    // libuv names an event on the directory itself (deleted, moved away) by its basename.
    if (current && (interested(current.interest, name) || name === path.basename(dir))) this.onEvent(dir, name);
  }

  #openFailed(dir: string, error: unknown): void {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      this.onEvent(dir, null); // raced with a removal: the next check plans without it
      return;
    }
    // ENOSPC (inotify watch limit) or EACCES: the poll still notices changes, only later.
    if (this.#warnedOpenFailure) return;
    this.#warnedOpenFailure = true;
    this.log.warn({ dir, err: error }, 'reload: cannot watch a directory; falling back to polling');
  }

  #close(dir: string): void {
    const current = this.#watches.get(dir);
    if (!current) return;
    this.#watches.delete(dir);
    current.watcher.close();
  }
}

function identityOf(dir: string): string | undefined {
  try {
    const stats = statSync(dir);
    return `${stats.dev}:${stats.ino}`;
  } catch {
    return undefined;
  }
}
