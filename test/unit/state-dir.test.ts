import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeStateDir, fallbackStateDir, findStateDir, chooseStateDir, StateDirError } from '../../src/state/state-dir.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'usher-dir-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

/** The default dir and the temp dir both inside this test's root, never the real /run/usher. */
function setup(): { defaultDir: string; env: NodeJS.ProcessEnv; fallback: string } {
  const tmp = path.join(root, 'tmp');
  mkdirSync(tmp);
  return { defaultDir: path.join(root, 'run', 'usher'), env: { TMPDIR: `${tmp}/` }, fallback: `${tmp}/usher-${process.getuid!()}` };
}

function errorOf(run: () => unknown): StateDirError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(StateDirError);
    return error as StateDirError;
  }
  throw new Error('expected a StateDirError');
}

describe('chooseStateDir (usher)', () => {
  it('uses the flag as is, made absolute, created 0755 with its parents', () => {
    const { env } = setup();
    const oldUmask = process.umask(0o077); // a hardened umask must not make it unreadable
    try {
      const dir = path.join(root, 'a', 'b');
      const relative = path.relative(process.cwd(), dir);
      expect(chooseStateDir(relative, env)).toEqual({ dir, source: 'flag' });
      expect(statSync(dir).mode & 0o777).toBe(0o755);
      expect(statSync(path.join(root, 'a')).mode & 0o777).toBe(0o755);
    } finally {
      process.umask(oldUmask);
    }
  });

  it('USHER_STATE_DIR when no flag; an empty one counts as unset', () => {
    const { env, defaultDir } = setup();
    mkdirSync(path.dirname(defaultDir));
    const dir = path.join(root, 'from-env');
    expect(chooseStateDir(undefined, { ...env, USHER_STATE_DIR: dir }, { defaultDir })).toEqual({ dir, source: 'env' });
    expect(chooseStateDir(undefined, { ...env, USHER_STATE_DIR: '' }, { defaultDir })).toEqual({ dir: defaultDir, source: 'default' });
  });

  it('a caller that merged the variable into `explicit` names it', () => {
    const dir = path.join(root, 'x');
    expect(chooseStateDir(dir, {}, { explicitSource: 'env' }).source).toBe('env');
    expect(chooseStateDir(dir, { USHER_STATE_DIR: path.relative(process.cwd(), dir) }).source).toBe('env');
    expect(chooseStateDir(dir, { USHER_STATE_DIR: '/elsewhere' }).source).toBe('flag');
  });

  it('an empty flag is an error naming the flag', () => {
    expect(errorOf(() => chooseStateDir('', {})).message).toMatch(/^--state-dir is empty/);
  });

  it('the default when it can be created, then when it exists and is writable', () => {
    const { env, defaultDir } = setup();
    mkdirSync(path.dirname(defaultDir));
    expect(chooseStateDir(undefined, env, { defaultDir })).toEqual({ dir: defaultDir, source: 'default' });
    expect(statSync(defaultDir).mode & 0o777).toBe(0o755);
    expect(chooseStateDir(undefined, env, { defaultDir })).toEqual({ dir: defaultDir, source: 'default' });
  });

  it('falls back to the per-user temp dir when the default cannot be created', () => {
    const { env, defaultDir, fallback } = setup(); // no parent dir for the default: ENOENT
    const choice = chooseStateDir(undefined, env, { defaultDir });
    expect(choice).toEqual({ dir: fallback, source: 'fallback', defaultErrno: 'ENOENT' });
    expect(statSync(fallback).isDirectory()).toBe(true);
    expect(describeStateDir(choice)).toBe(
      `state in ${fallback}: /run/usher is not writable (ENOENT); probes run as another user will not find it: mount an emptyDir at /run/usher or set --state-dir`,
    );
  });

  it('falls back when the default is a file (root can write anywhere else, so that is the portable test)', () => {
    const { env, defaultDir, fallback } = setup();
    mkdirSync(path.dirname(defaultDir));
    writeFileSync(defaultDir, '');
    expect(chooseStateDir(undefined, env, { defaultDir })).toEqual({ dir: fallback, source: 'fallback', defaultErrno: 'ENOTDIR' });
  });

  it.each(['flag', 'default', 'fallback'] as const)('refuses a symlink as the %s dir', (source) => {
    const { env, defaultDir, fallback } = setup();
    const target = path.join(root, 'target');
    mkdirSync(target);
    const link = source === 'flag' ? path.join(root, 'link') : source === 'default' ? defaultDir : fallback;
    mkdirSync(path.dirname(link), { recursive: true });
    symlinkSync(target, link);
    const error = errorOf(() => chooseStateDir(source === 'flag' ? link : undefined, env, { defaultDir: source === 'default' ? defaultDir : path.join(root, 'none', 'usher') }));
    expect(error.message).toContain(`${link} is a symlink`);
    expect(error.source).toBe(source);
  });

  it('refuses a fallback dir that another user made', () => {
    // The directory is this test's user's; usher is told it runs as uid 4242: no root needed.
    const { env } = setup();
    const fallback = fallbackStateDir(env, 4242);
    mkdirSync(fallback);
    const error = errorOf(() => chooseStateDir(undefined, env, { defaultDir: path.join(root, 'none', 'usher'), uid: 4242 }));
    expect(error.message).toBe(`the fallback state dir ${fallback} belongs to uid ${process.getuid!()}, not to uid 4242: remove it, or set --state-dir`);
  });

  it('describes where state goes', () => {
    expect(describeStateDir({ dir: '/run/usher', source: 'default' })).toBe('state in /run/usher');
    expect(describeStateDir({ dir: '/s', source: 'flag' })).toBe('state in /s (from --state-dir)');
    expect(describeStateDir({ dir: '/s', source: 'env' })).toBe('state in /s (from USHER_STATE_DIR)');
  });
});

describe('findStateDir (readers)', () => {
  it('flag, then USHER_STATE_DIR, as given', () => {
    expect(findStateDir('rel', { USHER_STATE_DIR: '/e' })).toEqual({ dir: 'rel', source: 'flag' });
    expect(findStateDir(undefined, { USHER_STATE_DIR: '/e' })).toEqual({ dir: '/e', source: 'env' });
  });

  it('the default only when it holds a state.json, else the per-user temp dir; creates nothing', () => {
    const { env, defaultDir, fallback } = setup();
    expect(findStateDir(undefined, env, { defaultDir })).toEqual({ dir: fallback, source: 'fallback' });
    mkdirSync(defaultDir, { recursive: true });
    expect(findStateDir(undefined, env, { defaultDir })).toEqual({ dir: fallback, source: 'fallback' });
    writeFileSync(path.join(defaultDir, 'state.json'), '{}');
    expect(findStateDir(undefined, env, { defaultDir })).toEqual({ dir: defaultDir, source: 'default' });
    expect(() => statSync(fallback)).toThrow();
  });

  it('the temp dir as os.tmpdir() picks it, as the sh twin spells it', () => {
    expect(fallbackStateDir({}, 1000)).toBe('/tmp/usher-1000');
    expect(fallbackStateDir({ TMPDIR: '/x/' }, 1000)).toBe('/x/usher-1000');
    expect(fallbackStateDir({ TMP: '/t' }, 1000)).toBe('/t/usher-1000');
    expect(fallbackStateDir({ TMPDIR: '', TEMP: '/e' }, 5)).toBe('/e/usher-5');
    expect(fallbackStateDir({ TMPDIR: '/' }, 5)).toBe('/usher-5');
  });
});
