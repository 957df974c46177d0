import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually, FIXTURES, processExists, startUsher, killLeftRunning, type Run } from '../helpers/usher.js';

const RECORDER = path.join(FIXTURES, 'signal-recorder.mjs');
const NO_PLATFORM = { KUBERNETES_SERVICE_HOST: '', DYNO: '' };

const runs = killLeftRunning();

function start(args: readonly string[], env: NodeJS.ProcessEnv = {}): Run {
  runs.current = startUsher(args, { env: { ...NO_PLATFORM, ...env } });
  return runs.current;
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

const time = (run: Run, msg: string): number => Date.parse(String(run.logs.find((line) => line.msg.includes(msg))?.time));

describe('graceful stop', () => {
  it('goes unready at once, keeps forwarding during the drain, then sends the stop signal', async () => {
    const run = start(['--drain', '1s', '--', 'node', RECORDER, '--exit-on', 'SIGTERM']);
    await run.waitForStdout('ready');
    run.kill('SIGTERM');
    await run.waitForLog('not ready from now on');
    await run.waitForLog('draining for 1s');
    run.kill('SIGHUP');
    await run.waitForStdout('SIGHUP\n');
    expect(run.stdout).not.toContain('SIGTERM');
    const exit = await run.exited;
    expect(exit.code).toBe(0);
    expect(run.stdout.split('\n').filter(Boolean).slice(1)).toEqual(['SIGHUP', 'SIGTERM']);
    const drained = time(run, 'sending SIGTERM') - time(run, 'not ready from now on');
    expect(drained).toBeGreaterThanOrEqual(950);
  });

  it('a second TERM during the drain stops the app now; one more is forwarded, and SIGKILL waits for the grace end', async () => {
    // The app ignores its stop signal (it only says so), so only SIGKILL at the grace end ends it.
    const run = start(['--drain', '30s', '--grace', '1s', '--', 'sh', '-c', 'trap "echo got-term" TERM; trap "echo got-int" INT; echo up; while :; do sleep 0.05; done']);
    await run.waitForStdout('up');
    run.kill('SIGTERM');
    await run.waitForLog('draining for 30s');
    run.kill('SIGINT');
    await run.waitForLog('received again during the drain: stopping now');
    await run.waitForStdout('got-term');
    run.kill('SIGINT');
    await run.waitForLog('SIGINT received while stopping: forwarded as SIGINT; SIGKILL at the grace end');
    await run.waitForStdout('got-int');
    await run.waitForLog('grace period of 1s over: SIGKILL to what is left');
    const exit = await run.exited;
    expect(exit.code).toBe(137);
  });

  it('exits at once with the app\'s code when the app exits on its own during the drain', async () => {
    const run = start(['--drain', '30s', '--', 'sh', '-c', 'echo up; read line; exit 4']);
    await run.waitForStdout('up');
    run.kill('SIGTERM');
    await run.waitForLog('draining for 30s');
    run.child.stdin!.end('go\n');
    const exit = await run.exited;
    expect(exit.code).toBe(4);
    expect(run.logs.some((line) => line.msg.startsWith('sending'))).toBe(false);
  });

  it('SIGKILLs the whole group when the grace period is over, and exits 137', async () => {
    const run = start(['--grace', '300ms', '--', 'sh', '-c', 'trap "" TERM; echo up; while :; do sleep 0.05; done']);
    await run.waitForStdout('up');
    run.kill('SIGTERM');
    await run.waitForLog('grace period of 300ms over');
    expect((await run.exited).code).toBe(137);
  });

  it('sends --stop-signal instead of the received one, and maps 143 to 0 with --exit-map', async () => {
    const run = start(['--stop-signal', 'QUIT', '--', 'node', RECORDER, '--exit-on', 'SIGQUIT']);
    await run.waitForStdout('ready');
    run.kill('SIGTERM');
    expect((await run.exited).code).toBe(0);
    expect(run.stdout).toContain('SIGQUIT');
    expect(run.stdout).not.toContain('SIGTERM');
    const mapped = start(['--exit-map', '143:0', '--', 'sleep', '30']);
    await mapped.waitForLog('app started');
    mapped.kill('SIGTERM');
    expect((await mapped.exited).code).toBe(0);
  });

  it('on Heroku does not send the app a second TERM: it waits, then SIGKILLs what is left', async () => {
    const run = start(['--drain', '200ms', '--grace', '300ms', '--', 'node', RECORDER], { DYNO: 'web.1' });
    await run.waitForStdout('ready');
    run.kill('SIGTERM');
    await run.waitForLog('the platform signals every process itself');
    const exit = await run.exited;
    expect(exit.code).toBe(137);
    expect(run.stdout).not.toContain('SIGTERM');
  });

  // Heroku sends TERM to every process of the dyno at once; usher adds none. A daemon usher
  // adopted (it double-forked away) records each TERM it gets, and ignores them, as does its child.
  for (const drain of ['0s', '1s']) {
    it(`on Heroku, a daemon gets the platform's TERM only, with the app exiting ${drain === '0s' ? 'during the grace' : 'during the drain'}`, async () => {
      const record = path.join(mkdtempSync(path.join(tmpdir(), 'usher-heroku-')), 'terms');
      const daemon = `setsid sh -c 'trap "echo TERM >> $1" TERM; (trap "" TERM; exec sleep 300) & echo "daemon $$ $!"; while :; do wait; sleep 0.05; done' sh ${record}`;
      const run = start(['--drain', drain, '--grace', '500ms', '--', 'sh', '-c', `(${daemon} &); trap "exit 0" TERM; while :; do sleep 0.05; done`], { DYNO: 'web.1' });
      const app = Number((await run.waitForLog('app started')).pid);
      const pids = /daemon (\d+) (\d+)/.exec(await run.waitForStdout(/daemon \d+ \d+\n/))!.slice(1).map(Number);
      // The platform's TERMs, one after another (two at once would merge into one pending signal).
      for (const pid of pids) process.kill(pid, 'SIGTERM');
      await eventually(() => read(record) === 'TERM\n', 'the daemon to record its TERM', 5_000);
      run.kill('SIGTERM');
      await run.waitForLog(drain === '0s' ? 'the platform signals every process itself' : 'not ready from now on');
      process.kill(app, 'SIGTERM');
      expect((await run.exited).code).toBe(0);
      expect(read(record)).toBe('TERM\n');
      expect(pids.filter(processExists)).toEqual([]);
    });
  }

  it('defaults the drain to 5s under Kubernetes and says so; warns when drain + grace exceed the budget', async () => {
    const run = start(['--grace', '28s', '--', 'sleep', '30'], { KUBERNETES_SERVICE_HOST: '10.0.0.1' });
    await run.waitForLog('drain defaults to 5s');
    const warning = await run.waitForLog('exceed the kubernetes stop budget of 30s');
    expect(warning.level).toBe('warn');
    expect(run.logs.find((line) => line.msg === 'app started')?.drain).toBe('5s');
  });
});
