/**
 * The timeline of `usher status`: phases and init scripts as horizontal bars on one time axis,
 * so a person sees at a glance where start-up time went.
 */
import type { StateFile } from '../state/schema.js';
import { formatSpan } from '../config/duration.js';

export interface TimelineRow {
  readonly label: string;
  readonly start: number;
  /** Equal to start for an instant (the `exited` mark). */
  readonly end: number;
  /** Printed after the duration: a script's status. */
  readonly note?: string;
}

export interface TimelineOptions {
  readonly width?: number;
  /** '█' where the terminal speaks UTF-8, '#' elsewhere. */
  readonly fill?: string;
}

const LABEL_MAX = 28;

/** Rows from the state: each phase until the next one (or `end`), then each init script that started. */
export function timelineRows(state: StateFile, end: number): TimelineRow[] {
  const rows: TimelineRow[] = [];
  state.timeline.forEach((mark, i) => {
    const next = state.timeline[i + 1];
    const last = mark.phase === 'exited' ? mark.at : Math.max(mark.at, next?.at ?? end);
    rows.push({ label: mark.phase, start: mark.at, end: last });
  });
  for (const script of state.init) {
    if (script.startedAt === null) continue;
    rows.push({ label: `  ${script.name}`, start: script.startedAt, end: Math.max(script.startedAt, script.endedAt ?? end), note: script.status });
  }
  return rows;
}

/** The chart as lines: a header with the scale, then `label |   ████   | 4m12s note`. */
export function renderTimeline(rows: readonly TimelineRow[], options: TimelineOptions = {}): string[] {
  if (rows.length === 0) return [];
  const width = options.width ?? 40;
  const fill = options.fill ?? '#';
  const origin = Math.min(...rows.map((row) => row.start));
  const span = Math.max(1, Math.max(...rows.map((row) => row.end)) - origin);
  const labelWidth = Math.min(LABEL_MAX, Math.max(...rows.map((row) => row.label.length)));
  const column = (t: number): number => Math.round(((t - origin) / span) * width);
  const lines = [`timeline: ${formatSpan(span)} in all, one column = ${formatSpan(span / width)}`];
  for (const row of rows) {
    const from = Math.min(width - 1, column(row.start));
    const to = Math.max(from + 1, column(row.end)); // even an instant gets one column
    const bar = ' '.repeat(from) + fill.repeat(to - from) + ' '.repeat(width - to);
    const duration = row.end === row.start ? `at ${formatSpan(row.start - origin)}` : formatSpan(row.end - row.start);
    lines.push(`  ${fit(row.label, labelWidth)} |${bar}| ${duration}${row.note ? ` ${row.note}` : ''}`);
  }
  return lines;
}

function fit(label: string, width: number): string {
  return label.length > width ? `${label.slice(0, width - 1)}~` : label.padEnd(width);
}
