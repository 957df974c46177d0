import { closeSync, constants, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { lockExclusively } from '../sys/fd.js';
import { LOCK_FILE } from './schema.js';

export type Claim = { readonly dir: string } | { readonly dir: string; readonly heldBy: string };

/**
 * One usher per state directory: two (two Procfile lines under foreman, both on the default
 * directory) would overwrite each other's state, and the probes would flip between them. The
 * first holds a lock on `usher.lock` (flock: the kernel releases it when that usher dies, however
 * it dies); a second finds it held and uses a directory of its own inside, named by its pid.
 * The lock's descriptor stays open for usher's life. Where the lock cannot be taken at all
 * (no libc, an unwritable directory, a file system without locks), the directory is used as it
 * is: the writer reports what fails.
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
  return { dir: instead, heldBy: held };
}

/**
 * undefined once this usher holds the lock (or cannot lock at all); the holder's pid when another
 * usher does. The descriptor that holds the lock is read-only: a file open for writing would make
 * the kernel refuse a read-only remount of the directory (EBUSY).
 */
function tryLock(dir: string): string | undefined {
  const file = path.join(dir, LOCK_FILE);
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_CREAT, 0o644);
  } catch {
    return undefined;
  }
  let locked: boolean;
  try {
    locked = lockExclusively(fd);
  } catch {
    closeSync(fd);
    return undefined; // no libc, or a file system without locks: nobody is known to hold it
  }
  if (!locked) {
    const holder = readFileSync(fd, 'latin1').trim();
    closeSync(fd);
    return holder || 'unknown';
  }
  try {
    writeFileSync(file, `${process.pid}\n`); // opened, written and closed at once
  } catch {
    // the pid is only for the other usher's message
  }
  return undefined; // held by us from now on: the descriptor is never closed
}
