import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runUsher } from '../helpers/usher.js';

describe('exit codes', () => {
  it.each([0, 1, 42, 255])('exits with the app\'s code %i', async (code) => {
    const run = await runUsher(['--', 'sh', '-c', `exit ${code}`]);
    expect(run.code).toBe(code);
    expect(run.logs.find((line) => line.msg === 'app exited')?.exitCode).toBe(code);
  });

  it('exits 128+N when signal N killed the app', async () => {
    const run = await runUsher(['--', 'sh', '-c', 'kill -KILL $$']);
    expect(run.code).toBe(137);
    const killedByTerm = await runUsher(['--', 'sh', '-c', 'kill -TERM $$']);
    expect(killedByTerm.code).toBe(143);
  });

  it('exits 127 naming a command that is not found', async () => {
    const run = await runUsher(['--', 'no-such-command-for-usher']);
    expect(run.code).toBe(127);
    expect(run.stderr).toContain('no-such-command-for-usher');
    expect(run.stderr).toContain('not found');
  });

  it('exits 127 for a missing path and 126 for a file that is not executable or a directory', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'usher-exec-'));
    const plain = path.join(dir, 'plain.sh');
    writeFileSync(plain, '#!/bin/sh\nexit 0\n');
    chmodSync(plain, 0o644);
    const missing = await runUsher(['--', path.join(dir, 'missing')]);
    expect(missing.code).toBe(127);
    const notExecutable = await runUsher(['--', plain]);
    expect(notExecutable.code).toBe(126);
    expect(notExecutable.stderr).toContain('plain.sh');
    const directory = await runUsher(['--', dir]);
    expect(directory.code).toBe(126);
    expect(directory.stderr).toContain('is a directory');
  });

  it('runs an executable script without a #! line through /bin/sh, as a shell does', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'usher-noshebang-'));
    const script = path.join(dir, 'plain-script');
    writeFileSync(script, 'echo "no shebang $1"\nexit 4\n', { mode: 0o755 });
    const run = await runUsher(['--', script, 'here']);
    expect(run.stdout).toBe('no shebang here\n');
    expect(run.code).toBe(4);
  });

  it('exits 126 naming the command when its #! interpreter does not exist', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'usher-badinterp-'));
    const script = path.join(dir, 'bad-interpreter');
    writeFileSync(script, '#!/no/such/interpreter\n', { mode: 0o755 });
    const run = await runUsher(['--', script]);
    expect(run.code).toBe(126);
    expect(run.stderr).toContain('bad-interpreter');
  });

  it('exits 126 when a command found through PATH is not executable', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'usher-path-'));
    writeFileSync(path.join(dir, 'tool'), '#!/bin/sh\nexit 0\n', { mode: 0o644 });
    const run = await runUsher(['--', 'tool'], { env: { PATH: `${dir}:/usr/bin:/bin` } });
    expect(run.code).toBe(126);
    expect(run.stderr).toContain('tool');
  });

  it('exits 2 naming the flag and the bad value', async () => {
    const run = await runUsher(['--grace', 'soon', '--', 'true']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--grace.*"soon"/);
    const unknown = await runUsher(['--no-such-flag', '--', 'true']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--no-such-flag');
  });

  it('exits 2 naming the USHER_* variable and the bad value', async () => {
    const run = await runUsher(['--', 'true'], { env: { USHER_REWRITE: 'TERM:NOPE' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/USHER_REWRITE.*"NOPE"/);
    const drain = await runUsher(['--', 'true'], { env: { USHER_DRAIN: '-1' } });
    expect(drain.code).toBe(2);
    expect(drain.stderr).toMatch(/USHER_DRAIN.*"-1"/);
  });

  it('exits 2 when no command is given', async () => {
    const run = await runUsher([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('COMMAND');
  });

  it('remaps exit codes with --exit-map and tini\'s -e', async () => {
    expect((await runUsher(['--exit-map', '3:0', '--', 'sh', '-c', 'exit 3'])).code).toBe(0);
    expect((await runUsher(['-e', '143', '--', 'sh', '-c', 'kill -TERM $$'])).code).toBe(0);
    expect((await runUsher(['--', 'sh', '-c', 'exit 5'], { env: { USHER_EXIT_MAP: '4:0,5:9' } })).code).toBe(9);
  });

  it('applies --exit-map to 126/127, an init script\'s code and --init-only\'s, but never to exit 2', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'usher-map-'));
    const failing = path.join(dir, 'fail.sh');
    writeFileSync(failing, '#!/bin/sh\nexit 3\n', { mode: 0o755 });
    const state = ['--state-dir', dir];
    expect((await runUsher([...state, '--exit-map', '127:0', '--', 'no-such-command-here'])).code).toBe(0);
    expect((await runUsher([...state, '--exit-map', '126:5', '--', dir])).code).toBe(5);
    expect((await runUsher([...state, '--exit-map', '3:4', '--init', failing, '--', 'true'])).code).toBe(4);
    expect((await runUsher([...state, '--exit-map', '3:0', '--init-only', '--init', failing])).code).toBe(0);
    expect((await runUsher([...state, '--exit-map', '2:0', '--grace', 'soon', '--', 'true'])).code).toBe(2);
  });

  it('prints help on --help and exits 0 without running anything', async () => {
    const run = await runUsher(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('--drain <DURATION>');
    expect(run.stdout).toContain('USHER_DRAIN');
  });
});
