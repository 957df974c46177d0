import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { podmanOk } from './podman.js';
import type { PodmanEnv } from './podman-env.js';
import { put, putBinary, putCommand, sharedLibraries, skeleton, tarRoot } from './rootfs.js';

/**
 * The base images, made of the host's files (no registry, no download), as `podman import`s:
 *   shell       node's libraries, dash as /bin/sh and the few commands usher and the tests call:
 *               readlink (bin/usher follows npm's symlink), date and id (bin/usher-probe), setsid
 *               (the -it hand-over), bash and sleep (the terminal test), cat, env (npm's shebang),
 *               mkdir, chown, ln, rm (the examples' RUN lines). No ps: its libraries cost more than
 *               the rest; the tests read /proc.
 *   distroless  node's libraries and /etc's basics only: no shell at all.
 *   python      shell plus the host's python3 and its standard library (a python:slim-style image).
 * None holds node itself: the usher images add it with the package, as an app's image would.
 */
export type BaseName = 'shell' | 'distroless' | 'python';

export const baseImage = (name: BaseName): string => `localhost/usher-test-base-${name}:latest`;

const SHELL_COMMANDS = ['bash', 'readlink', 'date', 'id', 'sleep', 'cat', 'setsid', 'env', 'mkdir', 'chown', 'ln', 'rm'];
const PYTHON = '/usr/bin/python3';
// Parts of the standard library a slim image leaves out, or that only Python's own build uses.
const PYTHON_PRUNED = /^(test|idlelib|tkinter|turtledemo|ensurepip|lib2to3|config-.*|site-packages|dist-packages)$/;

function putShell(root: string): void {
  putBinary(root, '/usr/bin/dash');
  symlinkSync('dash', path.join(root, 'usr/bin/sh'));
  for (const name of SHELL_COMMANDS) putCommand(root, name);
  // Terminal descriptions, for bash's line editing under -it.
  put(root, '/usr/lib/terminfo');
}

function putPython(root: string): void {
  if (!existsSync(PYTHON)) throw new Error(`the python image needs the host's ${PYTHON}: apt-get install python3-minimal`);
  putBinary(root, PYTHON);
  const [stdlib, dynload] = execFileSync(PYTHON, ['-c', 'import sysconfig; print(sysconfig.get_paths()["stdlib"]); print(sysconfig.get_config_var("DESTSHARED"))'], { encoding: 'utf8' }).trim().split('\n') as [string, string];
  put(root, stdlib);
  for (const entry of readdirSync(path.join(root, stdlib))) if (PYTHON_PRUNED.test(entry)) rmSync(path.join(root, stdlib, entry), { recursive: true });
  for (const module of readdirSync(dynload).filter((file) => file.endsWith('.so'))) {
    for (const library of sharedLibraries(path.join(dynload, module))) put(root, library);
  }
}

/** Builds one base into the run's storage. */
export async function buildBase(env: PodmanEnv, name: BaseName, node: string): Promise<void> {
  const work = mkdtempSync(path.join(env.dir, 'tmp', `base-${name}-`));
  try {
    const root = path.join(work, 'rootfs');
    skeleton(root);
    for (const library of sharedLibraries(node)) put(root, library);
    if (name !== 'distroless') putShell(root);
    if (name === 'python') putPython(root);
    tarRoot(root, path.join(work, 'rootfs.tar'));
    const changes = ['--change', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'];
    if (name !== 'distroless') changes.push('--change', 'CMD ["/bin/sh"]');
    await podmanOk(env, ['import', '--quiet', ...changes, path.join(work, 'rootfs.tar'), baseImage(name)], { timeoutMs: 120_000 });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export async function imageSize(env: PodmanEnv, image: string): Promise<number> {
  return Number((await podmanOk(env, ['image', 'inspect', image, '--format', '{{.Size}}'])).stdout.trim());
}
