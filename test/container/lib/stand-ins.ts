import { cpSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { baseImage } from './bases.js';
import { podmanOk } from './podman.js';
import type { PodmanEnv } from './podman-env.js';

/**
 * Local stand-ins for the images the examples name, under those names in the run's storage
 * (which never pulls), so examples/Dockerfile* build here as they are: the host's node and npm
 * where the official images have theirs.
 *   node:24-slim                          the shell base + node and npm in /usr/local, user node
 *   python:3.13-slim                      the python base
 *   gcr.io/distroless/nodejs24-debian12   the distroless base + /nodejs/bin/node, user nonroot
 * The node is the host's (its version may differ from the tag's): what the examples test is the
 * Dockerfiles, their paths and their steps, not a Node version.
 */
export const STAND_INS = {
  node: 'docker.io/library/node:24-slim',
  python: 'docker.io/library/python:3.13-slim',
  distroless: 'gcr.io/distroless/nodejs24-debian12:latest',
} as const;

async function buildFrom(env: PodmanEnv, tag: string, lines: readonly string[], fill: (context: string) => void): Promise<void> {
  const context = mkdtempSync(path.join(env.dir, 'tmp', 'stand-in-'));
  try {
    fill(context);
    writeFileSync(path.join(context, 'Containerfile'), `${lines.join('\n')}\n`);
    await podmanOk(env, ['build', '--quiet', '--pull=never', '--network', 'none', '-t', tag, context], { timeoutMs: 180_000 });
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

export async function buildStandIns(env: PodmanEnv, node: string): Promise<void> {
  const npm = path.resolve(path.dirname(realpathSync(node)), '../lib/node_modules/npm');
  if (!existsSync(path.join(npm, 'bin/npm-cli.js'))) throw new Error(`the node:24-slim stand-in needs npm next to ${node}, at ${npm}`);
  await buildFrom(env, STAND_INS.node, [`FROM ${baseImage('shell')}`, 'COPY usr/ /usr/', 'CMD ["node"]'], (context) => {
    mkdirSync(path.join(context, 'usr/local/bin'), { recursive: true });
    cpSync(node, path.join(context, 'usr/local/bin/node'));
    cpSync(npm, path.join(context, 'usr/local/lib/node_modules/npm'), { recursive: true, verbatimSymlinks: true });
    symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', path.join(context, 'usr/local/bin/npm'));
    symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', path.join(context, 'usr/local/bin/npx'));
  });
  await podmanOk(env, ['tag', baseImage('python'), STAND_INS.python]);
  await buildFrom(env, STAND_INS.distroless, [`FROM ${baseImage('distroless')}`, 'COPY nodejs/ /nodejs/', 'ENTRYPOINT ["/nodejs/bin/node"]'], (context) => {
    mkdirSync(path.join(context, 'nodejs/bin'), { recursive: true });
    cpSync(node, path.join(context, 'nodejs/bin/node'));
  });
}
