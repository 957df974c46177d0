import { getSystemErrorMap } from 'node:util';

/**
 * The one way usher turns an error number or a Node error into words: `EAGAIN`, or
 * `EAGAIN (resource temporarily unavailable)` where a person reads it.
 */
export function errnoName(errno: number): string {
  return getSystemErrorMap().get(-Math.abs(errno))?.[0] ?? `errno ${errno}`;
}

export function errnoText(errno: number): string {
  const known = getSystemErrorMap().get(-Math.abs(errno));
  return known ? `${known[0]} (${known[1]})` : `errno ${errno}`;
}

/** The code of a Node system error (`ENOENT`), or its message when it has none. */
export function errorCode(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string') return code;
  return error instanceof Error ? error.message : String(error);
}

/** `permission denied` for EACCES: the system's own words for a code, else the code. */
export function describeCode(code: string): string {
  for (const [name, message] of getSystemErrorMap().values()) if (name === code) return message;
  return code;
}
