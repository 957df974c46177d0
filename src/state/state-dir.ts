/**
 * Where state lives (`--state-dir`). usher picks the directory once at start and
 * says which in one line; readers (`usher probe`, `usher status`, bin/usher-probe) find the same
 * directory by the same rules without creating anything.
 *
 * A directory that is a symlink is refused: usher never writes through a link it did not make
 * (a link in a shared /tmp could point anywhere). Failing to create or write a directory is not
 * an error here: the state writer reports it once and the app keeps running.
 */
import { accessSync, chmodSync, constants, lstatSync, mkdirSync, statSync, type Stats } from 'node:fs';
import path from 'node:path';
import { errorCode } from '../sys/errno.js';
import { STATE_FILE } from './schema.js';

export const DEFAULT_STATE_DIR = '/run/usher';

export type StateDirSource = 'flag' | 'env' | 'default' | 'fallback';

export interface StateDirChoice {
  readonly dir: string;
  readonly source: StateDirSource;
  /** For the fallback: why the default was passed over, e.g. `EACCES` or `EROFS`. */
  readonly defaultErrno?: string;
}

export interface StateDirOptions {
  /** Where `explicit` came from, for messages; default: 'env' when it is USHER_STATE_DIR's value, else 'flag'. */
  readonly explicitSource?: 'flag' | 'env';
  /** Tests point this away from the real /run/usher. */
  readonly defaultDir?: string;
  readonly uid?: number;
}

/** A state directory usher refuses to use; the message names the flag or variable and the path. */
export class StateDirError extends Error {
  override readonly name = 'StateDirError';
  constructor(message: string, readonly dir: string, readonly source: StateDirSource) {
    super(message);
  }
}

const WHERE: Record<StateDirSource, string> = {
  flag: '--state-dir',
  env: 'USHER_STATE_DIR',
  default: 'the default state dir',
  fallback: 'the fallback state dir',
};

/**
 * For usher itself: `explicit` (the --state-dir value, or USHER_STATE_DIR's merged in by the
 * caller; undefined when neither was given), else USHER_STATE_DIR from `env`, else /run/usher
 * when writable or creatable, else a per-user directory in the temp dir. Creates the directory
 * (0755) when missing. Throws StateDirError for a symlink, or a fallback directory owned by
 * another user.
 */
export function chooseStateDir(explicit: string | undefined, env: NodeJS.ProcessEnv, options: StateDirOptions = {}): StateDirChoice {
  const given = explicitDir(explicit, env, options);
  if (given) {
    const dir = path.resolve(given.dir); // usher changes to / once the app runs
    const stats = lstatOrUndefined(dir);
    refuseSymlink(dir, given.source, stats);
    if (!stats) makeDirs(dir);
    return { dir, source: given.source };
  }

  const defaultDir = options.defaultDir ?? DEFAULT_STATE_DIR;
  const stats = lstatOrUndefined(defaultDir);
  refuseSymlink(defaultDir, 'default', stats);
  const errno = stats ? writableErrno(defaultDir, stats) : makeDir(defaultDir);
  if (errno === undefined) return { dir: defaultDir, source: 'default' };

  const uid = options.uid ?? currentUid();
  const dir = fallbackStateDir(env, uid);
  if (!lstatOrUndefined(dir)) makeDirs(dir);
  // Checked after the mkdir, not before: in a shared temp dir another user could create the
  // directory (or a link) between a check and the mkdir.
  const fallbackStats = lstatOrUndefined(dir);
  refuseSymlink(dir, 'fallback', fallbackStats);
  if (fallbackStats && fallbackStats.uid !== uid) {
    throw new StateDirError(`the fallback state dir ${dir} belongs to uid ${fallbackStats.uid}, not to uid ${uid}: remove it, or set --state-dir`, dir, 'fallback');
  }
  return { dir, source: 'fallback', defaultErrno: errno };
}

/**
 * For readers: the same order, creating nothing. /run/usher counts only when it holds a
 * state.json, so a probe run by the same user finds usher's fallback directory.
 */
