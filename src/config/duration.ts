const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `250ms`, `5s`, `2m`, `1h`, `1.5s` or bare seconds (`30`) into milliseconds. */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(text);
  if (!match) {
    throw new Error(`invalid duration ${JSON.stringify(text)} (expected e.g. 250ms, 5s, 2m or bare seconds)`);
  }
  const unit = (match[2] ?? 's').toLowerCase();
  const ms = Number(match[1]) * (UNIT_MS[unit] ?? 1000);
  // Node timers overflow past 2^31-1 ms and then fire at once: refuse rather than misbehave.
  if (ms > 2_147_483_647) throw new Error(`duration ${JSON.stringify(text)} is too long (at most 24 days)`);
  return Math.round(ms);
}

/** Formats milliseconds the way the options accept them back. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** Seconds as people read them, at most two units: `12s`, `4m12s`, `1h3m` (bin/usher-probe's `elapsed` too). */
export function formatElapsed(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

/** A span in milliseconds: `350ms`, `2.4s`, then as formatElapsed (`4m12s`, `1h3m`). */
export function formatSpan(ms: number): string {
  const value = Math.max(0, ms);
  if (value < 1000) return `${Math.round(value)}ms`;
  if (value < 10_000) return `${(Math.floor(value / 100) / 10).toFixed(1)}s`;
  return formatElapsed(value / 1000);
}
