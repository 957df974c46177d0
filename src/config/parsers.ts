import path from 'node:path';
import { parseDuration } from './duration.js';

/** The value parsers options share. Each throws an Error saying what it expected; parseAt names the option. */
export function parseBoolean(text: string): boolean {
  const value = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  throw new Error(`invalid boolean ${JSON.stringify(text)} (expected 1/0, true/false, yes/no or on/off)`);
}

/** A check every 0 ms would spin: these durations must be more than 0. */
export function parsePositiveDuration(text: string): number {
  const ms = parseDuration(text);
  if (ms === 0) throw new Error(`invalid duration ${JSON.stringify(text)} (must be more than 0)`);
  return ms;
}

export function parseCount(text: string): number {
  if (!/^\s*\d+\s*$/.test(text) || Number(text) < 1) throw new Error(`invalid count ${JSON.stringify(text)} (expected a whole number of at least 1)`);
  return Number(text);
}

export function parseChoice<T extends string>(choices: readonly T[]) {
  return (text: string): T => {
    const value = text.trim().toLowerCase();
    if ((choices as readonly string[]).includes(value)) return value as T;
    throw new Error(`invalid value ${JSON.stringify(text)} (expected one of ${choices.join(', ')})`);
  };
}

/** A path option: made absolute against where usher was started (it moves to / once the app runs). */
export function parsePath(cwd: string, what = 'path'): (text: string) => string {
  return (text) => {
    if (text.trim() === '') throw new Error(`invalid ${what} ${JSON.stringify(text)}: empty (an empty value would mean the working directory)`);
    return path.resolve(cwd, text);
  };
}
