/**
 * What `node dist/usher.cjs` runs. `usher probe` and `usher status` go first to their own small
 * bundle (dist/usher-probe.cjs): a probe runs every few seconds in every pod and must cost no
 * more than Node's own start, so it loads none of the rest. Otherwise, in this order:
 * 1. installs a handler for every forwarded signal, before anything else of usher is evaluated;
 * 2. loads the rest of usher (dist/usher-main.cjs) through V8's code cache, made at build time,
 *    which saves about 10 ms of compilation on every start. A cache from another
 *    Node version is rejected by V8 and the file is simply compiled.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import path from 'node:path';
import { Script } from 'node:vm';
import { installSignalIntake, type SignalIntake } from './process/signal-intake.js';

type Main = (argv: readonly string[], env: NodeJS.ProcessEnv, signals: SignalIntake) => void;

function loadMain(): Main {
  const file = path.join(__dirname, 'usher-main.cjs');
  const cacheFile = path.join(__dirname, 'usher-main.cache');
  let cachedData: Buffer | undefined;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // no cache: compile as usual
  }
  const script = new Script(Module.wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
  // The build runs usher once with this set, so the cache holds the functions a start compiles.
  const writeCache = process.env.USHER_INTERNAL_WRITE_CODE_CACHE;
  if (writeCache) {
    delete process.env.USHER_INTERNAL_WRITE_CODE_CACHE;
    process.on('exit', () => writeFileSync(cacheFile, script.createCachedData()));
  }
  const module = { exports: {} as { main?: Main } };
  const wrapper = script.runInThisContext() as (...args: unknown[]) => void;
  wrapper.call(module.exports, module.exports, createRequire(file), module, file, __dirname);
  return module.exports.main!;
}

const subcommand = process.argv[2];
if (subcommand === 'probe' || subcommand === 'status') {
  // A path computed at run time: esbuild leaves this require alone instead of bundling it here.
  require(path.join(__dirname, 'usher-probe.cjs'));
} else {
  const signals = installSignalIntake();
  loadMain()(process.argv.slice(2), process.env, signals);
}
