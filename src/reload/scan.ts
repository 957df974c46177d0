import type { Hash } from 'node:crypto';

/** node:crypto costs about 1.5 ms to load: only usher with --reload-on pays it, on first use. */
function createSha256(): Hash {
  return (require('node:crypto') as typeof import('node:crypto')).createHash('sha256');
}
import { closeSync, openSync, readSync, readdirSync, statSync, type Dirent, type Stats } from 'node:fs';
import path from 'node:path';
import { isMissing, followEntryRecording, followRecording, SymlinkLoopError } from './follow-path.js';
import { WatchPlan } from './watch-plan.js';

export type Kind = 'missing' | 'file' | 'dir' | 'other';

interface FileEntry {
  /** '' for a watched file; the path below a watched directory, through symlinks as named. */
  readonly rel: string;
  readonly real: string;
  readonly stats: Stats;
}

/** What a watched path looks like on disk, from metadata only: cheap enough to poll. */
export interface Scan {
  readonly kind: Kind;
  readonly files: readonly FileEntry[];
  readonly plan: WatchPlan;
  /** Changes whenever any file may have changed (inode, size, times): the poll compares it. */
  readonly signature: string;
}

/** sha256 of each file's content by `rel`: what decides whether the app is told. */
export interface Content {
  readonly kind: Kind;
  readonly hashes: ReadonlyMap<string, string>;
}

export function scanPath(given: string): Scan {
  const plan = new WatchPlan();
  const real = followRecording(given, plan);
  const stats = real === undefined ? undefined : statOrUndefined(real);
  if (real === undefined || stats === undefined) return scanned('missing', [], plan);
  if (stats.isFile()) return scanned('file', [{ rel: '', real, stats }], plan);
  if (!stats.isDirectory()) return scanned('other', [], plan);
  const files: FileEntry[] = [];
  walkDirectory(real, '', new Set([identity(stats)]), files, plan);
  return scanned('dir', files, plan);
}

function scanned(kind: Kind, files: FileEntry[], plan: WatchPlan): Scan {
  const lines = files.map(({ rel, stats }) => `${rel}\0${stats.dev}:${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`);
  return { kind, files, plan, signature: `${kind}\n${lines.join('\n')}` };
}

/**
 * Every regular file reachable from `dir`, following symlinks. Names starting with `..` are
 * Kubernetes' own (`..data`, `..2026_…`): the visible names already lead there. `ancestors`
 * stops a symlink cycle; the same directory under two names is walked twice, on purpose.
 */
function walkDirectory(dir: string, rel: string, ancestors: Set<string>, out: FileEntry[], plan: WatchPlan): void {
  plan.all(dir);
  for (const entry of readDirectory(dir)) {
    if (entry.name.startsWith('..')) continue;
    const childRel = rel === '' ? entry.name : `${rel}/${entry.name}`;
    const real = entry.isSymbolicLink() ? resolveLink(dir, entry.name, plan) : path.join(dir, entry.name);
    const stats = real === undefined ? undefined : statOrUndefined(real);
    // Dangling, looping or gone since readdir: its lookups are in the plan, so a fix is noticed.
    if (real === undefined || stats === undefined) continue;
    if (stats.isFile()) out.push({ rel: childRel, real, stats });
    else if (stats.isDirectory() && !ancestors.has(identity(stats))) {
      ancestors.add(identity(stats));
      walkDirectory(real, childRel, ancestors, out, plan);
      ancestors.delete(identity(stats));
    }
    // FIFOs, sockets and devices are skipped: reading a FIFO would block usher.
  }
}

/** A symlink loop inside a watched directory is skipped like a dangling link, not fatal for the rest. */
function resolveLink(dir: string, name: string, plan: WatchPlan): string | undefined {
  try {
    return followEntryRecording(dir, name, plan);
  } catch (error) {
    if (error instanceof SymlinkLoopError) return undefined;
    throw error;
  }
}

function readDirectory(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (error) {
    if (isMissing(error)) return [];
    throw error;
  }
}

function statOrUndefined(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

function identity(stats: Stats): string {
  return `${stats.dev}:${stats.ino}`;
}

/**
 * Reads what the scan found; undefined when a file went away in between: the content is
 * in flux and the removal brings an event (or the poll) of its own.
 */
export function readContent(scan: Scan): Content | undefined {
  const hashes = new Map<string, string>();
  for (const file of scan.files) {
    const hash = hashFile(file.real);
    if (hash === undefined) return undefined;
    hashes.set(file.rel, hash);
  }
  return { kind: scan.kind, hashes };
}

const CHUNK = Buffer.allocUnsafe(64 * 1024);

/** Synchronous on purpose, see target.ts; chunked so a large file does not sit in memory. */
function hashFile(file: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  try {
    const hash = createSha256();
    for (let read = readSync(fd, CHUNK); read > 0; read = readSync(fd, CHUNK)) hash.update(CHUNK.subarray(0, read));
    return hash.digest('hex');
  } finally {
    closeSync(fd);
  }
}
