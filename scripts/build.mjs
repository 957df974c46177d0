// Builds usher: a small entry (dist/usher.cjs) that installs signal handlers, then loads the
// bundled rest (dist/usher-main.cjs) through a V8 code cache made here, for the Node that runs
// the build, by one warm-up run (a start on another Node makes its own: src/entry.ts).
// `usher probe` and `usher status` have a bundle of their own (dist/usher-probe.cjs) that the
// entry loads instead, so a probe pays for nothing else.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
// The rest of usher, and libc for what the entry does after the start (the launcher's record),
// from the same modules main uses, so koffi is loaded once.
await build({
  ...common,
  stdin: { contents: "export { main } from './src/main.ts';\nexport { loadLibc } from './src/sys/libc.ts';\n", resolveDir: process.cwd(), sourcefile: 'usher-main.ts', loader: 'ts' },
  outfile: 'dist/usher-main.cjs',
  plugins: [pinoSlim],
});
// Names the code caches: one made for an earlier build of usher-main.cjs is never loaded for this one.
const buildId = createHash('sha256').update(readFileSync('dist/usher-main.cjs')).digest('hex').slice(0, 12);
await build({ ...common, entryPoints: ['src/entry.ts'], outfile: 'dist/usher.cjs', define: { ...common.define, USHER_BUILD_ID: JSON.stringify(buildId) } });
await build({ ...common, entryPoints: ['src/probe/cli.ts'], outfile: 'dist/usher-probe.cjs' });
// What usher writes into dist/ at run time for the machine it runs on (the launcher's records
// of that machine's node, temp files) is never packed: dist/ is in package.json's "files", and
// npm honours a .npmignore inside it.
writeFileSync('dist/.npmignore', 'node-flags/\n*.tmp\n');
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
const cache = `dist/usher-main.${buildId}.${process.version}-${process.arch}.cache`;
if (!existsSync(cache)) throw new Error(`the warm-up run wrote no ${cache}`);
