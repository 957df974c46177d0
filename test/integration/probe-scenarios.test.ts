import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually, killLeftRunning, killRun, ROOT, startUsher, USHER } from '../helpers/usher.js';

// Every `usher probe` exit code reached by a real usher in a real situation, and the sh twin
// bin/usher-probe agreeing with it on every probe in every one of them.

const USHER_PROBE = path.join(ROOT, 'bin/usher-probe');
const KINDS = ['startup', 'ready', 'live'] as const;
type Kind = (typeof KINDS)[number];

const runs = killLeftRunning();

function folder(): string {
  return mkdtempSync(path.join(tmpdir(), 'usher-scenario-'));
}

/** Both probes, for one kind: their codes and stderr lines (elapsed time taken out). */
function probeBoth(kind: Kind, dir: string): { node: [number | null, string]; sh: [number | null, string] } {
  const strip = (text: string) => text.trim().replace(/ for \d+[hms][\dhms]*$/, '');
  const node = spawnSync(USHER, ['probe', kind, '--state-dir', dir], { encoding: 'utf8' });
  const sh = spawnSync(USHER_PROBE, [kind, dir], { encoding: 'utf8' });
  return { node: [node.status, strip(node.stderr)], sh: [sh.status, strip(sh.stderr)] };
}

/** Waits until both probes give `expected` codes (startup, ready, live), then checks they agree. */
async function expectCodes(dir: string, expected: [number, number, number]): Promise<void> {
  await eventually(() => KINDS.every((kind, index) => probeBoth(kind, dir).node[0] === expected[index]), `probe codes ${expected.join(',')}`, 20_000);
  for (const kind of KINDS) {
    const both = probeBoth(kind, dir);
    expect(both.sh, `usher-probe ${kind} agrees with usher probe ${kind}`).toEqual(both.node);
  }
  expect(KINDS.map((kind) => probeBoth(kind, dir).sh[0])).toEqual(expected);
}

function script(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

describe('probe exit codes in real situations; usher probe and usher-probe agree', () => {
  it('1 during a slow init script (liveness 0), then 0 when running', async () => {
    const dir = folder();
    const gate = path.join(dir, 'gate');
    const init = script(dir, '10-migrate.sh', `while [ ! -e ${gate} ]; do sleep 0.02; done`);
    runs.current = startUsher(['--state-dir', dir, '--init', init, '--', 'sleep', '60']);
    await expectCodes(dir, [1, 1, 0]);
    const line = spawnSync(USHER, ['probe', 'ready', '--state-dir', dir], { encoding: 'utf8' }).stderr;
    expect(line).toMatch(/^not ready: init script 10-migrate.sh running for \d+s\n$/);
    writeFileSync(gate, '');
    await expectCodes(dir, [0, 0, 0]);
  });

  it('2 when an init script failed (policy unready)', async () => {
    const dir = folder();
    runs.current = startUsher(['--state-dir', dir, '--init', script(dir, 'fail.sh', 'exit 3'), '--on-init-failure', 'unready', '--', 'sleep', '60']);
    await expectCodes(dir, [2, 2, 0]);
  });

  it('3 when a readiness check fails, and when a liveness check fails', async () => {
    const dir = folder();
    runs.current = startUsher(['--state-dir', dir, '--check-interval', '100ms', '--check-failures', '1', '--ready-cmd', 'exit 1', '--', 'sleep', '60']);
    await expectCodes(dir, [0, 3, 0]);
    await killRun(runs.current); // usher and the app it runs, before the next usher
    const dir2 = folder();
    runs.current = startUsher(['--state-dir', dir2, '--check-interval', '100ms', '--check-failures', '1', '--live-cmd', 'exit 1', '--', 'sleep', '60']);
    await expectCodes(dir2, [0, 0, 3]);
  });

  it('4 while draining (liveness 0)', async () => {
    const dir = folder();
    runs.current = startUsher(['--state-dir', dir, '--drain', '60s', '--', 'sleep', '60']);
    await expectCodes(dir, [0, 0, 0]);
    runs.current.kill('SIGTERM');
    await runs.current.waitForLog('draining for 1m');
    await expectCodes(dir, [0, 4, 0]);
  });

  it('5 once the app exited while usher waits for what is left of its group', async () => {
    const dir = folder();
    runs.current = startUsher(['--state-dir', dir, '--grace', '60s', '--', 'sh', '-c', '(trap "" TERM; exec sleep 60) & exit 0']);
    await runs.current.waitForLog('app exited');
    await expectCodes(dir, [5, 5, 5]);
  });

  it('6 once usher is gone, and for a directory without state', async () => {
    const dir = folder();
    const run = startUsher(['--state-dir', dir, '--', 'sleep', '60']);
    runs.current = run;
    await expectCodes(dir, [0, 0, 0]);
    run.kill('SIGKILL'); // usher dies without a final word: its pid is gone, its state stays
    await run.exited;
    await expectCodes(dir, [6, 6, 6]);
    await expectCodes(folder(), [6, 6, 6]);
  });

  it('6 when the state directory cannot be written, while the app keeps running', async () => {
    const dir = folder();
    const blocker = path.join(dir, 'not-a-directory');
    writeFileSync(blocker, ''); // a file where a directory should be: unwritable even for root
    const stateDir = path.join(blocker, 'state');
    const run = startUsher(['--state-dir', stateDir, '--', 'sh', '-c', 'echo app-up; sleep 60']);
    runs.current = run;
    await run.waitForStdout('app-up');
    const error = await run.waitForLog((line) => line.level === 'error' && line.msg.includes(blocker));
    expect(error.msg).toMatch(/state/);
    expect(run.child.exitCode).toBeNull();
    await expectCodes(stateDir, [6, 6, 6]);
  });

  it('64 for a usage error, from both', () => {
    expect(spawnSync(USHER, ['probe', 'bogus']).status).toBe(64);
    expect(spawnSync(USHER_PROBE, ['bogus']).status).toBe(64);
  });
});
