import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { unshareArgs } from '../helpers/namespaces.js';
import { ROOT } from '../helpers/usher.js';
import { age, copyPackage, earnsFlag, FLAG, hasFlag, mtimeNs, nodeOnPath, run, stamp, type Finished } from './launcher-kit.js';

// The launcher passes --disable-sigusr1 only on the word of a record in dist/node-flags, and an
// older Node exits 9 on that flag: no record that is stale, foreign, broken or unwritable may
// ever make usher fail to start. Each case runs a package copy of its own, with a node on PATH
// that refuses the flag the way Node 20 does (exit 9, "bad option") wherever a record that does
// not hold could be believed.

const REAL_NODE = nodeOnPath();
/** Whether the record grants the node on PATH the flag (its mtime counts: see earnsFlag). */
const FLAG_NODE = earnsFlag(REAL_NODE);
/** Whether a fresh copy of it, dated now, is granted it. */
const FLAG_COPY = hasFlag(REAL_NODE);
/** Prints usher's own argv, one per line: what the launcher exec'd. */
const SHOW_ARGV = ['--', 'sh', '-c', 'tr "\\0" "\\n" < /proc/$PPID/cmdline'];
/** npm's tarballs date every file 1985-10-26T08:15:00Z, as `tar x` leaves them. */
const NPM_TARBALL_MTIME_NS = BigInt(Date.UTC(1985, 9, 26, 8, 15)) * 1_000_000n;

let root: string;
let usher: string;
let dist: string;
let nodeBin: string;
let node: string;
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'usher-record-'));
  ({ usher, dist } = copyPackage(path.join(root, 'pkg')));
  nodeBin = path.join(root, 'node-bin');
  mkdirSync(nodeBin);
  node = path.join(nodeBin, 'node');
  mkdirSync(path.join(root, 'state'));
  env = { PATH: `${nodeBin}:${process.env.PATH}`, USHER_STATE_DIR: path.join(root, 'state'), HOME: root };
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

/** Node 20 as far as the flag goes: refuses it and exits 9, like Node 20; otherwise the real node. */
function olderNode(file: string): void {
  writeFileSync(file, `#!/bin/sh\nfor arg; do [ "$arg" = ${FLAG} ] && { echo "$0: bad option: ${FLAG}" >&2; exit 9; }; done\nexec "${REAL_NODE}" "$@"\n`);
  chmodSync(file, 0o755);
}

const recordOf = (nodePath: string): string => `${dist}/node-flags${nodePath}`;
const recordDirOf = (nodePath: string): string => `${dist}/node-flags${path.dirname(nodePath)}/`;

/** A record as usher writes it: the words, then the path; stamped with the node's and its directory's mtimes. */
function forge(says: string, forNode = node, content = `${says}\n${forNode}\n`): void {
  mkdirSync(recordDirOf(node), { recursive: true });
  writeFileSync(recordOf(node), content);
  stamp(recordOf(node), mtimeNs(node));
  stamp(recordDirOf(node), mtimeNs(nodeBin));
}

async function argvOfUsher(): Promise<{ finished: Finished; argv: string[] }> {
  const finished = await run(usher, SHOW_ARGV, env);
  return { finished, argv: finished.stdout.trim().split('\n') };
}

/** usher started and ran the app to its end, without the flag and without Node's complaint about one. */
async function expectStartsWithoutFlag(): Promise<void> {
  const { finished, argv } = await argvOfUsher();
  expect(finished.stderr).not.toContain('bad option');
  expect({ code: finished.code, flag: argv.includes(FLAG) }).toEqual({ code: 0, flag: false });
}

describe('the record usher writes', () => {
  it(`the first start writes it for the node on PATH, the next start follows it (${FLAG_NODE ? 'the flag' : 'none'} here)`, async () => {
    symlinkSync(REAL_NODE, node);
    const first = await run(usher, ['--', 'sh', '-c', 'env; tr "\\0" "\\n" < /proc/$PPID/cmdline'], env);
    expect(first.code).toBe(0);
    expect(first.stdout).not.toContain('USHER_INTERNAL_NODE='); // the launcher's request is usher's, not the app's
    expect(first.stdout.split('\n')).not.toContain(FLAG);
    expect(readFileSync(recordOf(node), 'utf8')).toBe(`${FLAG_NODE ? FLAG : 'none'}\n${node}\n`);
    expect(mtimeNs(recordOf(node))).toBe(mtimeNs(node));
    expect(mtimeNs(recordDirOf(node))).toBe(mtimeNs(nodeBin));
    const { finished, argv } = await argvOfUsher();
    expect(finished.code).toBe(0);
    expect(argv.includes(FLAG)).toBe(FLAG_NODE);
    expect(readdirSync(recordDirOf(node))).toEqual(['node']); // no temp file left
  });

  it('none for a node written seconds ago: one written over it just after could share its mtime, to the second', async () => {
    copyFileSync(REAL_NODE, node); // its mtime: now
    expect((await run(usher, ['--', 'true'], env)).code).toBe(0);
    expect(readdirSync(dist)).not.toContain('node-flags');
    age(node);
    expect((await run(usher, ['--', 'true'], env)).code).toBe(0);
    expect(readFileSync(recordOf(node), 'utf8')).toBe(`${FLAG_COPY ? FLAG : 'none'}\n${node}\n`);
  });

  it('(control) one that holds in every respect is believed: the flag reaches the node, and the older one refuses it', async () => {
    olderNode(node);
    forge(FLAG);
    const { finished } = await argvOfUsher();
    expect(finished.code).toBe(9);
    expect(finished.stderr).toContain(`bad option: ${FLAG}`);
  });
});

