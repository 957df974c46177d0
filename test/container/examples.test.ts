import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { context, env, eventually, exec, podmanCall, SKIP, start } from './lib/harness.js';
import { podmanOk } from './lib/podman.js';

// examples/Dockerfile* built the way a user builds them: in an app's own directory (the app's
// files and the Dockerfile, nothing of usher's sources), usher installed by `npm install -g` of
// USHER_PACKAGE. Here the bases are the global set-up's local stand-ins (lib/stand-ins.ts), USHER_PACKAGE is the
// packed tarball, and npm works offline from a copy of the host's cache (bind mounts of the
// build: the Dockerfiles are used as they are).
const EXAMPLES = path.resolve(import.meta.dirname, '../../examples');
const NODE_APP = ['server.js', 'package.json', 'package-lock.json', '.dockerignore'];
const PUBLISHED = 'usher-init';
let hostCache = '';

beforeAll(() => {
  if (SKIP) return;
  hostCache = execFileSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).trim();
  writeFileSync(path.join(env.dir, 'npmrc'), 'offline=true\ncache=/npm-cache\n');
});

/**
 * The bind mounts of one build: the tarball, npm's configuration (offline, the cache below) and
 * a copy of the host's npm cache, a fresh one each build (`npm cache clean --force` empties it).
 */
function mounts(app: string): string[] {
  cpSync(path.join(hostCache, '_cacache'), path.join(app, '.npm-cache/_cacache'), { recursive: true });
  return ['-v', `${path.dirname(context.packed.tarball)}:/pkg:ro`, '-v', `${path.join(app, '.npm-cache')}:/npm-cache`, '-v', `${path.join(env.dir, 'npmrc')}:/root/.npmrc:ro`];
}

/** Builds examples/DOCKERFILE in a directory holding only the app's files; returns the image. */
async function buildExample(dockerfile: string, appFiles: readonly string[]): Promise<{ image: string; ms: number; size: number }> {
  const work = mkdtempSync(path.join(env.dir, 'tmp', 'example-'));
  const app = path.join(work, 'app');
  mkdirSync(app);
  for (const file of appFiles) cpSync(path.join(EXAMPLES, file), path.join(app, file));
  // The examples name the published package; a tarball under another name installs elsewhere.
  const text = readFileSync(path.join(EXAMPLES, dockerfile), 'utf8').replaceAll(`/node_modules/${PUBLISHED}/`, `/node_modules/${context.packed.name}/`);
  writeFileSync(path.join(app, 'Dockerfile'), text);
  const image = `localhost/usher-example-${dockerfile.toLowerCase().replace(/[^a-z0-9]+/g, '-')}:latest`;
  const built = await podmanOk(env, ['build', '--quiet', '--pull=never', '--network', 'none', '--format', 'docker', ...mounts(work),
    '--build-arg', `USHER_PACKAGE=/pkg/${path.basename(context.packed.tarball)}`, '-t', image, app], { timeoutMs: 300_000 })
    .finally(() => rmSync(work, { recursive: true, force: true }));
  const size = Number((await podmanOk(env, ['image', 'inspect', image, '--format', '{{.Size}}'])).stdout.trim());
  console.log(`${dockerfile}: built in ${(built.ms / 1000).toFixed(1)} s, ${(size / 1e6).toFixed(1)} MB`);
  return { image, ms: built.ms, size };
}

/** Runs the image as it is (its HEALTHCHECK, its drain), checks health, the user, and a clean stop. */
async function runExample(image: string, listening: string, node: string, uid: number): Promise<void> {
  const app = start({ image }, ['--health-interval', 'disable']);
  await app.waitFor(listening);
  await eventually(async () => (await podmanCall(['healthcheck', 'run', app.name])).code === 0, 'the image\'s HEALTHCHECK to pass', 20_000);
  expect((await exec(app.name, [node, '-e', "process.stdout.write(process.getuid() + ' ' + require('fs').existsSync('/run/usher/state.json'))"])).stdout).toBe(`${uid} true`);
  const stop = await podmanCall(['stop', '-t', '10', app.name]);
  expect(await app.exited).toBe(0);
  // The image's USHER_DRAIN=3s, inside podman's 10 s.
  expect(stop.ms).toBeGreaterThanOrEqual(2900);
  expect(stop.ms).toBeLessThan(9000);
}

describe.skipIf(SKIP)('the example Dockerfiles, built in an app\'s own directory', () => {
  it('examples/Dockerfile (node:24-slim): usher from npm as the ENTRYPOINT, the app as user node', async () => {
    const { image } = await buildExample('Dockerfile', NODE_APP);
    await runExample(image, 'listening on 0.0.0.0:8080', 'node', 1000);
  });

  it('examples/Dockerfile.python (python:3.13-slim, node copied from node:24-slim)', async () => {
    const { image } = await buildExample('Dockerfile.python', ['app.py', '.dockerignore']);
    await runExample(image, '[app.py] listening on 0.0.0.0:8080', '/usr/local/bin/node', 0);
  });

  it('examples/Dockerfile.distroless: node runs usher, the HEALTHCHECK is exec form, no shell anywhere', async () => {
    const { image } = await buildExample('Dockerfile.distroless', NODE_APP);
    const probe = await podmanCall(['run', '--rm', '--network', 'none', '--entrypoint', '["/bin/sh", "-c", "exit 0"]', image]);
    expect(probe.code).not.toBe(0);
    await runExample(image, 'listening on 0.0.0.0:8080', '/nodejs/bin/node', 65532);
  });
});
