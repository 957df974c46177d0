import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { unshareArgs } from '../helpers/namespaces.js';
import { eventually, killLeftRunning, processExists, startUsher } from '../helpers/usher.js';

// Nothing left behind, and never unsupervised. The old usher let a daemon that left the app's
// session with setsid and ignored TERM outlive it (not PID 1), killed it without a TERM (PID 1),
// leaked one escaped process per check run and per failed init script until its own exit, and a
// SIGKILLed usher left the app running, unsupervised. Every daemon here is a real setsid
// process that ignores TERM, and so does its child.

const runs = killLeftRunning();

/**
 * A shell line that starts a setsid daemon recording TERM in $1 and ignoring it, with a child that
 * ignores TERM; prints both pids. The daemon waits in the `wait` builtin, which a trapped signal
 * interrupts at once (a foreground `sleep` would hold the trap until it ends), then waits again
 * (the short sleep keeps it from spinning should the child be gone).
 */
const DAEMON = `setsid sh -c 'trap "echo TERM >> $1" TERM; (trap "" TERM; exec sleep 300) & echo "daemon $$ $!"; while :; do wait; sleep 0.05; done' sh`;

function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'usher-leftovers-'));
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Pids a run's app printed as `daemon PID CHILD`. */
function daemonPids(stdout: string): number[] {
  return [...stdout.matchAll(/daemon (\d+) (\d+)/g)].flatMap((match) => [Number(match[1]), Number(match[2])]);
}

describe('an adopted daemon that ignores TERM', () => {
  it('not PID 1: gets TERM at the stop, SIGKILL at the grace end, and usher exits only once it is gone', async () => {
    const dir = tempDir();
    const termLog = path.join(dir, 'term');
    // The app starts the daemon, then runs in the foreground until the stop.
    const run = startUsher(['--grace', '1s', '--', 'sh', '-c', `${DAEMON} ${termLog} & exec sleep 300`]);
    runs.current = run;
    const stdout = await run.waitForStdout(/daemon \d+ \d+\n/);
    const pids = daemonPids(stdout);
    await run.waitForLog('app started');
    run.kill('SIGTERM');
    const exit = await run.exited;
    expect(exit.code).toBe(143); // the app's code (sleep killed by TERM), not the daemon's
    expect(read(termLog)).toContain('TERM'); // it was asked first
    for (const pid of pids) expect(processExists(pid)).toBe(false); // and gone when usher is
  });

  it('not PID 1: when the app exits on its own, usher waits for the daemon, TERM then SIGKILL, and exits with the app\'s code', async () => {
    const dir = tempDir();
    const termLog = path.join(dir, 'term');
    const run = startUsher(['--grace', '1s', '--', 'sh', '-c', `${DAEMON} ${termLog} & read line; exit 3`]);
    runs.current = run;
    const pids = daemonPids(await run.waitForStdout(/daemon \d+ \d+\n/));
    run.child.stdin!.end('go\n');
    const exit = await run.exited;
    expect(exit.code).toBe(3);
    expect(read(termLog)).toContain('TERM');
    for (const pid of pids) expect(processExists(pid)).toBe(false);
  });

  it('as PID 1: gets the same TERM and grace before it goes with the namespace', async () => {
    const dir = tempDir();
    const termLog = path.join(dir, 'term');
    const run = startUsher(['--grace', '1s', '--', 'sh', '-c', `${DAEMON} ${termLog} & read line; exit 0`], {
      wrap: unshareArgs('--pid', '--fork', '--mount-proc'),
    });
    runs.current = run;
    await run.waitForStdout(/daemon \d+ \d+\n/);
    run.child.stdin!.end('go\n');
    const exit = await run.exited;
    expect(exit.code).toBe(0);
    expect(read(termLog)).toContain('TERM');
  });
});

describe('what a check or an init script leaves behind with setsid', () => {
  it('a check\'s escaped process is killed when that run ends, not at usher\'s exit', async () => {
    const dir = tempDir();
    const pidFile = path.join(dir, 'escaped');
    // Each run leaves a setsid sleep behind and fails; until it fails for good it runs every second.
    const check = `setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $! >> ${pidFile}; exit 1`;
    const run = startUsher(['--state-dir', dir, '--ready-cmd', check, '--check-failures', '10', '--', 'sleep', '300']);
    runs.current = run;
    const pids = (): number[] => read(pidFile).split('\n').filter(Boolean).map(Number);
    await eventually(() => pids().length >= 3, 'three runs of the check', 20_000);
    // The first two runs have ended: their escapees must already be gone, while usher runs on.
    for (const pid of pids().slice(0, 2)) await eventually(() => !processExists(pid), `escapee ${pid} to be gone`, 3_000);
    expect(run.child.exitCode).toBeNull();
  });

  it('an init script\'s escaped process is killed when the script ends, with --on-init-failure unready', async () => {
    const dir = tempDir();
    const script = path.join(dir, 'init.sh');
    const pidFile = path.join(dir, 'escaped');
    writeFileSync(script, `#!/bin/sh\nsetsid sleep 300 </dev/null >/dev/null 2>&1 &\necho $! > ${pidFile}\nexit 1\n`);
    chmodSync(script, 0o755);
    const run = startUsher(['--state-dir', dir, '--init', script, '--on-init-failure', 'unready', '--', 'sleep', '300']);
    runs.current = run;
    await run.waitForLog('app started');
    const escaped = Number(await eventually(() => read(pidFile).trim() || undefined, 'the init script to run'));
    await eventually(() => !processExists(escaped), 'the escapee to be gone', 3_000);
    expect(run.child.exitCode).toBeNull(); // the app runs on, unready
  });
});

describe('usher SIGKILLed while not PID 1', () => {
  it('the app, and its process group, die with it', async () => {
    const run = startUsher(['--', 'sh', '-c', 'trap "" TERM; sleep 300 & echo "child $!"; wait']);
    runs.current = run;
    const app = Number((await run.waitForLog('app started')).pid);
    const child = Number(/child (\d+)/.exec(await run.waitForStdout(/child \d+\n/))![1]);
    expect(processExists(app)).toBe(true);
    process.kill(run.pid, 'SIGKILL');
    await run.exited;
    await eventually(() => !processExists(app) && !processExists(child), 'the app and its child to be gone', 5_000);
  });
});

describe('the guardian killed by someone else', () => {
  it('is named (the app is unguarded from then on), and usher runs on to exit with the app\'s code', async () => {
    const run = startUsher(['--log-level', 'debug', '--', 'sh', '-c', 'trap "exit 7" TERM; sleep 300 & wait']);
    runs.current = run;
    const guardian = Number((await run.waitForLog('guardian started: the app dies with usher, even if usher is SIGKILLed')).pid);
    process.kill(guardian, 'SIGKILL');
    const warning = await run.waitForLog(/^the guardian exited/, 5_000);
    expect(warning.pid).toBe(guardian);
    expect(warning.level).toBe('warn');
    process.kill(run.pid, 'SIGTERM');
    expect((await run.exited).code).toBe(7);
  });
});
