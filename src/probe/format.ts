/** Small formatting helpers of `usher status`. */
import { formatElapsed } from '../config/duration.js';

/** A duration in milliseconds: `350ms`, `2.4s`, then as formatElapsed (`4m12s`, `1h3m`). */
export function formatSpan(ms: number): string {
  const value = Math.max(0, ms);
  if (value < 1000) return `${Math.round(value)}ms`;
  if (value < 10_000) return `${(Math.floor(value / 100) / 10).toFixed(1)}s`;
  return formatElapsed(value / 1000);
}

/** Text from a check's output made safe for a terminal: no escapes, no carriage returns. */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '?');
}
