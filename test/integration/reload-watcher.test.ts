import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startTunedReloadWatcher, type Tuning } from '../../src/reload/target.js';
import { checkReloadPaths, startReloadWatcher, type ReloadChange, type ReloadWatcher, type ReloadWatcherOptions } from '../../src/reload/watcher.js';

// Real files, real inotify, real timers. Waits are for events (a change, a log line), bounded
// generously because this runs on 2 shared cores next to other test runs.
const DEBOUNCE_MS = 200;
const WAIT_MS = 10_000;
/** Proving that something did NOT happen: this long after the last write, it would have. */
const QUIET_MS = 3 * DEBOUNCE_MS;

interface LogRecord {
  readonly level: 'info' | 'warn' | 'debug';
  readonly msg: string;
  readonly obj: object;
}

/** Collects changes and log lines; `until` resolves as soon as a condition holds. */
class Recorder {
  readonly changes: ReloadChange[] = [];
  readonly logs: LogRecord[] = [];
  readonly #listeners = new Set<() => void>();
  onChangeHook: (change: ReloadChange) => void = () => {};

  readonly log: ReloadWatcherOptions['log'] = {
    info: (obj, msg) => this.#record({ level: 'info', msg, obj }),
    warn: (obj, msg) => this.#record({ level: 'warn', msg, obj }),
    debug: (obj, msg) => this.#record({ level: 'debug', msg, obj }),
  };

  readonly onChange = (change: ReloadChange): void => {
    this.changes.push(change);
    this.#notify();
    this.onChangeHook(change);
  };

  logged(level: LogRecord['level'], text: string): LogRecord[] {
    return this.logs.filter((record) => record.level === level && record.msg.includes(text));
  }

