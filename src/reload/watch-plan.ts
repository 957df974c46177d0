/**
 * Which directories to watch and which entry names in each matter. A directory we hash as a
 * whole matters entirely; a directory we only pass through while resolving a path (or a
 * symlink) matters for the names looked up in it, so busy neighbours (/tmp, /etc) do not keep
 * re-arming the debounce.
 */
export type Interest = ReadonlySet<string> | 'all';

export class WatchPlan {
  readonly #dirs = new Map<string, Set<string> | 'all'>();

  /** `dir` must be a real path: a watch through a symlinked directory goes stale on a swap. */
  name(dir: string, name: string): void {
    const current = this.#dirs.get(dir);
    if (current === 'all') return;
    if (current) current.add(name);
    else this.#dirs.set(dir, new Set([name]));
  }

  all(dir: string): void {
    this.#dirs.set(dir, 'all');
  }

  entries(): IterableIterator<[string, Interest]> {
    return this.#dirs.entries();
  }
}

export function interested(interest: Interest, name: string | null | undefined): boolean {
  // inotify may not say which entry changed (queue overflow): assume it is ours.
  return interest === 'all' || name === null || name === undefined || interest.has(name);
}
