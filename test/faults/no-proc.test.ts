import { describe, expect, it } from 'vitest';
import { unshareArgs } from '../helpers/namespaces.js';
import { killLeftRunning, runUsher, startUsher, type LogLine } from '../helpers/usher.js';

// Without /proc (a tmpfs over it, in a mount namespace of its own) the old usher died at start
// with a stack trace and exit 1. Now it says so once, runs the app, forwards signals, stops it
// gracefully and exits with its code, degraded: no orphan reaping by scan, any listener counts.

const runs = killLeftRunning();

/** usher in a mount namespace whose /proc is an empty tmpfs. */
const NO_PROC = [...unshareArgs('--mount', '--propagation', 'private'), 'sh', '-c', 'mount -t tmpfs tmpfs /proc && exec "$@"', 'sh'];

const procWarnings = (logs: readonly LogLine[]): LogLine[] => logs.filter((line) => line.level === 'warn' && line.msg.includes('/proc'));

describe('no /proc', () => {
  it('one warning, the app runs, and usher exits with its code', async () => {
    const run = await runUsher(['--', 'sh', '-c', 'echo ran; exit 3'], { wrap: NO_PROC });
    runs.current = run;
    expect(run.code, run.stderr).toBe(3);
    expect(run.stdout).toBe('ran\n');
    expect(procWarnings(run.logs)).toHaveLength(1);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('a TERM still stops the app gracefully, with its code', async () => {
    const run = startUsher(['--', 'sh', '-c', 'trap "echo got-term; exit 7" TERM; echo up; while :; do sleep 0.1; done'], { wrap: NO_PROC });
    runs.current = run;
    await run.waitForStdout('up\n');
    await run.waitForLog('app started');
    run.kill('SIGTERM');
    const exit = await run.exited;
    expect(exit.code, run.stderr).toBe(7);
    expect(run.stdout).toContain('got-term');
    expect(procWarnings(run.logs)).toHaveLength(1);
  });

  it('what the app leaves in its group gets its TERM, by a group signal (no pid of it can be known)', async () => {
    const member = '(trap "echo member-term; exit 0" TERM; echo member; while :; do sleep 0.05; done) &';
    const run = startUsher(['--grace', '10s', '--', 'sh', '-c', `${member} exit 4`], { wrap: NO_PROC });
    runs.current = run;
    await run.waitForLog(/process\(es\) left of the app: SIGTERM/);
    const exit = await run.exited;
    expect(exit.code, run.stderr).toBe(4);
    expect(run.stdout).toContain('member-term');
    expect(run.logs.some((line) => line.msg.includes('SIGKILL to what is left'))).toBe(false);
  });
});
