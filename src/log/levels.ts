export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export function parseChoice<T extends string>(choices: readonly T[]) {
  return (text: string): T => {
    const value = text.trim().toLowerCase();
    if ((choices as readonly string[]).includes(value)) return value as T;
    throw new Error(`invalid value ${JSON.stringify(text)} (expected one of ${choices.join(', ')})`);
  };
}
