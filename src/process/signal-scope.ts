import { closeSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import type { SignalScope } from '../lifecycle/types.js';
import { findCommand } from './find-command.js';

/** Shells whose scripts do not pass signals on to the commands they run without `exec`. */
const SHELLS = new Set(['sh', 'bash', 'dash', 'ash', 'zsh', 'ksh', 'mksh', 'busybox']);

export interface ScopeChoice {
  readonly scope: SignalScope;
  /** Why, for the start-up log: `COMMAND is a shell script (#!/bin/sh)`. */
  readonly why: string;
}

/**
 * --signals auto: the app's whole process group when COMMAND is a shell, or a script whose #!
 * names one (an entrypoint script without `exec` never passes TERM on: tini #229); the app's
 * process alone otherwise, since a signal to the group reaches workers that have their own
 * meaning for it (HUP kills gunicorn's and Puma's workers instead of reloading them, TERM loses
 * Celery's pool tasks).
 */
export function resolveSignalScope(signals: 'app' | 'group' | 'auto', where: string, command: readonly string[], envPath: string | undefined, cwd: string): ScopeChoice {
  if (signals !== 'auto') return { scope: signals, why: where };
  const name = command[0];
  if (name === undefined) return { scope: 'group', why: 'no app' };
  const found = findCommand(name, envPath, cwd);
  if (!found.ok) return { scope: 'app', why: `${name} was not found` };
  if (SHELLS.has(path.basename(found.file))) return { scope: 'group', why: `${name} is a shell` };
  const interpreter = shebangInterpreter(found.file);
  if (interpreter && SHELLS.has(interpreter)) return { scope: 'group', why: `${name} is a shell script (#! ${interpreter})` };
  return { scope: 'app', why: interpreter ? `${name} is a ${interpreter} script, not a shell's` : `${name} is not a shell script` };
}

/** The command a #! line runs, by its name: `#!/bin/sh -e` is sh, `#!/usr/bin/env bash` is bash. */
function shebangInterpreter(file: string): string | undefined {
  const head = Buffer.alloc(256);
  let length = 0;
  try {
    const fd = openSync(file, 'r');
    try {
      length = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const text = head.toString('latin1', 0, length);
  if (!text.startsWith('#!')) return undefined;
  const words = (text.slice(2).split('\n')[0] ?? '').trim().split(/\s+/);
  const program = path.basename(words[0] ?? '');
  if (program !== 'env') return program || undefined;
  const target = words.slice(1).find((word) => !word.startsWith('-'));
  return target === undefined ? undefined : path.basename(target);
}
