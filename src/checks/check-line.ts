/**
 * The one line of a check's run that says why it failed (`db replica lag 42s`, the last line a
 * command printed; `upstream down`, the first line of a failing HTTP answer), made fit for where
 * probes' lines end up: a pod's events (`kubectl describe pod`), `docker inspect`, a terminal.
 */
import { redactUrl } from './redact.js';

/** How a command check's detail begins: its last line of output, which only local readers are shown. */
const OUTPUT_DETAIL = 'output: ';

/** A command check's detail, from the last line of its output ('' when it printed nothing). */
export function outputDetail(line: string): string {
  return line ? `${OUTPUT_DETAIL}${line}` : '';
}

/** Whether a detail is a command's output (the HTTP server, open to other pods, never shows one). */
export function isOutputDetail(detail: string): boolean {
  return detail.startsWith(OUTPUT_DETAIL);
}

/** Characters of a line at most: an event or a health log entry is no place for a page. */
export const LINE_LIMIT = 200;

/** CSI (colours, cursor moves), OSC (titles, links) and two-character escapes: dropped whole, not left as `[31m`. */
const ESCAPES = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-_]?/g;
/** C0 and C1 controls, DEL, and the marks that reorder text on screen (bidi overrides). */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g;
/** A URL in running text: up to the next space. */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/\S+/gi;

/** The last line of `output` with something on it, cleaned; '' when none. A carriage return ends a line too (progress bars). */
export function lastLine(output: string): string {
  const lines = output.split(/\r\n|[\n\r]/);
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = cleanLine(lines[i]!);
    if (line) return line;
  }
  return '';
}

/** The first line of `text` with something on it, cleaned; '' when none. */
export function firstLine(text: string): string {
  for (const line of text.split(/\r\n|[\n\r]/)) {
    const clean = cleanLine(line);
    if (clean) return clean;
  }
  return '';
}

/**
 * One line as shown: no escapes or control characters (a tab is a space), runs of spaces as
 * one, the secrets of any URL in it hidden as a target's are (`checks/redact.ts`), and
 * LINE_LIMIT characters at most, cut between characters, never inside one.
 */
export function cleanLine(text: string): string {
  const plain = text.replace(ESCAPES, '').replace(CONTROLS, ' ').replace(/\s+/g, ' ').trim();
  const shown = plain.replace(URL_IN_TEXT, (url) => redactUrl(url));
  const chars = Array.from(shown);
  return chars.length <= LINE_LIMIT ? shown : `${chars.slice(0, LINE_LIMIT - 3).join('')}...`;
}
