import { closeSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { lockExclusively } from '../sys/fd.js';
import { LOCK_FILE } from './schema.js';

export type Claim = { readonly dir: string } | { readonly dir: string; readonly heldBy: string; readonly instead: string };

/**
 * One usher per state directory: two (two Procfile lines under foreman, both on the default
 * directory) would overwrite each other's state, and the probes would flip between them. The
 * first holds a lock on `usher.lock` (flock: the kernel releases it when that usher dies, however
 * it dies); a second finds it held and uses a directory of its own inside, named by its pid.
 * The lock's descriptor stays open for usher's life. Where the lock cannot be taken at all
 * (no libc, an unwritable directory), the directory is used as it is: the writer reports
 * what fails.
 */
export function claimStateDir(dir: string): Claim {
  const held = tryLock(dir);
  if (held === undefined) return { dir };
  const instead = path.join(dir, String(process.pid));
  try {
    mkdirSync(instead, { mode: 0o755 });
  } catch {
    // exists (a pid reused after a restart) or cannot be made: the writer says which
  }
  tryLock(instead);
  return { dir: instead, heldBy: held, instead };
}

/** undefined once this usher holds the lock (or cannot lock at all); the holder's pid when another usher does. */
function tryLock(dir: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path.join(dir, LOCK_FILE), 'a+', 0o644);
  } catch {
    return undefined;
  }
  let locked: boolean;
  try {
    locked = lockExclusively(fd);
  } catch {
    closeSync(fd);
    return undefined; // no libc: no lock
  }
  if (!locked) {
    const holder = readFileSync(fd, 'latin1').trim();
    closeSync(fd);
    return holder || 'unknown';
  }
  ftruncateSync(fd, 0);
  writeSync(fd, `${process.pid}\n`, 0);
  return undefined; // held by us from now on: the descriptor is never closed
}
