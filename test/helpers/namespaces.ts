/**
 * Namespaces for tests, as root or not: a user namespace with the caller mapped to root gives an
 * unprivileged run the powers a PID or mount namespace needs, so these tests never skip.
 */
export const IS_ROOT = process.getuid?.() === 0;

/** The uid a process sees inside `unshareArgs(...)`: the caller's as root, 0 in the user namespace. */
export const UID_INSIDE = IS_ROOT ? process.getuid!() : 0;

/** `unshare` with `flags`, preceded by `--user --map-root-user` when not root. */
export function unshareArgs(...flags: readonly string[]): string[] {
  return ['unshare', ...(IS_ROOT ? [] : ['--user', '--map-root-user']), ...flags];
}

/**
 * Runs a command in a mount namespace whose root is a tmpfs holding every top-level directory
 * of the machine (bind-mounted) and none of its top-level files: a `/.dockerenv` the machine
 * may have is not there. `root` is an empty directory to build it on (the caller removes it).
 * With `containerenv`, /run is a tmpfs of its own holding `/run/.containerenv`, as podman
 * gives every container. Through a user namespace when not root.
 */
export function freshRootArgs(root: string, options: { containerenv?: boolean } = {}): string[] {
  const script = [
    'set -e',
    'root=$1; shift',
    'mount -t tmpfs tmpfs "$root"',
    'for entry in /*; do',
    '  name=${entry#/}',
    '  if [ -L "$entry" ]; then ln -s "$(readlink "$entry")" "$root/$name"',
    '  elif [ -d "$entry" ]; then',
    '    mkdir "$root/$name"',
    '    case $name in dev|proc|sys) mount --rbind "$entry" "$root/$name" ;; *) mount --bind "$entry" "$root/$name" ;; esac',
    '  fi',
    'done',
    ...(options.containerenv ? ['mount -t tmpfs tmpfs "$root/run"', 'echo \'engine="podman-test"\' > "$root/run/.containerenv"'] : []),
    'exec chroot "$root" sh -c \'cd / && exec "$@"\' sh "$@"',
  ].join('\n');
  return [...unshareArgs('--mount'), 'sh', '-c', script, 'sh', root];
}
