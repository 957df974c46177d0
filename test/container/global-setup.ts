import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { baseImage, buildBase, type BaseName } from './lib/bases.js';
import type { ContainerContext } from './lib/context.js';
import { buildUsherImage, installLayer, type UsherImage } from './lib/images.js';
import { leftovers } from './lib/leftovers.js';
import { buildStandIns, STAND_INS } from './lib/stand-ins.js';
import { pack } from './lib/package.js';
import { podman } from './lib/podman.js';
import { createPodmanEnv, type PodmanEnv } from './lib/podman-env.js';

/**
 * Once per `npm run test:container`: a private podman under .tmp/, the packed tarball, the base
 * images and the usher images built from the host's files; at the end every container, image
 * and file of the run removed, and the run fails if a process of it (conmon, a tmux server) is
 * left. Where podman cannot start a container the run fails, saying why, unless
 * USHER_SKIP_CONTAINER_TESTS=1.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const BASES: readonly BaseName[] = ['shell', 'distroless', 'python'];
const SKIP_HINT = 'set USHER_SKIP_CONTAINER_TESTS=1 to skip these tests where no container can run';

function requireTools(): void {
  for (const tool of ['podman', 'runc', 'tmux', 'ldd', 'tar', 'npm']) {
    const found = spawnSync('sh', ['-c', 'command -v "$1" >/dev/null || [ -x "/usr/sbin/$1" ]', 'sh', tool]).status === 0;
    if (!found) throw new Error(`container tests: ${tool} is not installed: scripts/test-container-prereqs.sh installs what is missing (as root); or ${SKIP_HINT}`);
  }
}

/** One container from the first base, so that a runtime that cannot start any says so first. */
async function canStart(env: PodmanEnv): Promise<void> {
  const result = await podman(env, ['run', '--rm', '--network', 'none', baseImage('shell'), '/bin/sh', '-c', 'exit 0'], { timeoutMs: 60_000 });
  if (result.code !== 0) throw new Error(`container tests: podman cannot start a container here (exit ${result.code}):\n${result.stderr.trim()}\n(${SKIP_HINT})`);
}

/**
 * The bytes of the regular files under `file`: what a layer's tar must hold at least (du would
 * count directories' blocks, which a tar does not store).
 */
function fileBytes(file: string): number {
  const stat = lstatSync(file);
  if (stat.isFile()) return stat.size;
  if (!stat.isDirectory()) return 0;
  return readdirSync(file).reduce((sum, name) => sum + fileBytes(path.join(file, name)), 0);
}

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

async function build(env: PodmanEnv): Promise<ContainerContext> {
  const node = process.execPath;
  const started = Date.now();
  const timed = async <T>(what: string, step: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    const value = await step();
    console.log(`container set-up: ${what} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return value;
  };
  await timed('base image shell', () => buildBase(env, 'shell', node));
  await canStart(env);
  for (const base of BASES.slice(1)) await timed(`base image ${base}`, () => buildBase(env, base, node));
  await timed(`stand-ins for ${Object.values(STAND_INS).join(', ')}`, () => buildStandIns(env, node));
  // (a directory of its own: the examples' builds mount it)
  const packDir = path.join(env.dir, 'pkg');
  mkdirSync(packDir);
  const packed = await timed('npm pack', () => pack(ROOT, packDir));
  const layer = await timed(`npm install -g --offline ${path.basename(packed.tarball)}`, () => installLayer(env, packed));
  const images = {} as Record<BaseName, UsherImage>;
  for (const base of BASES) images[base] = await timed(`usher image on ${base}`, () => buildUsherImage(env, base, layer, packed, node));
  const layerBytes = { node: fileBytes(node), usher: fileBytes(path.join(layer, `usr/local/lib/node_modules/${packed.name}`)) };
  console.log(`container set-up: ${packed.name}@${packed.version}: tarball ${mb(packed.size)}, installed ${mb(layerBytes.usher)}; node ${mb(layerBytes.node)}`);
  for (const image of Object.values(images)) {
    console.log(`container set-up: ${image.image} ${mb(image.size)}: ${image.from} ${mb(image.fromSize)} + ${mb(image.size - image.fromSize)}`);
  }
  console.log(`container set-up: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { dir: env.dir, packed, images, layerBytes };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.USHER_SKIP_CONTAINER_TESTS === '1') {
    console.log('container tests skipped: USHER_SKIP_CONTAINER_TESTS=1');
    project.provide('containers', { skip: 'USHER_SKIP_CONTAINER_TESTS=1' } as ContainerContext);
    return async () => {};
  }
  requireTools();
  const env = createPodmanEnv(path.join(ROOT, '.tmp', `podman-${process.pid}`));
  const teardown = async (): Promise<void> => {
    const left = (await podman(env, ['ps', '-aq'])).stdout.trim();
    await podman(env, ['rm', '-af', '-t', '0'], { timeoutMs: 120_000 });
    await podman(env, ['rmi', '-af'], { timeoutMs: 120_000 });
    const stray = leftovers(env.dir);
    if (stray.length === 0) rmSync(env.dir, { recursive: true, force: true });
    if (left) throw new Error(`container tests left containers behind: ${left.replace(/\n/g, ' ')}`);
    if (stray.length > 0) throw new Error(`container tests left behind (killed; ${env.dir} kept for a look): ${stray.join('; ')}`);
  };
  try {
    project.provide('containers', await build(env));
  } catch (error) {
    await teardown().catch(() => {});
    throw error;
  }
  return teardown;
}

