import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import path from 'node:path';
import type { WatchPlan } from './watch-plan.js';

const MAX_SYMLINK_HOPS = 40; // Linux's own limit (ELOOP)

export class SymlinkLoopError extends Error {
  constructor(given: string) {
    super(`too many levels of symbolic links: ${JSON.stringify(given)}`);
  }
}

/**
 * Resolves `given` (absolute) to its real path the way the kernel would, recording in `plan`
 * every directory entry the answer depends on. That is what makes a Kubernetes volume work:
 * `tls.crt -> ..data/tls.crt` depends on the entry `..data` of the mount, which an update
 * renames atomically, so the mount directory is watched for that name.
 *
 * The ancestors of `given` itself are taken as they are (realpath, not recorded): watching
 * `/` and `/etc` for every watched file would cost more than it catches; the safety poll
 * covers an ancestor being swapped. Everything reached through a symlink is recorded.
 *
 * Returns undefined when some component does not exist (the lookup that failed is recorded,
 * so its creation is noticed). Throws for other errors (EACCES, a symlink loop).
 */
export function followRecording(given: string, plan: WatchPlan): string | undefined {
  const start = realParent(given);
  if (start === undefined) return walkComponents('/', components(given), given, plan);
  return walkComponents(start, [path.basename(given)], given, plan);
}

/** Resolves the entry `name` of the real directory `dir` (a symlink), recording as above. */
export function followEntryRecording(dir: string, name: string, plan: WatchPlan): string | undefined {
  return walkComponents(dir, [name], path.join(dir, name), plan);
}

function realParent(given: string): string | undefined {
  try {
    return realpathSync(path.dirname(given));
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

function components(target: string): string[] {
  return target.split('/').filter((part) => part !== '' && part !== '.');
}

function walkComponents(startDir: string, pending: string[], given: string, plan: WatchPlan): string | undefined {
  let real = startDir;
  let hops = 0;
  for (let name = pending.shift(); name !== undefined; name = pending.shift()) {
    if (name === '.') continue;
    if (name === '..') {
      // `..` after a symlink is taken from where the link led, as the kernel does.
      real = path.dirname(real);
      continue;
    }
    plan.name(real, name);
    const candidate = path.join(real, name);
    const link = readLinkOrUndefined(candidate);
    if (link === null) return undefined;
    if (link === undefined) {
      real = candidate;
      continue;
    }
    if (++hops > MAX_SYMLINK_HOPS) throw new SymlinkLoopError(given);
    if (path.isAbsolute(link)) real = '/';
    pending.unshift(...components(link));
  }
  return real;
}

/** The link's target; undefined when `file` exists and is not a symlink; null when missing. */
function readLinkOrUndefined(file: string): string | undefined | null {
  try {
    if (!lstatSync(file).isSymbolicLink()) return undefined;
    return readlinkSync(file);
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}

/** ENOTDIR too: a path through a regular file cannot exist, for us that is "missing". */
export function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
