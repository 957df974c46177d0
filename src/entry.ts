/**
 * What `node dist/usher.cjs` runs. `usher probe` and `usher status` go first to their own small
 * bundle (dist/usher-probe.cjs): a probe runs every few seconds in every pod and must cost no
 * more than Node's own start, so it loads none of the rest. Otherwise, in this order:
 * 1. installs a handler for every forwarded signal, before anything else of usher is evaluated;
 * 2. loads the rest of usher (dist/usher-main.cjs) through V8's code cache, which saves about
 *    9 ms of compilation on every start. V8 takes a cache only from the very Node build that
 *    made it, so there is one per build of usher and Node version:
 *    usher-main.<build>.<node version>-<arch>.cache. The build makes the one of its own Node;
 *    a start on another Node (no cache, or one V8 rejects) makes it after the start;
 * 3. after the start, writes what bin/usher asked for (USHER_INTERNAL_NODE): the record that
 *    lets it pass --disable-sigusr1 to this node from the next start on.
 * Both files are only ever renamed into place whole, and skipped where dist/ is read-only.
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { Script } from 'node:vm';
import { installSignalIntake, type SignalIntake } from './process/signal-intake.js';
import type { Libc, loadLibc } from './sys/libc.js';

/** A hash of dist/usher-main.cjs, set by the build: a cache never outlives the code it was made for. */
declare const USHER_BUILD_ID: string;

type Main = (argv: readonly string[], env: NodeJS.ProcessEnv, signals: SignalIntake) => void;
/** What the bundle exports: main, and libc for what only entry.ts does after the start. */
interface Bundle {
  readonly main: Main;
  readonly loadLibc: typeof loadLibc;
}
interface Loaded {
  readonly bundle: Bundle;
  readonly script: Script;
  readonly cacheFile: string;
  /** No cache for this Node yet, or V8 rejected it: worth writing one. */
  readonly cacheWanted: boolean;
}

const FLAG = '--disable-sigusr1';
/**
 * The first Node releases with --disable-sigusr1 (23.7.0, 22.14.0) came out in 2025. A node that
 * has the flag and an older mtime carries a made-up one (npm's tarballs say 1985, Nix 1970,
 * Bazel 2000), which another build of another version can carry too: the mtime then says
 * nothing about which node is there, and the record says `none`.
 */
const FLAG_NODE_NOT_BEFORE_MS = Date.UTC(2025, 0, 1);
/**
 * How old the node's mtime must be before a record vouches for it: a node written over it
 * later then has a later mtime even as busybox's sh compares them, to the second. (Its
 * directory needs no such wait: what changes it after the record was written does so a start
 * of usher later, which every shell and kernel clock tells apart.)
 */
const SETTLED_NS = 2_000_000_000n;
/** After the app's own start, which competes for the same CPUs; a shorter usher does it at exit. */
const UPKEEP_AFTER_MS = 1000;

/** Reads an internal variable and removes it, so the app never inherits it. */
function take(name: string): string | undefined {
  const value = process.env[name];
  delete process.env[name];
  return value;
}

/**
 * Writes `file` through a temp file renamed over it, so no reader ever sees part of one. The
 * temp file is created before `data` is made: where dist/ is read-only, that fails first and
 * costs nothing else (a code cache takes milliseconds to serialize).
 */
function replaceFile(file: string, data: () => string | Uint8Array, beforeRename: (temp: string) => boolean = () => true): void {
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  const fd = openSync(temp, 'wx', 0o644);
  try {
    try {
      writeFileSync(fd, data());
    } finally {
      closeSync(fd);
    }
    if (!beforeRename(temp)) throw new Error(`could not prepare ${temp}`);
    renameSync(temp, file);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
}

function loadMain(buildCache: boolean): Loaded {
  const file = path.join(__dirname, 'usher-main.cjs');
  const cacheFile = path.join(__dirname, `usher-main.${USHER_BUILD_ID}.${process.version}-${process.arch}.cache`);
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // no cache for this Node: compile as usual
  }
  const script = new Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
  // The build runs usher once with this set, so the cache holds the functions a whole start
  // and exit compile; an error here fails the build.
  if (buildCache) process.on('exit', () => replaceFile(cacheFile, () => script.createCachedData()));
  const module = { exports: {} as Bundle };
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, __dirname);
  return { bundle: module.exports, script, cacheFile, cacheWanted: !buildCache && (cachedData === undefined || script.cachedDataRejected === true) };
}

