import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { imageSize, type BaseName } from './bases.js';
import { installGlobal, type Packed } from './package.js';
import { podmanOk } from './podman.js';
import type { PodmanEnv } from './podman-env.js';
import { STAND_INS } from './stand-ins.js';

/**
 * The usher images, as an app's image gets usher: FROM the image the app runs on (the local
 * stand-ins of node:24-slim, distroless's nodejs24 and python:3.13-slim), plus the packed usher
 * installed by `npm install -g` on the host (the build runs no container, so it works without a
 * shell too), plus node itself for the Python image, then the tests' app files. Node and usher
 * sit where those images have them: /usr/local, and /nodejs/bin/node (off PATH) in distroless.
 */
export interface UsherImage {
  readonly image: string;
  readonly base: BaseName;
  /** The ENTRYPOINT: exec form, up to and including `--`. */
  readonly entrypoint: readonly string[];
  /** An exec probe that works in this image, up to the probe kind (`ready` follows). */
  readonly probe: readonly string[];
  /** Where node is in the image. */
  readonly node: string;
  /** The image it is built FROM, and that image's size: what usher (and node) add is the rest. */
  readonly from: string;
  readonly fromSize: number;
  readonly size: number;
  readonly buildMs: number;
}

export const usherImage = (base: BaseName): string => `localhost/usher-test-${base}:latest`;
const FIXTURES = path.join(import.meta.dirname, '../fixtures');
const FROM: Record<BaseName, string> = { shell: STAND_INS.node, distroless: STAND_INS.distroless, python: STAND_INS.python };

/** The host-side npm install, once: /usr/local/{bin,lib/node_modules/NAME} as npm lays them out. */
export async function installLayer(env: PodmanEnv, packed: Packed): Promise<string> {
  const layer = path.join(env.dir, 'layer');
  await installGlobal(packed.tarball, path.join(layer, 'usr/local'));
  return layer;
}

function fillContext(context: string, base: BaseName, layer: string, node: string): void {
  const copy = (from: string, to: string): void => cpSync(from, path.join(context, 'layer', to), { recursive: true, verbatimSymlinks: true });
  // No /bin/sh in distroless: bin/usher (a sh launcher) cannot run there, so no bin links.
  copy(path.join(layer, base === 'distroless' ? 'usr/local/lib' : 'usr/local'), base === 'distroless' ? 'usr/local/lib' : 'usr/local');
  if (base === 'python') copy(node, 'usr/local/bin/node');
  mkdirSync(path.join(context, 'layer/run/usher'), { recursive: true });
  cpSync(FIXTURES, path.join(context, 'app'), { recursive: true });
}

export async function buildUsherImage(env: PodmanEnv, base: BaseName, layer: string, packed: Packed, node: string): Promise<UsherImage> {
  const started = Date.now();
  const context = mkdtempSync(path.join(env.dir, 'tmp', `image-${base}-`));
  const main = `/usr/local/lib/node_modules/${packed.name}/dist/usher.cjs`;
  const distroless = base === 'distroless';
  const inImage = distroless ? '/nodejs/bin/node' : '/usr/local/bin/node';
  try {
    fillContext(context, base, layer, node);
    // Node runs usher's entry itself where there is no shell.
    const entrypoint = distroless ? [inImage, main, '--'] : ['usher', '--'];
    const probe = distroless ? [inImage, main, 'probe'] : ['usher-probe'];
    writeFileSync(path.join(context, 'Containerfile'), [
      `FROM ${FROM[base]}`,
      'COPY layer/ /',
      'COPY app/ /app/',
      'STOPSIGNAL SIGTERM',
      `ENTRYPOINT ${JSON.stringify(entrypoint)}`,
      `CMD ${JSON.stringify([distroless ? inImage : 'node', '/app/app.cjs'])}`,
      '',
    ].join('\n'));
    const image = usherImage(base);
    await podmanOk(env, ['build', '--quiet', '--pull=never', '--network', 'none', '-t', image, context], { timeoutMs: 180_000 });
    return {
      image, base, entrypoint, probe, node: inImage, from: FROM[base], fromSize: await imageSize(env, FROM[base]),
      size: await imageSize(env, image), buildMs: Date.now() - started,
    };
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}
