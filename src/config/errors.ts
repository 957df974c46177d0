/**
 * A usage or configuration error. usher exits 2 with this message, before the app starts:
 * the message always names the flag or USHER_* variable and the bad value.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Wraps a value parser so that its plain error message is prefixed with where the value came from. */
export function parseAt<T>(where: string, text: string, parse: (text: string) => T): T {
  try {
    return parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`${where}: ${reason}`);
  }
}
