import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, lstatSync, mkdirSync, realpathSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/**
 * A root file system made of the host's own files: a binary goes in with every shared library
 * ldd names for it, each at its real path, with the path it was named by as a symlink. No
 * download, no registry: about a second for a base with node's libraries and a shell.
 */

const exists = (file: string): boolean => lstatSync(file, { throwIfNoEntry: false }) !== undefined;

// The users of the images these stand in for: node in the Node images, nonroot in distroless.
const USERS = 'node:x:1000:1000:node:/home/node:/bin/sh\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n';

/** The skeleton every image has: usrmerge links, /tmp, /etc's basics, root, the users, nobody. */
export function skeleton(root: string, users = USERS): void {
  for (const dir of ['usr/bin', 'usr/sbin', 'usr/lib', 'usr/lib64', 'usr/local/bin', 'etc', 'tmp', 'var/tmp', 'root', 'home/node', 'home/nonroot', 'run', 'proc', 'sys', 'dev']) {
    mkdirSync(path.join(root, dir), { recursive: true });
  }
  for (const dir of ['bin', 'sbin', 'lib', 'lib64']) symlinkSync(`usr/${dir}`, path.join(root, dir));
  chmodSync(path.join(root, 'tmp'), 0o1777);
  chmodSync(path.join(root, 'var/tmp'), 0o1777);
  chmodSync(path.join(root, 'root'), 0o700);
  chownSync(path.join(root, 'home/node'), 1000, 1000);
  chownSync(path.join(root, 'home/nonroot'), 65532, 65532);
  writeFileSync(path.join(root, 'etc/passwd'), `root:x:0:0:root:/root:/bin/sh\n${users}nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`);
  writeFileSync(path.join(root, 'etc/group'), `root:x:0:\n${users.replace(/^(\w+):x:(\d+):\d+:.*$/gm, '$1:x:$2:')}nogroup:x:65534:\n`);
  writeFileSync(path.join(root, 'etc/hosts'), '127.0.0.1 localhost\n::1 localhost\n');
  writeFileSync(path.join(root, 'etc/nsswitch.conf'), 'passwd: files\ngroup: files\nhosts: files\n');
}

/** Copies a host file (or a whole directory) to the same path under root, following symlinks. */
export function put(root: string, source: string): void {
  const real = realpathSync(source);
  const target = path.join(root, real);
  if (!exists(target)) {
    mkdirSync(path.dirname(target), { recursive: true });
    if (statSync(real).isDirectory()) execFileSync('cp', ['-a', real, path.dirname(target)]);
    else {
      copyFileSync(real, target);
      chmodSync(target, statSync(real).mode & 0o7777);
    }
  }
  const named = path.join(root, source);
  if (source !== real && !exists(named)) {
    mkdirSync(path.dirname(named), { recursive: true });
    symlinkSync(real, named);
  }
}

/** The shared libraries a binary loads, as ldd lists them (the loader included). */
export function sharedLibraries(binary: string): string[] {
  const listing = execFileSync('ldd', [binary], { encoding: 'utf8' });
  return [...listing.matchAll(/^\s*(?:\S+ => )?(\/\S+) \(0x/gm)].map((match) => match[1]!);
}

/** A binary and its libraries. */
export function putBinary(root: string, binary: string): void {
  put(root, binary);
  for (const library of sharedLibraries(binary)) put(root, library);
}

/** A host command (found on PATH) and its libraries, at the same path. */
export function putCommand(root: string, name: string): void {
  const found = execFileSync('sh', ['-c', 'command -v "$1" || true', 'sh', name], { encoding: 'utf8' }).trim();
  // (a shell builtin answers with its bare name: the images need the file)
  if (!found.startsWith('/')) throw new Error(`the test images need the host's ${name} command, which is not on PATH`);
  putBinary(root, found);
}

/** Packs root as one tar layer (numeric owners: the host's names mean nothing in the image). */
export function tarRoot(root: string, tarball: string): void {
  execFileSync('tar', ['-C', root, '--numeric-owner', '-cf', tarball, '.']);
}