export function findStateDir(explicit: string | undefined, env: NodeJS.ProcessEnv, options: StateDirOptions = {}): StateDirChoice {
  const given = explicitDir(explicit, env, options);
  if (given) return given;
  const defaultDir = options.defaultDir ?? DEFAULT_STATE_DIR;
  if (isFile(path.join(defaultDir, STATE_FILE))) return { dir: defaultDir, source: 'default' };
  return { dir: fallbackStateDir(env, options.uid ?? currentUid()), source: 'fallback' };
}

/**
 * `${tmp}/usher-${uid}`, tmp chosen as os.tmpdir() chooses it but from the given environment;
 * the sh twin spells it `${TMPDIR:-${TMP:-${TEMP:-/tmp}}}` and drops one trailing slash too.
 */
export function fallbackStateDir(env: NodeJS.ProcessEnv, uid: number): string {
  const tmp = env.TMPDIR || env.TMP || env.TEMP || '/tmp';
  return `${tmp.endsWith('/') ? tmp.slice(0, -1) : tmp}/usher-${uid}`;
}

/** The one start-up line that says where state goes, and what to do when it is not the default. */
export function describeStateDir(choice: StateDirChoice): string {
  switch (choice.source) {
    case 'flag':
    case 'env':
      return `state in ${choice.dir} (from ${WHERE[choice.source]})`;
    case 'default':
      return `state in ${choice.dir}`;
    case 'fallback':
      return `state in ${choice.dir}: ${DEFAULT_STATE_DIR} is not writable (${choice.defaultErrno ?? 'unknown'}); ` +
        `probes run as another user will not find it: mount an emptyDir at ${DEFAULT_STATE_DIR} or set --state-dir`;
  }
}

function explicitDir(explicit: string | undefined, env: NodeJS.ProcessEnv, options: StateDirOptions): { dir: string; source: 'flag' | 'env' } | undefined {
  if (explicit !== undefined) {
    // A config layer that merged USHER_STATE_DIR into `explicit` still gets its messages right.
    const fromEnv = env.USHER_STATE_DIR !== undefined && env.USHER_STATE_DIR !== '' && path.resolve(env.USHER_STATE_DIR) === path.resolve(explicit);
    const source = options.explicitSource ?? (fromEnv ? 'env' : 'flag');
    if (explicit === '') throw new StateDirError(`${WHERE[source]} is empty: give a directory`, explicit, source);
    return { dir: explicit, source };
  }
  // An empty variable is how people unset one in a Dockerfile or a manifest.
  if (env.USHER_STATE_DIR) return { dir: env.USHER_STATE_DIR, source: 'env' };
  return undefined;
}

function refuseSymlink(dir: string, source: StateDirSource, stats: Stats | undefined): void {
  if (stats?.isSymbolicLink()) {
    throw new StateDirError(`${WHERE[source]} ${dir} is a symlink; usher writes state only into a real directory: give its target instead`, dir, source);
  }
}

function lstatOrUndefined(file: string): Stats | undefined {
  try {
    return lstatSync(file);
  } catch {
    return undefined;
  }
}

/** undefined when usher can create files in the directory, else why not. */
function writableErrno(dir: string, stats: Stats): string | undefined {
  if (!stats.isDirectory()) return 'ENOTDIR';
  try {
    // access(2) also answers EROFS for a read-only mount, which is the common case for root.
    accessSync(dir, constants.W_OK | constants.X_OK);
    return undefined;
  } catch (error) {
    return errorCode(error);
  }
}

/** Creates one directory (its parent must exist); undefined on success, else the errno. */
function makeDir(dir: string): string | undefined {
  try {
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755); // mkdir's mode is cut by the umask; probes of other users must read it
    return undefined;
  } catch (error) {
    return errorCode(error);
  }
}

/** Creates the directory and missing parents, each 0755; a failure is left to the writer to report. */
function makeDirs(dir: string): void {
  try {
    const first = mkdirSync(dir, { recursive: true, mode: 0o755 });
    if (first === undefined) return;
    for (let level = dir; ; level = path.dirname(level)) {
      chmodSync(level, 0o755);
      if (level === first || level === path.dirname(level)) break;
    }
  } catch {
    // reported by the state writer, with its errno, at the first write
  }
}

/** As `[ -f FILE ]` in the sh twin: a regular file, through symlinks. */
function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function currentUid(): number {
  return process.getuid?.() ?? 0;
}
