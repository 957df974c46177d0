/**
 * node:child_process, loaded on first use: it costs about 3 ms, and the common start (the app
 * through posix_spawn, no init scripts, no command checks) never needs it.
 */
export function childProcess(): typeof import('node:child_process') {
  return require('node:child_process') as typeof import('node:child_process');
}
