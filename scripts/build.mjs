// Builds usher: a small entry (dist/usher.cjs) that installs signal handlers, then loads the
// bundled rest (dist/usher-main.cjs) through a V8 code cache made here by one warm-up run.
// `usher probe` and `usher status` have a bundle of their own (dist/usher-probe.cjs) that the
// entry loads instead, so a probe pays for nothing else.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pinoSlim } from './esbuild-pino-slim.mjs';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['koffi'],
  minifySyntax: true,
  minifyWhitespace: true,
  legalComments: 'none',
  define: { USHER_VERSION: JSON.stringify(version) },
  logLevel: 'warning',
};

rmSync('dist', { recursive: true, force: true });
await build({ ...common, entryPoints: ['src/entry.ts'], outfile: 'dist/usher.cjs' });
await build({ ...common, entryPoints: ['src/main.ts'], outfile: 'dist/usher-main.cjs', plugins: [pinoSlim] });
await build({ ...common, entryPoints: ['src/probe/cli.ts'], outfile: 'dist/usher-probe.cjs' });
// The warm-up run writes state like any usher: into a temp dir, not the build machine's /run/usher.
const stateDir = mkdtempSync(path.join(tmpdir(), 'usher-build-'));
try {
  // Configured through the environment, as `ENTRYPOINT ["usher", "--"]` is: the cache then holds
  // what that common start compiles, and not commander, which it does not load.
  execFileSync(process.execPath, ['dist/usher.cjs', '--', process.execPath, '-e', '0'], {
    env: { ...process.env, NODE_OPTIONS: '', USHER_INTERNAL_WRITE_CODE_CACHE: '1', USHER_STATE_DIR: stateDir, USHER_LOG_LEVEL: 'silent' },
    stdio: 'inherit',
  });
} finally {
  rmSync(stateDir, { recursive: true, force: true });
}
