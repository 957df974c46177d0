/** Small formatting helpers of `usher status`. */

/** Text from a check's output made safe for a terminal: no escapes, no carriage returns. */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '?');
}
