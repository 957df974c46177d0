import { unshareArgs } from '../helpers/namespaces.js';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eventually, startUsher, zombieChildren, killLeftRunning, type Run } from '../helpers/usher.js';

const runs = killLeftRunning();

function reapedTotal(run: Run): number {
  const lines = run.logs.filter((line) => line.msg === 'orphans reaped');
  return lines.length ? Number(lines[lines.length - 1]!.total) : 0;
}

describe('reaping orphans as a child subreaper (usher is not PID 1)', () => {
  it('adopts and reaps an orphan while the app keeps running', async () => {
    // The inner shell exits at once, leaving `sleep 0.2` an orphan that usher adopts.
    const run = startUsher(['--', 'sh', '-c', "sh -c 'sleep 0.2 & echo $!'; exec sleep 1000"]);
    runs.current = run;
    const orphan = Number((await run.waitForStdout(/^\d+\n/)).trim());
    const reaped = await run.waitForLog('orphans reaped');
    expect(reaped.pids).toContain(orphan);
    expect(zombieChildren(run.pid)).toEqual([]);
    expect(run.child.exitCode).toBeNull();
  });

  it('leaves zero zombies after a burst of 2,000 orphans', async () => {
    const burst = 'i=0; while [ $i -lt 2000 ]; do (true &); i=$((i+1)); done; echo burst-done; exec sleep 1000';
    const run = startUsher(['--', 'sh', '-c', burst]);
    runs.current = run;
    await run.waitForStdout('burst-done', 120_000);
    await eventually(() => reapedTotal(run) >= 2000, '2,000 orphans reaped', 60_000);
    expect(zombieChildren(run.pid)).toEqual([]);
    expect(reapedTotal(run)).toBe(2000);
  });
});

/** A PID namespace of its own, with /proc mounted for it; through a user namespace when not root. */
const PID_NAMESPACE = unshareArgs('--pid', '--fork', '--mount-proc');

/** usher inside the namespace: the child of `unshare --fork`. */
function childOf(pid: number): number | undefined {
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const first = readFileSync(`/proc/${pid}/task/${task}/children`, 'latin1').trim().split(' ')[0];
    if (first) return Number(first);
  }
  return undefined;
}

describe('as PID 1 in a real PID namespace', () => {
  const startAsPid1 = (script: string): Run => {
    runs.current = startUsher(['--', 'sh', '-c', script], { wrap: PID_NAMESPACE });
    return runs.current;
  };

  it('is PID 1, and reaps orphans so that none is left a zombie', async () => {
    const script = [
      'echo "usher-pid=$PPID"',
      'i=0; while [ $i -lt 200 ]; do (true &); i=$((i+1)); done',
      // Count zombies in the namespace until none is left (bounded: 10 s).
      'n=0; while [ $n -lt 200 ]; do z=$(cat /proc/[0-9]*/stat 2>/dev/null | grep -c ") Z "); [ "$z" -eq 0 ] && break; n=$((n+1)); sleep 0.05; done',
      'echo "zombies=$z"',
    ].join('\n');
    const run = startAsPid1(script);
    const exit = await run.exited;
    expect(run.stdout).toContain('usher-pid=1\n');
    expect(run.stdout).toContain('zombies=0\n');
    expect(run.logs.some((line) => line.msg === 'app started' && line.role === 'pid1')).toBe(true);
    expect(exit.code).toBe(0);
  });

  it('holds a handler for signals as PID 1: forwards them and stops gracefully on TERM', async () => {
    const run = startAsPid1('trap "echo got-usr1" USR1; trap "echo got-term; exit 3" TERM; echo ready; while :; do sleep 0.05; done');
    await run.waitForStdout('ready');
    const usher = await eventually(() => childOf(run.pid), 'usher inside the namespace');
    process.kill(usher, 'SIGUSR1');
    await run.waitForStdout('got-usr1');
    process.kill(usher, 'SIGTERM');
    const exit = await run.exited;
    expect(run.stdout).toContain('got-term');
    expect(exit.code).toBe(3);
  });
});
