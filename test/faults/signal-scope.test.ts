import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { FIXTURES, eventually, killLeftRunning, processExists, startUsher, type Run } from '../helpers/usher.js';

/**
 * Fault: usher sent every forwarded signal to the app's whole process group. A prefork server's
 * workers have their own meaning for a signal meant for the master (HUP reloads gunicorn's and
 * Puma's master but kills their workers; TERM to Celery's pool loses its tasks), so a HUP to
 * reload became a restart of every worker. Now `--signals app|group|auto` (USHER_SIGNALS),
 * default auto: the group when COMMAND is a shell or a script whose #! names a shell (an
 * entrypoint script without `exec` never passes TERM on), the app's process alone otherwise;
 * -c is "app", tini's -g "group". SIGKILL at the grace end and the clean-up of what is left
 * reach the whole tree whatever the scope.
 */
const PREFORK = path.join(FIXTURES, 'prefork-app.mjs');
const RECORDER = path.join(FIXTURES, 'signal-recorder.mjs');
const NO_PLATFORM = { KUBERNETES_SERVICE_HOST: '', DYNO: '', USHER_SIGNALS: '', TINI_KILL_PROCESS_GROUP: '' };

const runs = killLeftRunning();
const dir = mkdtempSync(path.join(tmpdir(), 'usher-scope-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** An entrypoint script as people write them: a shell that runs the app without `exec`. */
function entrypoint(name: string, app: readonly string[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\n# no exec: sh stays the parent of the app, and a TERM to sh alone ends sh, not the app\n${app.join(' ')}\n`);
  chmodSync(file, 0o755);
  return file;
}

function start(args: readonly string[], env: NodeJS.ProcessEnv = {}): Run {
  runs.current = startUsher(args, { env: { ...NO_PLATFORM, ...env } });
  return runs.current;
}

/** Both processes of the prefork app are up with their handlers in place: their pids. */
async function preforkReady(run: Run): Promise<{ parent: number; worker: number }> {
  const parent = Number(/parent ready (\d+)/.exec(await run.waitForStdout(/parent ready \d+\n/))![1]);
  const worker = Number(/worker ready (\d+)/.exec(await run.waitForStdout(/worker ready \d+\n/))![1]);
  return { parent, worker };
}

/** The `signals` field of the start-up line: which scope and why. */
async function scopeLine(run: Run): Promise<unknown> {
  return (await run.waitForLog((line) => typeof line.signals === 'string')).signals;
}

/**
 * Proves the worker did not get `name`: the group signal, had there been one, was made pending
 * in every member by usher's kill() before the parent could print its own line. A USR2 sent to
 * the worker now is taken after a HUP still pending (the kernel delivers the lower number
 * first; one already taken was printed already), and the worker prints its lines in order, so
 * once "worker SIGUSR2" shows, "worker SIGHUP" would be above it.
 */
async function workerDidNotGet(run: Run, worker: number, name: string): Promise<void> {
  process.kill(worker, 'SIGUSR2');
  await run.waitForStdout('worker SIGUSR2\n');
  expect(run.stdout).not.toContain(`worker ${name}\n`);
}

describe('--signals auto (the default): the app alone unless COMMAND is a shell or a shell script', () => {
  it('a node COMMAND: HUP reaches the prefork parent only, not its worker', async () => {
    const run = start(['--', 'node', PREFORK]);
    const { worker } = await preforkReady(run);
    run.kill('SIGHUP');
    await run.waitForStdout('parent SIGHUP\n');
    await workerDidNotGet(run, worker, 'SIGHUP');
    expect(await scopeLine(run)).toBe('app only (node is not a shell script)');
  });

  it('an entrypoint shell script without exec: TERM reaches the node app it runs (auto -> group)', async () => {
    const script = entrypoint('entry-auto.sh', ['node', RECORDER, '--exit-on', 'SIGTERM']);
    const run = start(['--', script]);
    await run.waitForStdout('ready');
    run.kill('SIGTERM');
    await run.waitForStdout('SIGTERM\n');
    const exit = await run.exited;
    // sh itself died of the TERM (it has no handler); usher exits with its code.
    expect(exit.code).toBe(143);
    expect(run.logs.some((line) => /grace period .* over/.test(line.msg))).toBe(false);
    expect(await scopeLine(run)).toBe(`process group (${script} is a shell script (#! sh))`);
  });
});

describe('--signals group, and tini\'s -g: the whole process group', () => {
  it.each([
    { how: '--signals group', args: ['--signals', 'group'], env: {} },
    { how: '-g', args: ['-g'], env: {} },
    { how: 'USHER_SIGNALS=group', args: [], env: { USHER_SIGNALS: 'group' } },
  ])('$how: HUP reaches the parent and its worker', async ({ args, env }) => {
    const run = start([...args, '--', 'node', PREFORK], env);
    await preforkReady(run);
    run.kill('SIGHUP');
    await run.waitForStdout('parent SIGHUP\n');
    await run.waitForStdout('worker SIGHUP\n');
    expect(await scopeLine(run)).toMatch(/^process group \(/);
  });
});

describe('--signals app: the app\'s process alone; SIGKILL at the grace end reaches everything', () => {
  it('the entrypoint script without exec: the node app gets no TERM, and is SIGKILLed at the grace end (5 runs)', async () => {
    // Five runs, since a TERM that reaches the node app anyway has depended on timing: at the
    // stop, usher also sends TERM to the orphans it adopted, right after the stop signal, and sh,
    // ended by that signal, may by then have left the node app to usher (a child subreaper).
    const script = entrypoint('entry-app.sh', ['node', RECORDER]);
    for (let round = 1; round <= 5; round += 1) {
      const run = start(['--signals', 'app', '--grace', '400ms', '--', script]);
      const appPid = Number(/ready (\d+)/.exec(await run.waitForStdout(/ready \d+\n/))![1]);
      expect(await scopeLine(run)).toBe('app only (--signals app)');
      run.kill('SIGTERM');
      await run.waitForLog('sending SIGTERM to the app');
      await run.waitForLog('grace period of 400ms over: SIGKILL to what is left');
      const exit = await run.exited;
      // The TERM went to sh alone, which died of it: usher's code is sh's.
      expect(exit.code).toBe(143);
      expect(run.stdout, `round ${round}`).not.toContain('SIGTERM');
      expect(processExists(appPid)).toBe(false);
    }
  });

  it('-c is "app": HUP reaches the prefork parent only', async () => {
    const run = start(['-c', '--', 'node', PREFORK]);
    const { worker } = await preforkReady(run);
    run.kill('SIGHUP');
    await run.waitForStdout('parent SIGHUP\n');
    await workerDidNotGet(run, worker, 'SIGHUP');
    expect(await scopeLine(run)).toBe('app only (--single-child)');
  });

  it('the stop signal goes to the parent only; SIGKILL at the grace end ends parent and worker', async () => {
    // Neither process exits on TERM: only the grace end's SIGKILL can end them.
    const run = start(['--signals', 'app', '--grace', '700ms', '--', 'node', PREFORK]);
    const { parent, worker } = await preforkReady(run);
    run.kill('SIGTERM');
    await run.waitForStdout('parent SIGTERM\n');
    await workerDidNotGet(run, worker, 'SIGTERM');
    await run.waitForLog('grace period of 700ms over: SIGKILL to what is left');
    const exit = await run.exited;
    expect(exit.code).toBe(137);
    expect(processExists(parent)).toBe(false);
    // The worker was reaped by usher (its orphan) or is on its way; bounded.
    await eventually(() => !processExists(worker), 'the worker to be gone', 5000);
  });

  it('the clean-up of what is left reaches the worker when the parent exits on its own', async () => {
    const run = start(['--signals', 'app', '--', 'node', PREFORK, '--exit-on', 'SIGUSR1', '--worker-exit-on', 'SIGTERM']);
    const { worker } = await preforkReady(run);
    // USR1 goes to the parent alone (scope app), which exits 0 and leaves its worker behind.
    run.kill('SIGUSR1');
    await run.waitForStdout('parent SIGUSR1\n');
    await run.waitForLog('process(es) left of the app: SIGTERM');
    await run.waitForStdout('worker SIGTERM\n');
    const exit = await run.exited;
    expect(exit.code).toBe(0);
    expect(run.stdout).not.toContain('worker SIGUSR1');
    expect(processExists(worker)).toBe(false);
  });
});
