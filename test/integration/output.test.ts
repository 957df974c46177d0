import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { killLeftRunning, runUsher, startUsher, USHER, type LogLine } from '../helpers/usher.js';

// What usher prints, as people and log collectors get it: few lines, text on a terminal.

const runs = killLeftRunning();
const stateDir = (): string => mkdtempSync(path.join(tmpdir(), 'usher-output-'));
const atInfo = (logs: readonly LogLine[]): LogLine[] => logs.filter((line) => line.level === 'info');

/** usher's stderr when it is a terminal: util-linux `script` gives usher a real pseudo-terminal. */
function onTerminal(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ screen: string; code: number | null }> {
  const command = ['exec', USHER, ...args].map((word) => `'${word.replaceAll("'", "'\\''")}'`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  let screen = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (screen += text));
  child.stdin.end();
  return new Promise((resolve) => child.on('close', (code) => resolve({ screen, code })));
}

describe('a plain run', () => {
  it('says at most three lines at info from start to exit: the start, with the advice, and the exit with its code', async () => {
    const run = await runUsher(['--state-dir', stateDir(), '--', 'sleep', '1'], { env: { PORT: '', KUBERNETES_SERVICE_HOST: '' } });
    expect(run.code).toBe(0);
    const lines = atInfo(run.logs);
    expect(lines.length).toBeLessThanOrEqual(3);
    expect(lines[0]).toMatchObject({ msg: 'app started', command: 'sleep', readiness: expect.stringContaining('--ready-port') });
    expect(lines[0]!.pid).toEqual(expect.any(Number));
    expect(lines.at(-1)).toMatchObject({ msg: 'app exited', exitCode: 0 });
    // Nothing is lost: the rest is there at debug.
    const verbose = await runUsher(['-v', '--state-dir', stateDir(), '--', 'sleep', '0.2'], { env: { PORT: '' } });
    expect(verbose.logs.map((line) => line.msg)).toEqual(expect.arrayContaining(['app started', 'app exited', 'exiting', expect.stringMatching(/^state in /)]));
  });
});

describe('the log format', () => {
  it('is text when stderr is a terminal, json otherwise; --log-format and USHER_LOG_FORMAT still win', async () => {
    const text = await onTerminal(['--state-dir', stateDir(), '--', 'sh', '-c', 'exit 4']);
    expect(text.code).toBe(4);
    expect(text.screen).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}usher: usher started version=\S+ command=sh /m);
    expect(text.screen).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}usher: app exited code=4 exitCode=4\r?$/m);
    expect(text.screen).not.toContain('{"level"');

    for (const [args, env] of [[['--log-format', 'json'], {}], [[], { USHER_LOG_FORMAT: 'json' }]] as const) {
      const json = await onTerminal([...args, '--state-dir', stateDir(), '--', 'true'], env);
      expect(json.screen).toMatch(/^\{"level":"info",.*"msg":"app exited"\}\r?$/m);
      expect(json.screen).not.toMatch(/ INFO {2}usher: /);
    }
    // Not a terminal: json, unless text is asked for.
    expect((await runUsher(['--state-dir', stateDir(), '--', 'true'])).stderr).toMatch(/^\{"level":"info",.*"msg":"app exited"\}$/m);
    expect((await runUsher(['--state-dir', stateDir(), '--', 'true'], { env: { USHER_LOG_FORMAT: 'text' } })).stderr).toMatch(/ INFO {2}usher: app exited code=0/);
  });
});

describe('reaped orphans', () => {
  it('are one line a second at most, with a count; each one at debug (34 orphans in 6 s: 7 lines at most)', async () => {
    // 34 orphans, one every 120 ms (4 s, 6 s on a loaded machine): each subshell exits at once,
    // and its `sleep 0` goes to usher.
    const app = 'i=0; while [ $i -lt 34 ]; do (sleep 0 &); i=$((i+1)); sleep 0.12; done';
    const started = Date.now();
    runs.current = startUsher(['-v', '--state-dir', stateDir(), '--', 'sh', '-c', app]);
    const exit = await runs.current.exited;
    expect(Date.now() - started).toBeLessThan(6500);
    expect(exit.code).toBe(0);
    const logs = runs.current.logs;
    const summaries = logs.filter((line) => line.msg === 'orphans reaped');
    expect(summaries.every((line) => line.level === 'info')).toBe(true);
    expect(summaries.length).toBeGreaterThan(1);
    expect(summaries.length).toBeLessThanOrEqual(7);
    expect(summaries.reduce((sum, line) => sum + Number(line.count), 0)).toBe(34);
    expect(summaries.at(-1)!.total).toBe(34);
    const times = summaries.map((line) => Date.parse(String(line.time)));
    // One second apart, but the last: the flush at exit says what came since.
    for (let index = 1; index < times.length - 1; index += 1) expect(times[index]! - times[index - 1]!).toBeGreaterThanOrEqual(990);
    const each = logs.filter((line) => line.msg === 'orphan reaped');
    expect(each.length).toBe(34);
    expect(each.every((line) => line.level === 'debug' && line.code === 0)).toBe(true);
  });
});
