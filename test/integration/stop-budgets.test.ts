import { chmodSync, existsSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readStat } from '../../src/sys/proc.js';
import { freshRootArgs, IS_ROOT } from '../helpers/namespaces.js';
import { eventually, killLeftRunning, killRun, startUsher, type LogLine, type Run } from '../helpers/usher.js';

// Each runner's stop budget, found from the marks it leaves (its environment, its files, its
// process), with real processes: usher warns at start when drain + grace do not fit, naming
// the setting to raise.

const runs = killLeftRunning();
/** Whatever marks the test's own environment carries are not this test's platform. */
const NO_MARKS = { KUBERNETES_SERVICE_HOST: '', DYNO: '', PS: '', TMUX: '', OVERMIND_TIMEOUT: '', INVOCATION_ID: '', container: '' };
const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  made.push(dir);
  return dir;
};

function start(args: readonly string[], env: NodeJS.ProcessEnv, wrap?: readonly string[]): Run {
  runs.current = startUsher(['--state-dir', tempDir('usher-budget-state-'), ...args, '--', 'sleep', '30'], { env: { ...NO_MARKS, ...env }, ...(wrap ? { wrap } : {}) });
  return runs.current;
}

const isBudgetWarning = (line: LogLine): boolean => line.level === 'warn' && line.msg.includes('stop budget');

/** The start line, and the budget warning if there is one (said with the start line, so before "app exited"). */
async function startLine(run: Run): Promise<{ platform: unknown; warning: LogLine | undefined }> {
  const started = await run.waitForLog('app started');
  // usher is the app's parent; run.pid may be a process that runs it (the honcho stand-in).
  process.kill(readStat(Number(started.pid))!.ppid, 'SIGTERM');
  await run.waitForLog('app exited');
  await run.exited;
  return { platform: started.platform, warning: run.logs.find(isBudgetWarning) };
}

describe('stop budgets', () => {
  it.each([
    ['podman', { container: 'podman' }, '11s', '10s', 'podman stop\'s default -t', 'podman stop -t / podman run --stop-timeout'],
    ['foreman', { PS: 'web.1', PORT: '' }, '6s', '5s', 'foreman\'s default -t', 'foreman -t'],
    ['overmind', { TMUX: '/tmp/tmux-0/overmind-shop-x7Gq2LmN9pQ,4242,0', OVERMIND_TIMEOUT: '8' }, '9s', '8s', 'OVERMIND_TIMEOUT', 'OVERMIND_TIMEOUT'],
  ] as const)('%s: found from its environment; warns when drain + grace exceed it, naming the setting', async (name, env, grace, budget, from, setting) => {
    const over = await startLine(start(['--grace', grace], env));
    expect(over.platform).toBe(name);
    expect(over.warning?.msg).toContain(`drain 0s + grace ${grace} exceed the ${name} stop budget of ${budget} (${from})`);
    expect(over.warning?.msg).toContain(setting);
    const within = await startLine(start(['--grace', budget], env));
    expect(within).toEqual({ platform: name, warning: undefined });
  });

  it('overmind without OVERMIND_TIMEOUT: its default -t of 5s', async () => {
    const { warning } = await startLine(start(['--drain', '500ms', '--grace', '5s'], { TMUX: '/tmp/tmux-0/overmind-shop-x7Gq2LmN9pQ,4242,0' }));
    expect(warning?.msg).toContain('exceed the overmind stop budget of 5s (overmind\'s default -t)');
  });

  it('honcho: found among usher\'s ancestors (it sets nothing of its own); its 5s cannot be raised', async () => {
    const bin = tempDir('usher-honcho-');
    // A process named honcho that starts usher as its child, as `python …/bin/honcho start` does.
    writeFileSync(path.join(bin, 'honcho'), '#!/bin/sh\n"$@"\n');
    chmodSync(path.join(bin, 'honcho'), 0o755);
    const { platform, warning } = await startLine(start(['--grace', '6s'], {}, [path.join(bin, 'honcho')]));
    expect(platform).toBe('honcho');
    expect(warning?.msg).toContain('exceed the honcho stop budget of 5s (honcho\'s fixed KILL_WAIT)');
    expect(warning?.msg).toContain('cannot be raised: shorten drain or grace');
  });

  it('podman: found by /run/.containerenv, in a mount namespace whose root has no /.dockerenv', async () => {
    const root = tempDir('usher-root-');
    const { platform, warning } = await startLine(start(['--grace', '12s'], {}, freshRootArgs(root, { containerenv: true })));
    expect(platform).toBe('podman');
    expect(warning?.msg).toContain('exceed the podman stop budget of 10s');
    // Without it, and without /.dockerenv: no known platform, no warning.
    const bare = await startLine(start(['--grace', '12s'], {}, freshRootArgs(tempDir('usher-root-'))));
    expect(bare).toEqual({ platform: 'unknown', warning: undefined });
  });

  it('systemd: found by INVOCATION_ID; TimeoutStopSec asked of systemctl, the 90s default when it cannot tell', async () => {
    const root = tempDir('usher-root-');
    // As root, usher runs in a cgroup named like a unit, so it has a unit to ask systemctl about;
    // this machine's systemctl cannot answer (no systemd), so the default holds.
    const unit = `usher-budget-${process.pid}.service`;
    const hierarchy = existsSync('/sys/fs/cgroup/systemd/cgroup.procs') ? '/sys/fs/cgroup/systemd' : '/sys/fs/cgroup';
    const cgroup = path.join(hierarchy, unit);
    const enter = IS_ROOT ? ['sh', '-c', `mkdir -p ${cgroup} && echo $$ > ${cgroup}/cgroup.procs && exec "$@"`, 'sh'] : [];
    const run = start(['--grace', '95s'], { INVOCATION_ID: '0123456789abcdef0123456789abcdef' }, [...enter, ...freshRootArgs(root)]);
    try {
      const warning = await run.waitForLog(isBudgetWarning);
      expect((await run.waitForLog('app started')).platform).toBe('systemd');
      expect(warning.msg).toContain('exceed the systemd stop budget of 90s (systemd\'s default TimeoutStopSec');
      if (IS_ROOT) expect(warning.msg).toContain(`systemctl could not tell ${unit}'s`);
      expect(warning.msg).toContain('TimeoutStopSec=');
    } finally {
      await killRun(run);
      // The cgroup empties as the kernel finishes the exits (no event for it): then it goes.
      if (IS_ROOT) await eventually(() => readFileSync(path.join(cgroup, 'cgroup.procs'), 'latin1') === '', 'the test cgroup empty', 5000);
      if (IS_ROOT) rmdirSync(cgroup);
    }
  });

  it('--stop-budget replaces what the platform says', async () => {
    const { warning } = await startLine(start(['--stop-budget', '20s', '--grace', '15s'], { container: 'podman' }));
    expect(warning).toBeUndefined();
    const over = await startLine(start(['--grace', '15s'], { container: 'podman', USHER_STOP_BUDGET: '12s' }));
    expect(over.warning?.msg).toContain('exceed the podman stop budget of 12s (USHER_STOP_BUDGET)');
  });
});
