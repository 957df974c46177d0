import { redactUrl } from './redact.js';

/** One configured check, as the options describe it. */
export interface CheckSpec {
  readonly id: string;
  readonly kind: 'ready' | 'live';
  readonly type: 'cmd' | 'http' | 'tcp';
  readonly target: string;
}

export interface CheckTiming {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly failures: number;
  readonly successes: number;
  readonly startPeriodMs: number;
}

export function parseHttpTarget(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`invalid URL ${JSON.stringify(redactUrl(text))} (expected e.g. http://127.0.0.1:8080/healthz)`);
  }
  // The message goes to stderr, the container's log: the URL's secrets stay out of it.
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`invalid URL ${JSON.stringify(redactUrl(text))}: only http and https`);
  return url.href;
}

export function parseTcpTarget(text: string): string {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text.trim());
  if (!match || Number(match[3]) < 1 || Number(match[3]) > 65535) {
    throw new Error(`invalid address ${JSON.stringify(text)} (expected HOST:PORT, e.g. 127.0.0.1:5432)`);
  }
  return text.trim();
}

export function parseCommand(text: string): string {
  if (text.trim() === '') throw new Error('empty command');
  return text;
}
