import pino, { type Logger } from 'pino';
import type { LogFormat, LogLevel } from './levels.js';
import { output } from './output.js';

export type { Logger };

/**
 * Each line goes straight to stderr, synchronously (a line logged just before exit must not be
 * lost), through usher's own non-blocking output: what cannot be written at once is dropped and
 * counted, and the count is said as soon as a line goes out again.
 */
function stderrWriter(format: LogFormat): (line: string) => void {
  const stderr = output(2);
  const shaped = (line: string): string => (format === 'text' ? formatText(line) : line);
  let dropped = 0;
  return (line) => {
    if (dropped > 0 && stderr.write(shaped(droppedNotice(dropped)))) dropped = 0;
    if (!stderr.write(shaped(line))) dropped += 1;
  };
}

/** The line that says how many were lost, in pino's own shape so both formats show it alike. */
function droppedNotice(count: number): string {
  return `${JSON.stringify({ level: 'warn', time: new Date().toISOString(), name: 'usher', dropped: count, msg: `${count} log line${count === 1 ? '' : 's'} dropped while stderr was full` })}\n`;
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

/** pino's number for info: the level that goes quiet while the app holds the terminal. */
const INFO = 30;

/**
 * `quiet`: true while the app holds the terminal usher handed it (`docker run -it … bash`).
 * usher's info lines would land in the middle of the app's prompt then, so they go to debug;
 * warnings and errors still show.
 */
export function createLogger(level: LogLevel, format: LogFormat, quiet: () => boolean = () => false): Logger {
  const destination = { write: stderrWriter(format) };
  return pino(
    {
      level,
      base: { name: 'usher' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        logMethod(args, method, methodLevel) {
          if (methodLevel === INFO && quiet()) return this.debug(...args);
          return method.apply(this, args);
        },
      },
    },
    destination,
  );
}

/** The format asked for, or for `auto` text when stderr is a terminal (a person reads it), json otherwise (a log collector does). */
export function resolveLogFormat(format: LogFormat | 'auto', stderrIsTerminal: () => boolean): LogFormat {
  return format === 'auto' ? (stderrIsTerminal() ? 'text' : 'json') : format;
}
