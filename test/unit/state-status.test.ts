import { describe, expect, it } from 'vitest';
import { parseProbeArgs, UsageError } from '../../src/probe/args.js';
import { formatSpan } from '../../src/config/duration.js';
import { renderTimeline, timelineRows } from '../../src/probe/timeline.js';
import type { StateFile } from '../../src/state/schema.js';

describe('parseProbeArgs', () => {
  it.each([
    [['probe', 'ready'], { command: 'probe', kind: 'ready', json: false, docker: false, stateDir: undefined }],
    [['probe', '--json', 'live', '--state-dir', '/s'], { command: 'probe', kind: 'live', json: true, docker: false, stateDir: '/s' }],
    [['probe', 'startup', '--state-dir=/x'], { command: 'probe', kind: 'startup', json: false, docker: false, stateDir: '/x' }],
    [['probe', '--docker', 'ready'], { command: 'probe', kind: 'ready', json: false, docker: true, stateDir: undefined }],
    [['probe', 'live', '--docker'], { command: 'probe', kind: 'live', json: false, docker: true, stateDir: undefined }],
    [['status'], { command: 'status', json: false, stateDir: undefined }],
    [['status', '--json'], { command: 'status', json: true, stateDir: undefined }],
  ])('%j', (argv, parsed) => {
    expect(parseProbeArgs(argv)).toEqual(parsed);
  });

  it('help wins over anything else', () => {
    expect(parseProbeArgs(['probe', 'bogus', '-h'])).toMatchObject({ command: 'help' });
  });

  it.each([
    [['probe'], 'usher probe needs a kind: startup, ready or live'],
    [['probe', 'Ready'], 'unknown probe kind "Ready" (expected startup, ready or live)'],
    [['probe', 'ready', 'live'], 'usher probe takes one kind, got another argument "live"'],
    [['probe', 'ready', '-j'], 'unknown option "-j" for usher probe'],
    [['probe', 'ready', '--state-dir'], '--state-dir needs a directory'],
    [['probe', 'ready', '--state-dir='], '--state-dir is empty: give a directory'],
    [['status', 'x'], 'usher status takes no argument, got "x"'],
    [['status', '--docker'], 'unknown option "--docker" for usher status'],
  ])('%j: %s', (argv, message) => {
    expect(() => parseProbeArgs(argv)).toThrow(new UsageError(message));
  });
});

describe('formatSpan', () => {
  it.each([[0, '0ms'], [350.4, '350ms'], [999, '999ms'], [1000, '1.0s'], [2460, '2.4s'], [9999, '9.9s'], [10_000, '10s'], [252_000, '4m12s'], [3_780_000, '1h3m']])(
    '%s ms is %s', (ms, text) => {
      expect(formatSpan(ms)).toBe(text);
    });
});

describe('the timeline', () => {
  const t0 = 1_000_000;
  const state = {
    timeline: [{ phase: 'initializing', at: t0 }, { phase: 'running', at: t0 + 30_000 }, { phase: 'stopping', at: t0 + 38_000 }, { phase: 'exited', at: t0 + 40_000 }],
    init: [
      { name: '10-a.sh', path: '/i/10-a.sh', status: 'ok', startedAt: t0, endedAt: t0 + 20_000, exitCode: 0, signal: null },
      { name: '20-b.sh', path: '/i/20-b.sh', status: 'ok', startedAt: t0 + 20_000, endedAt: t0 + 30_000, exitCode: 0, signal: null },
      { name: '30-c.sh', path: '/i/30-c.sh', status: 'pending', startedAt: null, endedAt: null, exitCode: null, signal: null },
    ],
  } as unknown as StateFile; // only what the timeline reads

  it('draws phases and started scripts to scale, one column for an instant', () => {
    const lines = renderTimeline(timelineRows(state, t0 + 99_000), { width: 40, fill: '#' });
    expect(lines).toEqual([
      'timeline: 40s in all, one column = 1.0s',
      '  initializing |##############################          | 30s',
      '  running      |                              ########  | 8.0s',
      '  stopping     |                                      ##| 2.0s',
      '  exited       |                                       #| at 40s',
      '    10-a.sh    |####################                    | 20s ok',
      '    20-b.sh    |                    ##########          | 10s ok',
    ]);
  });

  it('the last phase runs until now; a running script too', () => {
    const running = {
      timeline: [{ phase: 'initializing', at: t0 }],
      init: [{ name: 'slow.sh', path: '/i/slow.sh', status: 'running', startedAt: t0 + 1000, endedAt: null, exitCode: null, signal: null }],
    } as unknown as StateFile;
    expect(timelineRows(running, t0 + 5000)).toEqual([
      { label: 'initializing', start: t0, end: t0 + 5000 },
      { label: '  slow.sh', start: t0 + 1000, end: t0 + 5000, note: 'running' },
    ]);
  });

  it('long names are cut to keep the bars aligned', () => {
    const lines = renderTimeline([{ label: 'x'.repeat(40), start: 0, end: 10 }], { width: 10 });
    expect(lines[1]).toBe(`  ${'x'.repeat(27)}~ |##########| 10ms`);
  });
});
