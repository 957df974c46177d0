import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyPackage, run } from './launcher-kit.js';

// bin/usher finds dist/ next to the file it really is, however it was started: by its path, by
// PATH, or through the symlinks npm makes. It must do so without forking readlink(1) at every
// start for npm's layouts: a readlink that logs its calls comes first on PATH, so any call shows.

let root: string;
let readlinkLog: string;
let env: NodeJS.ProcessEnv;

/** A package copy at `dir` (…/bin/usher, …/dist), and a symlink `link` -> `target`, as npm makes it. */
function install(dir: string, link?: { at: string; to: string }): string {
  const { usher } = copyPackage(path.join(root, dir));
  if (!link) return usher;
  mkdirSync(path.dirname(path.join(root, link.at)), { recursive: true });
  symlinkSync(link.to, path.join(root, link.at));
  return path.join(root, link.at);
}

function readlinkCalls(): string[] {
  return existsSync(readlinkLog) ? readFileSync(readlinkLog, 'utf8').split('\n').filter(Boolean) : [];
}

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'usher-layouts-'));
  const tools = path.join(root, 'tools');
  mkdirSync(tools);
  readlinkLog = path.join(root, 'readlink.log');
  const realReadlink = ['/usr/bin/readlink', '/bin/readlink'].find((file) => existsSync(file));
  if (!realReadlink) throw new Error('readlink(1) is missing: the fallback for other symlinks needs it');
  writeFileSync(path.join(tools, 'readlink'), `#!/bin/sh\necho "$*" >> '${readlinkLog}'\nexec ${realReadlink} "$@"\n`);
  chmodSync(path.join(tools, 'readlink'), 0o755);
  mkdirSync(path.join(root, 'state'));
  env = { PATH: `${tools}:${process.env.PATH}`, USHER_STATE_DIR: path.join(root, 'state'), USHER_LOG_LEVEL: 'warn', HOME: root };
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Runs usher `how`, and expects it to run the app, having called readlink `readlinks` times. */
async function expectRuns(file: string, options: { args?: string[]; cwd?: string; pathFirst?: string; readlinks?: number } = {}): Promise<void> {
  const before = readlinkCalls().length;
  const runEnv = options.pathFirst ? { ...env, PATH: `${options.pathFirst}:${env.PATH}` } : env;
  const finished = await run(file, [...(options.args ?? []), '--', 'sh', '-c', 'echo ran'], runEnv, { cwd: options.cwd });
  expect({ code: finished.code, stdout: finished.stdout, stderr: finished.stderr }).toEqual({ code: 0, stdout: 'ran\n', stderr: '' });
  expect(readlinkCalls().length - before).toBe(options.readlinks ?? 0);
}

describe('bin/usher finds its dist/', () => {
  it('by its absolute path', async () => {
    await expectRuns(install('direct'));
  });

  it('by a relative path', async () => {
    install('relative');
    await expectRuns('bin/usher', { cwd: path.join(root, 'relative') });
  });

  it('found on PATH', async () => {
    install('on-path');
    await expectRuns('usher', { pathFirst: path.join(root, 'on-path/bin') });
  });

  it('run as `sh usher` from its directory ($0 without a slash)', async () => {
    install('sh-usher');
    await expectRuns('sh', { args: ['usher'], cwd: path.join(root, 'sh-usher/bin') });
  });

  it("through npm's global symlink: PREFIX/bin/usher -> ../lib/node_modules/usher-init/bin/usher", async () => {
    await expectRuns(install('global/lib/node_modules/usher-init', { at: 'global/bin/usher', to: '../lib/node_modules/usher-init/bin/usher' }));
  });

  it('through the global symlink of a scoped or renamed package, and found on PATH', async () => {
    install('scoped/lib/node_modules/@acme/init', { at: 'scoped/bin/usher', to: '../lib/node_modules/@acme/init/bin/usher' });
    await expectRuns('usher', { pathFirst: path.join(root, 'scoped/bin') });
  });

  it('through a local node_modules/.bin/usher -> ../usher-init/bin/usher', async () => {
    await expectRuns(install('app/node_modules/usher-init', { at: 'app/node_modules/.bin/usher', to: '../usher-init/bin/usher' }));
  });

  it('through a local node_modules/.bin/usher -> ../@acme/usher/bin/usher', async () => {
    await expectRuns(install('scoped-app/node_modules/@acme/usher', { at: 'scoped-app/node_modules/.bin/usher', to: '../@acme/usher/bin/usher' }));
  });

  it('through any other symlink, with readlink, once', async () => {
    await expectRuns(install('opt/usher', { at: 'elsewhere/usher', to: '../opt/usher/bin/usher' }), { readlinks: 1 });
  });

  it('through a symlink to npm\'s symlink, with readlink, once', async () => {
    install('chain/lib/node_modules/usher', { at: 'chain/bin/usher', to: '../lib/node_modules/usher/bin/usher' });
    mkdirSync(path.join(root, 'chain-link'));
    symlinkSync(path.join(root, 'chain/bin/usher'), path.join(root, 'chain-link/usher'));
    await expectRuns(path.join(root, 'chain-link/usher'), { readlinks: 1 });
  });
});
