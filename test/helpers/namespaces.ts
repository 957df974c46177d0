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
