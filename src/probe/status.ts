/**
 * `usher status`: what a person debugging a pod wants on one screen. Phase and uptime, the app,
 * what each probe answers and why, each init script and check, then the timeline.
 */
import { formatElapsed } from '../config/duration.js';
import { probeLine, type ReadResult } from '../state/reader.js';
import { PROBE_KINDS, type CheckRecord, type InitScriptRecord, type StateFile } from '../state/schema.js';
import { formatSpan } from '../config/duration.js';
import { printable } from './format.js';
import { shownTarget } from '../checks/redact.js';
import { cleanLine } from '../checks/check-line.js';
import { renderTimeline, timelineRows } from './timeline.js';

export interface StatusOptions {
  readonly dir: string;
  readonly now: number;
  /** '█' where the terminal speaks UTF-8, '#' elsewhere. */
  readonly fill: string;
}

const OUTPUT_LINES = 3;
const OUTPUT_WIDTH = 120;

/** The whole report; when usher is gone it says so first, then shows the last known state. */
export function renderStatus(read: ReadResult, { dir, now, fill }: StatusOptions): string {
  if (!read.ok && !read.state) return `no usher running (${read.reason})\n`;
  const state = read.state!;
  // A stale state is shown as of its last heartbeat: that is when it was true.
  const asOf = read.ok ? now : state.heartbeatAt;
  const lines: string[] = [];
  if (!read.ok) lines.push(`no usher running (${read.reason})`, 'last known state:', '');
  const up = formatElapsed((asOf - state.startedAt) / 1000);
  lines.push(`usher pid ${state.usherPid}, ${state.phase}, up ${up}, state in ${dir}`);
  // Absent from files written before the app could report itself: same version, fields fewer.
  const mainPid = state.appMainPid ?? 0;
  const main = mainPid > 0 && mainPid !== state.appPid ? ` (main pid ${mainPid}, as the app said)` : '';
  lines.push(state.appPid > 0 ? `app pid ${state.appPid}${main}` : 'app not started');
  if (state.appStatus) lines.push(`app says: ${printable(state.appStatus)}`);
  if (state.exitCode >= 0) lines.push(`exit code ${state.exitCode}`);
  // Absent from files written before reloads were recorded: same version, one field fewer.
  const reload = state.lastReload ?? null;
  if (reload) lines.push(`last reload: ${reload.signal} ${formatElapsed((asOf - reload.at) / 1000)} ago (${printable(reload.path)} changed)`);
  // Gone or stale, every probe answers 6 now; what they answered last is what helps a post-mortem.
  lines.push('', read.ok ? 'probes:' : 'probes, as last written (all answer 6 now):');
  for (const kind of PROBE_KINDS) {
    const result = probeLine(kind, state, asOf);
    lines.push(`  ${kind.padEnd(8)} ${result.code}  ${result.line}`);
  }
  lines.push('', ...readinessLines(state), '', ...initLines(state.init, asOf), '', ...checkLines(state.checks, asOf));
  const rows = timelineRows(state, asOf);
  if (rows.length > 0) lines.push('', ...renderTimeline(rows, { fill }));
  return `${lines.join('\n')}\n`;
}

function initLines(scripts: readonly InitScriptRecord[], now: number): string[] {
  if (scripts.length === 0) return ['init scripts: none'];
  const nameWidth = Math.max(...scripts.map((script) => script.name.length));
  return [
    `init scripts (${scripts.length}):`,
    ...scripts.map((script) => {
      const duration = script.startedAt === null ? '-' : formatSpan((script.endedAt ?? now) - script.startedAt);
      const result = script.exitCode !== null ? `exit ${script.exitCode}` : script.signal ? `killed by ${script.signal}` : '';
      return `  ${script.name.padEnd(nameWidth)}  ${script.status.padEnd(7)}  ${duration.padEnd(6)}  ${result}`.trimEnd();
    }),
  ];
}

/** Each part of readiness, and which one holds it back. Absent from files of older ushers. */
function readinessLines(state: StateFile): string[] {
  const sources = state.readiness ?? [];
  if (sources.length === 0) return [];
  const ports = (state.readyPorts ?? []).map((port) => `:${port}`).join(', ');
  const width = Math.max(...sources.map((source) => source.source.length));
  return ['readiness:', ...sources.map((source) => {
    const answer = source.ready ? 'ready' : `not ready: ${printable(source.reason)}`;
    const which = source.source === 'ports' ? `  (${ports})` : '';
    const held = source.source === state.readinessHeldBy ? '  <- holds readiness back' : '';
    return `  ${source.source.padEnd(width)}  ${answer}${which}${held}`;
  })];
}

/** Targets are shown without their secrets, also from the state file of an usher that wrote them in full. */
function checkLines(checks: readonly CheckRecord[], now: number): string[] {
  if (checks.length === 0) return ['checks: none'];
  const idWidth = Math.max(...checks.map((check) => check.id.length));
  const lines = [`checks (${checks.length}):`];
  for (const check of checks) {
    const last = check.lastRunAt === null
      ? 'not run yet'
      : `${check.lastResult ?? '?'}${check.lastDurationMs === null ? '' : ` in ${formatSpan(check.lastDurationMs)}`}, ${formatElapsed((now - check.lastRunAt) / 1000)} ago`;
    const streak = check.consecutiveFailures > 0 ? `, ${check.consecutiveFailures} failing in a row` : '';
    lines.push(`  ${check.id.padEnd(idWidth)}  ${check.status.padEnd(7)}  ${last}${streak}  (${check.type === 'cmd' ? 'command' : `${check.type} ${printable(shownTarget(check))}`})`);
    // Cleaned as the probes' line is: no escapes, no bidi overrides, URLs' secrets hidden.
    const tail = check.output.split('\n').map(cleanLine).filter(Boolean).slice(-OUTPUT_LINES);
    for (const line of tail) lines.push(`      > ${line.slice(0, OUTPUT_WIDTH)}`);
    // A command's last line is in its tail already; an HTTP or TCP check's words are shown alone. Absent from older files.
    const detail = check.lastDetail;
    if (check.type !== 'cmd' && detail) lines.push(`      > ${printable(detail)}`);
  }
  return lines;
}
