import { writeSync } from 'node:fs';
import pino, { type Logger } from 'pino';
import type { LogFormat, LogLevel } from './levels.js';

export type { Logger };

/** Writes straight to fd 2, synchronously: a line logged just before exit must not be lost. */
function writeStderr(text: string): void {
  try {
    writeSync(2, text);
  } catch {
    // stderr closed or full: usher keeps supervising rather than die for a log line.
  }
}

const HIDDEN = new Set(['level', 'time', 'msg', 'name']);

/** One pino JSON line -> `HH:MM:SS.mmm LEVEL usher: message key=value ...` for people. */
export function formatText(line: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof record.time === 'string' ? record.time.slice(11, 23) : '';
  const fields = Object.entries(record)
    .filter(([key]) => !HIDDEN.has(key))
    .map(([key, value]) => `${key}=${textValue(value)}`);
  return `${time} ${String(record.level).toUpperCase().padEnd(5)} usher: ${String(record.msg ?? '')}${fields.length ? ` ${fields.join(' ')}` : ''}\n`;
}

function textValue(value: unknown): string {
  // An error's stack is for JSON logs; people get its message.
  if (value && typeof value === 'object' && 'message' in value) return JSON.stringify((value as { message: unknown }).message);
  return typeof value === 'string' && !/\s/.test(value) ? value : JSON.stringify(value);
}

export function createLogger(level: LogLevel, format: LogFormat): Logger {
  const destination = { write: format === 'text' ? (line: string) => writeStderr(formatText(line)) : writeStderr };
  return pino(
    {
      level,
      base: { name: 'usher' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}
