import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

export type CommandLookup =
  | { readonly ok: true; readonly file: string }
  | { readonly ok: false; readonly code: 126 | 127; readonly message: string };

function check(file: string): 'ok' | 'missing' | 'directory' | 'denied' {
  let stats;
  try {
    stats = statSync(file);
  } catch {
    return 'missing';
  }
  if (stats.isDirectory()) return 'directory';
  try {
    accessSync(file, constants.X_OK);
    return 'ok';
  } catch {
    return 'denied';
  }
}

/**
 * Finds COMMAND the way a shell's execvp does, so that usher, not the spawn, can say why it
 * cannot run: 127 when it is not found, 126 when it is found but cannot be executed.
 */
export function findCommand(command: string, envPath: string | undefined, cwd: string): CommandLookup {
  const fail = (code: 126 | 127, why: string): CommandLookup => ({ ok: false, code, message: `cannot run ${JSON.stringify(command)}: ${why}` });
  if (command === '') return fail(127, 'empty command');
  if (command.includes('/')) {
    const file = path.resolve(cwd, command);
    const status = check(file);
    if (status === 'ok') return { ok: true, file };
    if (status === 'missing') return fail(127, 'no such file');
    return fail(126, status === 'directory' ? 'is a directory' : 'permission denied (not executable)');
  }
  let denied: string | undefined;
  for (const dir of (envPath ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    const file = path.resolve(cwd, dir || '.', command);
    const status = check(file);
    if (status === 'ok') return { ok: true, file };
    if (status === 'denied') denied ??= file;
  }
  if (denied) return fail(126, `${denied} is not executable`);
  return fail(127, 'command not found in PATH');
}
