import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually, killLeftRunning, killRun, processExists, runUsher, startUsher } from '../helpers/usher.js';

const runs = killLeftRunning();

function dir(): string {
  return mkdtempSync(path.join(tmpdir(), 'usher-init-'));
}

function script(folder: string, name: string, body: string, mode = 0o755): string {
  const file = path.join(folder, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, mode);
  return file;
}

const stateArgs = (folder: string): string[] => ['--state-dir', path.join(folder, 'state')];

describe('init scripts', () => {
  it('run in name order before the app, with their output passed through, skipping non-executables', async () => {
    const folder = dir();
    const scripts = path.join(folder, 'init.d');
    mkdirSync(scripts);
    script(scripts, '20-second.sh', 'echo second');
    script(scripts, '10-first.sh', 'echo first');
    script(scripts, '15-not-executable.sh', 'echo never', 0o644);
    const run = await runUsher([...stateArgs(folder), '--init', scripts, '--', 'echo', 'app']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('first\nsecond\napp\n');
    expect(run.logs.some((line) => line.level === 'warn' && /15-not-executable.sh is not executable: skipped/.test(line.msg))).toBe(true);
    const ended = run.logs.filter((line) => /^init script .* succeeded in/.test(line.msg));
    expect(ended.map((line) => line.script)).toEqual([path.join(scripts, '10-first.sh'), path.join(scripts, '20-second.sh')]);
    expect(ended.every((line) => typeof line.durationMs === 'number' && line.code === 0)).toBe(true);
  });

  it('before mode: the app starts only after the scripts; parallel mode: at once', async () => {
    const folder = dir();
    const gate = path.join(folder, 'gate');
    const slow = script(folder, 'slow.sh', `echo init-started; while [ ! -e ${gate} ]; do sleep 0.02; done; echo init-done`);
    const before = startUsher([...stateArgs(folder), '--init', slow, '--', 'sh', '-c', 'echo app-started; sleep 30']);
    runs.current = before;
    await before.waitForStdout('init-started');
    expect(before.stdout).not.toContain('app-started');
    writeFileSync(gate, '');
    await before.waitForStdout('app-started');
    expect(before.stdout.indexOf('init-done')).toBeLessThan(before.stdout.indexOf('app-started'));
    await killRun(before);

    const folder2 = dir();
    const gate2 = path.join(folder2, 'gate');
    const slow2 = script(folder2, 'slow.sh', `echo init-started; while [ ! -e ${gate2} ]; do sleep 0.02; done; echo init-done`);
    const parallel = startUsher([...stateArgs(folder2), '--init', slow2, '--init-mode', 'parallel', '--', 'sh', '-c', 'echo app-started; sleep 30']);
    runs.current = parallel;
    await parallel.waitForStdout('app-started');
    await parallel.waitForStdout('init-started');
    expect(parallel.stdout).not.toContain('init-done');
    writeFileSync(gate2, '');
    await parallel.waitForLog('init scripts succeeded');
  });

  it('a failing script makes usher exit with its code, and the app never starts (policy exit)', async () => {
    const folder = dir();
    const run = await runUsher([...stateArgs(folder), '--init', script(folder, 'fail.sh', 'exit 7'), '--', 'sh', '-c', 'echo app-started']);
    expect(run.code).toBe(7);
    expect(run.stdout).not.toContain('app-started');
    expect(run.logs.some((line) => line.msg === 'init script fail.sh failed with exit code 7')).toBe(true);
  });

  it('a script past --init-timeout has its whole process group stopped: no residue', async () => {
    const folder = dir();
    const pidFile = path.join(folder, 'sleeper.pid');
    const hang = script(folder, 'hang.sh', `sleep 1000 & echo $! > ${pidFile}; trap '' TERM; while :; do sleep 0.05; done`);
    const run = await runUsher([...stateArgs(folder), '--init', hang, '--init-timeout', '300ms', '--grace', '300ms', '--', 'echo', 'app']);
    expect(run.logs.some((line) => /init script hang.sh timed out after 300ms/.test(line.msg))).toBe(true);
    expect(run.code).toBe(137); // the script ignored TERM, so SIGKILL ended it
    expect(run.stdout).not.toContain('app');
    const sleeper = Number(readFileSync(pidFile, 'utf8'));
    await eventually(() => !processExists(sleeper), 'the script\'s sleeper to be gone');
  });

  it('--init-only runs the scripts and exits with their result, without a COMMAND', async () => {
    const folder = dir();
    const ok = await runUsher([...stateArgs(folder), '--init-only', '--init', script(folder, 'ok.sh', 'echo migrated')]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe('migrated\n');
    const failed = await runUsher([...stateArgs(folder), '--init-only', '--init', script(folder, 'bad.sh', 'exit 9')], { env: { USHER_INIT_ONLY: '' } });
    expect(failed.code).toBe(9);
    const env = await runUsher([...stateArgs(folder)], { env: { USHER_INIT_ONLY: 'true', USHER_INIT: path.join(folder, 'ok.sh') } });
    expect(env.code).toBe(0);
  });

  it('a stop during the scripts stops them, never starts the app, and exits 128+N', async () => {
    const folder = dir();
    const long = script(folder, 'long.sh', 'trap "echo script-got-term; exit 1" TERM; echo script-running; while :; do sleep 0.05; done');
    const run = startUsher([...stateArgs(folder), '--init', long, '--', 'sh', '-c', 'echo app-started']);
    runs.current = run;
    await run.waitForStdout('script-running');
    run.kill('SIGTERM');
    const exit = await run.exited;
    expect(run.stdout).toContain('script-got-term');
    expect(run.stdout).not.toContain('app-started');
    expect(exit.code).toBe(143);
  });

  it('a script past its timeout fails even if it then exits 0', async () => {
    const folder = dir();
    const sly = script(folder, 'sly.sh', "trap 'exit 0' TERM; while :; do sleep 0.05; done");
    const run = await runUsher([...stateArgs(folder), '--init', sly, '--init-timeout', '300ms', '--', 'echo', 'app']);
    expect(run.stdout).not.toContain('app');
    expect(run.code).toBe(124);
    expect(run.logs.some((line) => /^init script sly.sh timed out after 300ms$/.test(line.msg))).toBe(true);
  });

  it('--init-only with no executable script is a configuration error', async () => {
    const folder = dir();
    const empty = path.join(folder, 'init.d');
    mkdirSync(empty);
    const run = await runUsher([...stateArgs(folder), '--init-only', '--init', empty]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('no executable init script');
  });

  it('a missing --init path is a configuration error naming it', async () => {
    const run = await runUsher(['--init', '/no/such/init.d', '--', 'true']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('/no/such/init.d');
  });
});
