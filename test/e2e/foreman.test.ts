import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, FIXTURES, USHER } from '../helpers/usher.js';

// usher under real foreman, as a Procfile line runs it: Ctrl-C (INT to the terminal's process
// group, then foreman's own TERM) must stop the app gracefully within foreman's 5 s, and a grace
// that does not fit must be said at start.

if (spawnSync('foreman', ['version']).status !== 0) throw new Error('foreman is needed for this test: apt-get install ruby-foreman');

const APP = path.join(FIXTURES, 'graceful-app.mjs');
/** foreman's default -t: after it, SIGKILL. */
const FOREMAN_TIMEOUT_MS = 5000;

interface Foreman {
  readonly child: ChildProcess;
  output: string;
  readonly exited: Promise<number | null>;
}

const started: Foreman[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const foreman of started.splice(0)) {
    if (foreman.child.exitCode === null && foreman.child.signalCode === null) {
      try {
        process.kill(-foreman.child.pid!, 'SIGKILL'); // foreman's group: foreman and usher (the app has a session of its own)
      } catch {
        // gone
      }
      await foreman.exited;
    }
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** `foreman start` on a one-line Procfile, in a process group of its own, as a terminal's foreground job would be. */
function foremanStart(usherArgs: readonly string[]): Foreman {
  const dir = mkdtempSync(path.join(tmpdir(), 'usher-foreman-'));
  dirs.push(dir);
  writeFileSync(path.join(dir, 'Procfile'), `web: ${[USHER, '--state-dir', dir, ...usherArgs, '--', process.execPath, APP].join(' ')}\n`);
  const env = { ...process.env, KUBERNETES_SERVICE_HOST: '', DYNO: '', INVOCATION_ID: '', TMUX: '', container: '' };
  const child = spawn('foreman', ['start', '-f', path.join(dir, 'Procfile'), '-d', dir], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env });
  const foreman: Foreman = { child, output: '', exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
  child.stdout!.setEncoding('utf8').on('data', (text: string) => (foreman.output += text));
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (foreman.output += text));
  started.push(foreman);
  return foreman;
}

/** usher's JSON lines, as foreman prefixes them (`12:00:00 web.1  | {...}`). */
function usherLines(output: string): Record<string, unknown>[] {
  return output.split('\n').flatMap((line) => {
    const json = line.slice(line.indexOf('| ') + 2);
    try {
      return json.startsWith('{') ? [JSON.parse(json) as Record<string, unknown>] : [];
    } catch {
      return [];
    }
  });
}

describe('under foreman', () => {
  it('stops the app gracefully on Ctrl-C (INT, then foreman\'s TERM), well within foreman\'s timeout', async () => {
    const foreman = foremanStart(['--grace', '3s']);
    await eventually(() => /\| ready \d+/.test(foreman.output), 'the app ready under foreman', 20_000);
    expect(usherLines(foreman.output).find((line) => line.msg === 'app started')).toMatchObject({ platform: 'foreman' });
    const interrupted = Date.now();
    process.kill(-foreman.child.pid!, 'SIGINT'); // Ctrl-C: the terminal signals its foreground process group
    const code = await foreman.exited;
    const tookMs = Date.now() - interrupted;
    expect(tookMs).toBeLessThan(FOREMAN_TIMEOUT_MS);
    expect(foreman.output).toContain('SIGINT received, starting shutdown');
    expect(foreman.output).not.toContain('sending SIGKILL');
    expect(foreman.output).toContain('| SIGINT: stopping gracefully');
    expect(foreman.output).toContain('| stopped cleanly');
    const lines = usherLines(foreman.output);
    expect(lines.find((line) => line.msg === 'app exited')).toMatchObject({ code: 0, exitCode: 0 });
    expect(lines.some((line) => line.level === 'warn' && String(line.msg).includes('stop budget'))).toBe(false);
    expect(code).toBe(0);
  });

  it('warns at start when --grace exceeds foreman\'s 5 s, naming foreman -t', async () => {
    const foreman = foremanStart(['--grace', '25s']);
    await eventually(() => /\| ready \d+/.test(foreman.output), 'the app ready under foreman', 20_000);
    const warning = usherLines(foreman.output).find((line) => line.level === 'warn' && String(line.msg).includes('stop budget'));
    expect(warning?.msg).toContain('drain 0s + grace 25s exceed the foreman stop budget of 5s (foreman\'s default -t)');
    expect(warning?.msg).toContain('raise foreman -t');
    process.kill(-foreman.child.pid!, 'SIGINT');
    expect(await foreman.exited).toBe(0);
  });
});