  until(condition: () => boolean, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!condition()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${WAIT_MS} ms waiting for ${what}; changes: ${JSON.stringify(this.changes)}; warnings: ${JSON.stringify(this.logged('warn', ''))}`));
      }, WAIT_MS);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.#listeners.delete(check);
      };
      this.#listeners.add(check);
      check();
    });
  }

  changeCount(count: number): Promise<void> {
    return this.until(() => this.changes.length >= count, `${count} change(s)`);
  }

  /** Resolves at the next log line matching, counting from now. */
  nextLog(level: LogRecord['level'], text: string): Promise<void> {
    const before = this.logged(level, text).length;
    return this.until(() => this.logged(level, text).length > before, `a ${level} log "${text}"`);
  }

  #record(record: LogRecord): void {
    this.logs.push(record);
    this.#notify();
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}

const dirs: string[] = [];
const watchers: ReloadWatcher[] = [];
afterEach(() => {
  for (const watcher of watchers.splice(0)) watcher.stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'usher-reload-'));
  dirs.push(dir);
  return dir;
}

type Mode = 'default' | 'inotify only' | 'poll only';
const TUNINGS: Record<Exclude<Mode, 'default'>, Tuning> = {
  'inotify only': { safetyPollMs: 0, missingPollMs: 0, useFsWatch: true },
  'poll only': { safetyPollMs: 300, missingPollMs: 300, useFsWatch: false },
};

function watch(paths: readonly string[], options: { optional?: boolean; debounceMs?: number; mode?: Mode } = {}): Recorder {
  const recorder = new Recorder();
  const watcherOptions: ReloadWatcherOptions = {
    paths,
    optional: options.optional ?? false,
    debounceMs: options.debounceMs ?? DEBOUNCE_MS,
    log: recorder.log,
    onChange: recorder.onChange,
  };
  const mode = options.mode ?? 'default';
  watchers.push(mode === 'default' ? startReloadWatcher(watcherOptions) : startTunedReloadWatcher(watcherOptions, TUNINGS[mode]));
  return recorder;
}

/** Waits for a check to run and find nothing new, then a quiet period: see QUIET_MS. */
async function expectNoChangeAfterCheck(recorder: Recorder, unchanged: Promise<void>): Promise<void> {
  await unchanged;
  await sleep(QUIET_MS);
  expect(recorder.changes).toEqual([]);
}

// --- Kubernetes Secret/ConfigMap volume, as kubelet's AtomicWriter lays it out -------------

let generation = 0;

/** `..2026_11_26_10_00_00.NNN/` holds the files; `..data -> ..2026_…`; `name -> ..data/name`. */
function writeTimestampedDir(volume: string, files: Record<string, string>): string {
  const name = `..2026_11_26_10_00_00.${String(++generation).padStart(9, '0')}`;
  mkdirSync(path.join(volume, name));
  for (const [file, content] of Object.entries(files)) writeFileSync(path.join(volume, name, file), content);
  return name;
}

function createVolume(volume: string, files: Record<string, string>): void {
  symlinkSync(writeTimestampedDir(volume, files), path.join(volume, '..data'));
  for (const file of Object.keys(files)) symlinkSync(path.join('..data', file), path.join(volume, file));
}

/** An update: new timestamped dir, `..data_tmp` symlink to it renamed over `..data`, old dir removed. */
function updateVolume(volume: string, files: Record<string, string>): void {
  const old = readlinkSync(path.join(volume, '..data'));
  symlinkSync(writeTimestampedDir(volume, files), path.join(volume, '..data_tmp'));
  renameSync(path.join(volume, '..data_tmp'), path.join(volume, '..data'));
  rmSync(path.join(volume, old), { recursive: true });
}

const CERT_V1 = { 'tls.crt': 'certificate 1\n', 'tls.key': 'key 1\n' };
const CERT_V2 = { 'tls.crt': 'certificate 2\n', 'tls.key': 'key 1\n' };

describe('reload watcher: a single file', () => {
  it('one change for one edit, naming the path as given', async () => {
    const file = path.join(tempDir(), 'app.conf');
    writeFileSync(file, 'listen 80\n');
    const recorder = watch([file]);
    writeFileSync(file, 'listen 8080\n');
    await recorder.changeCount(1);
    await sleep(QUIET_MS); // no second call for the same edit
    expect(recorder.changes).toEqual([{ path: file, detail: 'content changed' }]);
  });

  it('a burst of 50 different writes within 200 ms gives exactly one change, after the last write', async () => {
    const file = path.join(tempDir(), 'app.conf');
    writeFileSync(file, 'start\n');
    // A longer debounce than elsewhere: a 200 ms burst from another process must not be split
    // by a scheduling hiccup of the writer on a loaded machine.
    const debounceMs = 500;
    const recorder = watch([file], { debounceMs });
    const seen: string[] = [];
    recorder.onChangeHook = () => seen.push(readFileSync(file, 'utf8'));
    const writer = `const fs = require('node:fs');
      const start = Date.now();
      for (let i = 1; i <= 50; i++) {
        fs.writeFileSync(${JSON.stringify(file)}, 'write ' + i + '\\n');
        while (Date.now() < start + i * 4) {}
      }
      process.stdout.write(String(Date.now() - start));`;
    const elapsed = await runNode(writer);
    expect(elapsed).toBeLessThan(400); // the burst really was a burst (200 ms + slack for a busy machine)
    await recorder.changeCount(1);
    await sleep(3 * debounceMs); // a split burst would call again within one debounce
    expect(recorder.changes).toHaveLength(1);
    expect(seen).toEqual(['write 50\n']);
  });

  it('no change for a touch or a rewrite of the same content', async () => {
    const file = path.join(tempDir(), 'app.conf');
    writeFileSync(file, 'same\n');
    const recorder = watch([file]);
    const unchanged = recorder.nextLog('debug', 'content unchanged');
    const later = new Date(Date.now() + 60_000);
    utimesSync(file, later, later);
    writeFileSync(file, 'same\n');
    await expectNoChangeAfterCheck(recorder, unchanged);
    writeFileSync(file, 'different\n'); // and it still watches
    await recorder.changeCount(1);
  });

  it('a throwing handler is logged and watching goes on', async () => {
    const file = path.join(tempDir(), 'app.conf');
    writeFileSync(file, 'one\n');
    const recorder = watch([file]);
    recorder.onChangeHook = () => {
      throw new Error('handler bug');
    };
    writeFileSync(file, 'two\n');
    await recorder.nextLog('warn', 'change handler failed');
    writeFileSync(file, 'three\n');
    await recorder.changeCount(2);
  });
});

describe.each<Mode>(['default', 'inotify only', 'poll only'])('reload watcher, %s', (mode) => {
  it('Kubernetes ..data swap on a watched volume directory: one change naming the file', async () => {
    const volume = tempDir();
    createVolume(volume, CERT_V1);
    const recorder = watch([volume], { mode });
    updateVolume(volume, CERT_V2);
    await recorder.changeCount(1);
    await sleep(QUIET_MS);
    expect(recorder.changes).toEqual([{ path: volume, detail: 'content changed: tls.crt' }]);
  });

  it('Kubernetes ..data swap on a watched file in the volume: one change, none when only another file changed', async () => {
    const volume = tempDir();
    createVolume(volume, CERT_V1);
    const certificate = path.join(volume, 'tls.crt');
    const recorder = watch([certificate], { mode });
    const unchanged = recorder.nextLog('debug', 'content unchanged');
    updateVolume(volume, { 'tls.crt': 'certificate 1\n', 'tls.key': 'key 2\n' });
    await expectNoChangeAfterCheck(recorder, unchanged);
    updateVolume(volume, CERT_V2);
    await recorder.changeCount(1);
    await sleep(QUIET_MS);
    expect(recorder.changes).toEqual([{ path: certificate, detail: 'content changed' }]);
  });

  it('a file removed, then recreated with new content: one warning, then one change', async () => {
    const file = path.join(tempDir(), 'app.conf');
    writeFileSync(file, 'old\n');
    const recorder = watch([file], { mode });
    const gone = recorder.nextLog('warn', 'disappeared');
    rmSync(file);
    await gone;
    writeFileSync(file, 'new\n');
    await recorder.changeCount(1);
    await sleep(QUIET_MS);
    expect(recorder.changes).toEqual([{ path: file, detail: 'reappeared with different content' }]);
    expect(recorder.logged('warn', 'disappeared')).toHaveLength(1);
  });

  it('the parent directory of a watched file moved away and back: a warning, no change for the return, edits seen again', async () => {
    const parent = path.join(tempDir(), 'conf');
    mkdirSync(parent);
    const file = path.join(parent, 'app.conf');
    writeFileSync(file, 'same\n');
    const recorder = watch([file], { mode });
    const gone = recorder.nextLog('warn', 'disappeared');
    renameSync(parent, `${parent}.moved`);
    await gone;
    const back = recorder.nextLog('info', 'path is back');
    renameSync(`${parent}.moved`, parent);
    await back;
    writeFileSync(file, 'changed\n');
    await recorder.changeCount(1);
    expect(recorder.changes).toEqual([{ path: file, detail: 'content changed' }]);
  });

  it('a volume directory removed, then recreated: back with the same content is no change', async () => {
    const parent = tempDir();
    const volume = path.join(parent, 'certs');
    mkdirSync(volume);
    createVolume(volume, CERT_V1);
    const recorder = watch([volume], { mode });
    const gone = recorder.nextLog('warn', 'disappeared');
    rmSync(volume, { recursive: true });
    await gone;
    const back = recorder.nextLog('info', 'path is back');
    mkdirSync(volume);
    createVolume(volume, CERT_V1);
    await back;
    const unchanged = recorder.nextLog('debug', 'content unchanged');
    updateVolume(volume, CERT_V1);
    await expectNoChangeAfterCheck(recorder, unchanged);
    updateVolume(volume, CERT_V2); // the new directory is watched, not the deleted one
    await recorder.changeCount(1);
    expect(recorder.changes).toEqual([{ path: volume, detail: 'content changed: tls.crt' }]);
  });

  it('an optional path missing at start, parent directory included, is picked up when created', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'not-yet', 'app.conf');
    expect(() => checkReloadPaths([file], true)).not.toThrow();
    const recorder = watch([file], { optional: true, mode });
    expect(recorder.logged('info', 'does not exist yet')).toHaveLength(1);
    mkdirSync(path.join(dir, 'not-yet'));
    writeFileSync(file, 'hello\n');
    await recorder.changeCount(1);
    expect(recorder.changes).toEqual([{ path: file, detail: 'appeared' }]);
  });
});

describe('reload watcher: directories and edge cases', () => {
  it('an edit in a subdirectory of a watched directory, and symlink loops do not break it', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'sites'));
    writeFileSync(path.join(dir, 'sites', 'a.conf'), 'a\n');
    symlinkSync('loop', path.join(dir, 'loop')); // ELOOP
    symlinkSync('..', path.join(dir, 'sites', 'up')); // a directory cycle
    const recorder = watch([dir], { mode: 'inotify only' });
    writeFileSync(path.join(dir, 'sites', 'a.conf'), 'b\n');
    await recorder.changeCount(1);
    expect(recorder.changes[0]?.detail).toBe('content changed: sites/a.conf');
    writeFileSync(path.join(dir, 'new.conf'), 'n\n');
    await recorder.changeCount(2);
    expect(recorder.changes[1]?.detail).toBe('added: new.conf');
    expect(recorder.logged('warn', '')).toEqual([]);
  });

  it('checkReloadPaths names a missing path unless optional; a dangling symlink counts as missing', () => {
    const dir = tempDir();
    const missing = path.join(dir, 'missing.conf');
    expect(() => checkReloadPaths([missing], false)).toThrow(`no such file or directory: "${missing}"`);
    const dangling = path.join(dir, 'tls.crt');
    symlinkSync('..data/tls.crt', dangling);
    expect(() => checkReloadPaths([dir, dangling], false)).toThrow(`no such file or directory: "${dangling}"`);
    expect(() => checkReloadPaths([missing, dangling], true)).not.toThrow();
  });

  it('stop() closes every inotify watch and no change is reported after it', async () => {
    const volume = tempDir();
    createVolume(volume, CERT_V1);
    const before = inotifyWatchCount();
    const recorder = watch([volume, path.join(volume, 'tls.crt')]);
    expect(inotifyWatchCount()).toBeGreaterThan(before);
    watchers.splice(0).forEach((watcher) => watcher.stop());
    expect(inotifyWatchCount()).toBe(before);
    updateVolume(volume, CERT_V2);
    await sleep(QUIET_MS); // a watcher still running would have reported by now
    expect(recorder.changes).toEqual([]);
  });
});

function runNode(script: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Number(output)) : reject(new Error(`writer exited ${code}`))));
  });
}

/** Watches held by this process's inotify instances (libuv uses one per loop). */
function inotifyWatchCount(): number {
  let count = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    if (target !== 'anon_inode:inotify') continue;
    count += readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n').filter((line) => line.startsWith('inotify wd:')).length;
  }
  return count;
}