describe('a stale, foreign or broken record: usher starts without the flag', () => {
  it.each<[string, () => void]>([
    ['garbage', () => forge(FLAG, node, 'x\u0000y\n')],
    ['an empty file', () => forge(FLAG, node, '')],
    ['the path of another node', () => forge(FLAG, '/usr/local/bin/node')],
    ['a later format', () => forge(`${FLAG} --and-more`)],
    ['no newline after the path', () => forge(FLAG, node, `${FLAG}\n${node}`)],
    ["the node's mtime, 1 ns off", () => { forge(FLAG); stamp(recordOf(node), mtimeNs(node) + 1n); }],
    ["its directory's mtime, 1 ns off", () => { forge(FLAG); stamp(recordDirOf(node), mtimeNs(nodeBin) - 1n); }],
    ['copied in without its mtimes', () => { forge(FLAG); copyFileSync(recordOf(node), `${recordOf(node)}.copy`); renameSync(`${recordOf(node)}.copy`, recordOf(node)); }],
    ['a directory where the record goes', () => mkdirSync(recordOf(node), { recursive: true })],
    ['a file where node-flags goes', () => writeFileSync(path.join(dist, 'node-flags'), `${FLAG}\n`)],
  ])('%s', async (_what, make) => {
    olderNode(node);
    make();
    await expectStartsWithoutFlag();
  });

  it('a node found through a relative PATH entry: no record is looked for or written', async () => {
    olderNode(node);
    forge(FLAG);
    const finished = await run(usher, SHOW_ARGV, { ...env, PATH: `node-bin:${process.env.PATH}` }, { cwd: root });
    expect(finished.code).toBe(0);
    expect(finished.stdout.split('\n')).not.toContain(FLAG);
  });
});

describe('a node replaced at the same path', () => {
  it('by a new file renamed over it (tar, dpkg, mv), given the same mtime: the directory shows it', async () => {
    symlinkSync(REAL_NODE, node);
    age(nodeBin);
    forge(FLAG); // as made for the newer node that was there
    const same = mtimeNs(node);
    olderNode(`${node}.new`);
    stamp(`${node}.new`, same);
    renameSync(`${node}.new`, node);
    expect(mtimeNs(node)).toBe(same);
    await expectStartsWithoutFlag();
  });

  it('by writing over the same file: its mtime shows it', async () => {
    olderNode(node);
    age(node);
    forge(FLAG);
    olderNode(node); // the same inode, rewritten
    await expectStartsWithoutFlag();
  });

  it("by writing over the same file and putting back a made-up mtime (npm's 1985): the record never trusted it", async () => {
    copyFileSync(REAL_NODE, node);
    stamp(node, NPM_TARBALL_MTIME_NS);
    expect((await run(usher, ['--', 'true'], env)).code).toBe(0);
    expect(readFileSync(recordOf(node), 'utf8')).toBe(`none\n${node}\n`); // even where this node has the flag
    const dirBefore = mtimeNs(nodeBin);
    olderNode(node);
    stamp(node, NPM_TARBALL_MTIME_NS);
    expect(mtimeNs(nodeBin)).toBe(dirBefore);
    await expectStartsWithoutFlag();
  });
});

describe('read-only file systems', () => {
  /** Runs `usher -- ...` twice in a mount namespace where `ro` is a read-only bind mount of itself. */
  function twiceReadOnly(ro: string, args: readonly string[]): ReturnType<typeof spawnSync> {
    const [unshare, ...flags] = unshareArgs('--mount', '--propagation', 'private');
    const script = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && "$@" && exec "$@"';
    return spawnSync(unshare!, [...flags, 'sh', '-c', script, 'sh', ro, usher, ...args], { encoding: 'utf8', env, timeout: 30_000 });
  }

  it('a read-only dist/: usher starts and runs the app, writes nothing there, and says nothing of it', () => {
    symlinkSync(REAL_NODE, node);
    const before = readdirSync(dist).sort();
    const result = twiceReadOnly(path.join(root, 'pkg'), ['--log-level', 'warn', '--', 'sh', '-c', 'echo ran']);
    expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({ status: 0, stdout: 'ran\nran\n', stderr: '' });
    expect(readdirSync(dist).sort()).toEqual(before);
  });

  it('a read-only root: usher starts and runs the app', () => {
    symlinkSync(REAL_NODE, node);
    const result = twiceReadOnly('/', ['--', 'sh', '-c', 'echo ran']);
    expect({ status: result.status, stdout: result.stdout }).toEqual({ status: 0, stdout: 'ran\nran\n' });
    expect(String(result.stderr)).not.toContain('bad option');
    expect(readdirSync(dist)).not.toContain('node-flags');
  });
});

describe('packing', () => {
  it("never packs what usher writes into dist/ at run time: the records of the machine's node, temp files", async () => {
    // The repository's own dist/, after a start there has written its record.
    expect((await run(path.join(ROOT, 'bin/usher'), ['--', 'true'], { ...env, PATH: process.env.PATH })).code).toBe(0);
    expect(readdirSync(path.join(ROOT, 'dist'))).toContain('node-flags');
    const packed = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(packed.status, packed.stderr).toBe(0);
    const files = (JSON.parse(packed.stdout) as [{ files: { path: string }[] }])[0].files.map((file) => file.path);
    expect(files.filter((file) => file.startsWith('dist/node-flags') || file.endsWith('.tmp'))).toEqual([]);
    expect(files).toContain('dist/usher.cjs');
    expect(files.some((file) => /^dist\/usher-main\.[0-9a-f]{12}\.v[\d.]+-\w+\.cache$/.test(file))).toBe(true);
  });
});
