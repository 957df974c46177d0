/**
 * Writes state.json and the marker files. Every file appears whole: it is written to
 * a temp file in the same directory, then renamed over its name, so a reader sees the old file
 * or the new one, never half of one. Nothing here follows a symlink: temp files are created with
 * O_EXCL (which refuses any existing name, a link included), rename and unlink act on the name
 * itself, and the directory is checked with lstat before each write.
 *
 * usher must outlive a broken state directory: write() never throws. The first failure is
 * logged once with what to do; later failures are silent until a write works again.
 */
import { closeSync, fchmodSync, lstatSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { errorCode } from '../sys/errno.js';
import { CODE_FIELD, MARKER_FILE, PROBE_CODES, PROBE_KINDS, STATE_FILE, type StateFile } from './schema.js';

/** The part of pino the writer uses. */
export interface StateLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface StateWriterOptions {
  readonly dir: string;
  readonly log: StateLog;
  /** How often the last state is rewritten with a new heartbeatAt. */
  readonly heartbeatMs?: number;
  /** The clock of heartbeatAt; tests make stale states with it. */
  readonly now?: () => number;
  /**
   * Called with true when a write failed and the old state.json could not be removed either (a
   * read-only remount), false when the files are current again: usher then marks itself so that
   * readers answer 6 (its process name, see STALE_NAME).
   */
  readonly markStale?: (stale: boolean) => void;
}

export interface StateWriter {
  /** Writes the state (stamped with the heartbeat fields) and sets the markers; never throws. */
  write(state: StateFile): void;
  /** Writes the final state if given (markers as its codes say), then stops the heartbeat; later writes are ignored. */
  stop(final?: StateFile): void;
  readonly dir: string;
  /** False from a failed write until a write works again. */
  readonly healthy: boolean;
}

/** The temp name a file is written under before the rename (exported for tests). */
export function tempName(name: string, pid = process.pid): string {
  return `.${name}.${pid}.tmp`;
}

/** A reader gives up on a heartbeat after three missed beats, and never in under 10 s. */
export function staleAfter(heartbeatMs: number): number {
  return Math.max(3 * heartbeatMs, 10_000);
}

export function createStateWriter({ dir, log, heartbeatMs = 2000, now = Date.now, markStale = () => undefined }: StateWriterOptions): StateWriter {
  if (!Number.isSafeInteger(heartbeatMs) || heartbeatMs <= 0) throw new RangeError(`heartbeatMs must be a positive integer, got ${heartbeatMs}`);
  let last: StateFile | undefined;
  let healthy = true;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const writeNow = (state: StateFile): void => {
    try {
      writeFiles(dir, stamp(state, now(), heartbeatMs));
      if (!healthy) {
        markStale(false);
        quietly(() => log.info({ stateDir: dir }, `state writes to ${dir} work again`));
      }
      healthy = true;
    } catch (error) {
      if (healthy) {
        const errno = errorCode(error);
        quietly(() => log.error(
          { stateDir: dir, errno, err: error instanceof Error ? error.message : String(error) },
          `cannot write state to ${dir} (${errno}): probes will answer 6 until it works; ` +
            'mount an emptyDir at /run/usher or set --state-dir; usher and the app keep running',
        ));
      }
      healthy = false;
      // The old files must not answer for a state that moved on (ready during a drain): remove
      // them; where even that fails, readers learn it from usher's process name.
      if (!withdraw(dir)) markStale(true);
    }
  };

  const heartbeat = (): void => {
    if (last && !stopped) writeNow(last);
  };

  return {
    dir,
    get healthy() {
      return healthy;
    },
    write(state) {
      if (stopped) return;
      last = state;
      writeNow(state);
      // One timer, pushed back by every write: the file never goes longer than heartbeatMs unwritten.
      if (timer) timer.refresh();
      else timer = setInterval(heartbeat, heartbeatMs).unref();
    },
    stop(final) {
      if (stopped) return;
      if (final) writeNow(final);
      stopped = true;
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}

/**
 * The state as written: the flat fields first, in schema order, whatever order the caller built
 * them in (bin/usher-probe reads them one per line and stops at `reasonSince`), then the rest.
 */
function stamp(state: StateFile, heartbeatAt: number, heartbeatMs: number): StateFile {
  const flat = {
    version: state.version,
    usherPid: state.usherPid,
    heartbeatAt,
    heartbeatMs,
    staleAfterMs: staleAfter(heartbeatMs),
    startupCode: state.startupCode,
    readyCode: state.readyCode,
    liveCode: state.liveCode,
    startupReason: oneLine(state.startupReason),
    readyReason: oneLine(state.readyReason),
    liveReason: oneLine(state.liveReason),
    startupDetail: oneLine(state.startupDetail),
    readyDetail: oneLine(state.readyDetail),
    liveDetail: oneLine(state.liveDetail),
    reasonSince: state.reasonSince,
  };
  // Spreading `state` over `flat` keeps flat's key order and state's other fields; flat's values win.
  return { ...flat, ...state, ...flat };
}

/**
 * A reason (and a detail) is printed as one line by two readers that must print the same bytes: no
 * control characters (JSON would escape them, and sh would print the escapes) and no lone
 * surrogates (JSON.stringify writes those as \u escapes).
 */
function oneLine(reason: string): string {
  return reason
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    .trim();
}

/**
 * Markers that must go are removed before state.json is replaced and markers that must appear
 * are made after it, so a marker never exists while state.json says its probe is not ok.
 */
function writeFiles(dir: string, state: StateFile): void {
  const stats = lstatSync(dir);
  if (stats.isSymbolicLink()) throw Object.assign(new Error(`${dir} became a symlink`), { code: 'ESYMLINK' });
  if (!stats.isDirectory()) throw Object.assign(new Error(`${dir} is not a directory`), { code: 'ENOTDIR' });
  for (const kind of PROBE_KINDS) if (state[CODE_FIELD[kind]] !== PROBE_CODES.ok) removeFile(path.join(dir, MARKER_FILE[kind]));
  replaceFile(dir, STATE_FILE, `${JSON.stringify(state, null, 2)}\n`);
  for (const kind of PROBE_KINDS) {
    if (state[CODE_FIELD[kind]] === PROBE_CODES.ok && !isRegularFile(path.join(dir, MARKER_FILE[kind]))) {
      replaceFile(dir, MARKER_FILE[kind], '');
    }
  }
}

/** temp file (O_EXCL, 0644) + rename: the name then holds either the old file or the new one. */
function replaceFile(dir: string, name: string, content: string): void {
  const temp = path.join(dir, tempName(name));
  let fd: number;
  try {
    fd = openSync(temp, 'wx', 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    // Left by a crash (as PID 1, every usher has the same pid), or planted: unlink removes the
    // name itself, never a link's target; then create it afresh, again with O_EXCL.
    unlinkSync(temp);
    fd = openSync(temp, 'wx', 0o644);
  }
  try {
    fchmodSync(fd, 0o644); // the umask may have cut the mode; probes of other users must read it
    const bytes = Buffer.from(content, 'utf8');
    for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset);
  } catch (error) {
    closeSync(fd);
    removeFile(temp);
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temp, path.join(dir, name));
  } catch (error) {
    removeFile(temp);
    throw error;
  }
}

/** A logger that throws must not make write() throw. */
function quietly(log: () => void): void {
  try {
    log();
  } catch {
    // nothing left to tell it with
  }
}

function removeFile(file: string): void {
  try {
    unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/** Removes state.json and the markers after a failed write; false when one of them is still there. */
function withdraw(dir: string): boolean {
  try {
    if (!lstatSync(dir).isDirectory()) return true; // nothing of ours there; never reach through a link
  } catch {
    return true; // gone with its files
  }
  let withdrawn = true;
  for (const name of [STATE_FILE, ...Object.values(MARKER_FILE)]) {
    try {
      unlinkSync(path.join(dir, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') withdrawn = false;
    }
  }
  return withdrawn;
}

function isRegularFile(file: string): boolean {
  try {
    return lstatSync(file).isFile();
  } catch {
    return false;
  }
}