/**
 * The record bin/usher reads: dist/node-flags/PATH/node for the node at /PATH/node, holding
 * the flag (or `none`) and the path, with the node's mtime, its directory with the mtime of the
 * node's directory. Written only for the node that runs this very process (same device and
 * inode: a version manager's shim picks its node per directory, so it gets none), and only
 * where koffi works: it stamps the mtimes to the nanosecond (fs.utimes cannot), and usher
 * unblocks SIGUSR1 through it, without which the flag would leave SIGUSR1 blocked for good.
 */
function recordNodeFlags(node: string, libc: Libc): void {
  if (!node.startsWith('/') || /\n|\/\.\.?(\/|$)/.test(node)) return;
  const nodeDir = node.slice(0, node.lastIndexOf('/') + 1);
  const target = statSync(node, { bigint: true });
  const self = statSync(process.execPath, { bigint: true });
  if (target.dev !== self.dev || target.ino !== self.ino) return;
  const dirMtime = statSync(nodeDir, { bigint: true }).mtimeNs;
  if (target.mtimeNs > BigInt(Date.now()) * 1_000_000n - SETTLED_NS) return; // too fresh: a later start writes it
  const trusted = Number(target.mtimeMs) >= FLAG_NODE_NOT_BEFORE_MS;
  const says = trusted && process.allowedNodeEnvironmentFlags.has(FLAG) ? FLAG : 'none';
  const record = `${__dirname}/node-flags${node}`;
  const recordDir = `${__dirname}/node-flags${nodeDir}`;
  mkdirSync(recordDir, { recursive: true });
  replaceFile(record, () => `${says}\n${node}\n`, (temp) => libc.setModifiedTime(temp, target.mtimeNs));
  // The rename changed the directory's mtime: stamped after it. Any doubt left removes the record.
  const stamped = libc.setModifiedTime(recordDir, dirMtime);
  if (!stamped || statSync(record, { bigint: true }).mtimeNs !== target.mtimeNs || statSync(recordDir, { bigint: true }).mtimeNs !== dirMtime) {
    rmSync(record, { force: true });
  }
}

/** The cache and the record, once, off the start path; a failure (dist/ read-only) is no error. */
function afterStart(loaded: Loaded, launcherNode: string | undefined): void {
  if (!loaded.cacheWanted && launcherNode === undefined) return;
  let done = false;
  const upkeep = (): void => {
    if (done) return;
    done = true;
    if (loaded.cacheWanted) {
      try {
        replaceFile(loaded.cacheFile, () => loaded.script.createCachedData());
      } catch {
        // dist/ read-only or full: the next start compiles as this one did
      }
    }
    if (launcherNode === undefined) return;
    try {
      const libc = loaded.bundle.loadLibc();
      if (!(libc instanceof Error)) recordNodeFlags(launcherNode, libc);
    } catch {
      // no record: the next start goes without the flag, as this one did
    }
  };
  setTimeout(upkeep, UPKEEP_AFTER_MS).unref();
  process.on('exit', upkeep);
}

const subcommand = process.argv[2];
if (subcommand === 'probe' || subcommand === 'status') {
  // A path computed at run time: esbuild leaves this require alone instead of bundling it here.
  require(path.join(__dirname, 'usher-probe.cjs'));
} else {
  const signals = installSignalIntake();
  const launcherNode = take('USHER_INTERNAL_NODE');
  const loaded = loadMain(take('USHER_INTERNAL_WRITE_CODE_CACHE') !== undefined);
  loaded.bundle.main(process.argv.slice(2), process.env, signals);
  afterStart(loaded, launcherNode);
}
