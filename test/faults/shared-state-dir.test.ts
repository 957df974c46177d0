import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually, killLeftRunning, ROOT, startUsher } from '../helpers/usher.js';

// Two ushers on one state directory (two Procfile lines under foreman, both on the default). The
// old second usher overwrote the first's state.json and markers: the probes of the directory
// flipped from the first (ready) to the second (not ready). Now the second sees the first's lock,
// says so, and keeps its state in a directory of its own inside.

const runs = killLeftRunning();
const USHER_PROBE = path.join(ROOT, 'bin/usher-probe');

const probeReady = (dir: string): number | null => spawnSync(USHER_PROBE, ['ready', dir]).status;

describe('two ushers on one state directory', () => {
  it('the second uses a directory of its own, says which, and never clobbers the first', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'usher-shared-'));
    const first = startUsher(['--state-dir', dir, '--', 'sleep', '300']);
    runs.current = first;
    await eventually(() => probeReady(dir) === 0, 'the first usher to be ready');

    // The second is never ready: its check always fails.
    const second = startUsher(['--state-dir', dir, '--ready-cmd', 'exit 1', '--check-failures', '1', '--', 'sleep', '300']);
    runs.current = second;
    const warning = await second.waitForLog((line) => line.level === 'warn' && typeof line.heldBy === 'string');
    expect(warning.heldBy).toBe(String(first.pid));
    const own = path.join(dir, String(second.pid));
    expect(warning.dir).toBe(own);
    await second.waitForLog(/readiness check .* failing/);
    // Its own state says not ready; the shared directory still answers for the first.
    await eventually(() => existsSync(path.join(own, 'state.json')), 'the second usher\'s state in its own directory');
    expect(probeReady(own)).toBe(3); // a check is failing: its own state
    expect(probeReady(dir)).toBe(0);
    expect(first.child.exitCode).toBeNull();
    // Its directory goes with it (a Procfile restarted all day would fill the shared one); the first's stays.
    second.kill('SIGTERM');
    expect((await second.exited).code).toBe(143);
    expect(existsSync(own)).toBe(false);
    expect(probeReady(dir)).toBe(0);
  });
});
