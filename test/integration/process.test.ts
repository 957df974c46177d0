import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually, processExists, ROOT, runUsher, startUsher, USHER, killLeftRunning } from '../helpers/usher.js';

const runs = killLeftRunning();

describe('stdio and argv', () => {
  it('passes a 10 MB binary stream through stdin and stdout unchanged', async () => {
    const data = randomBytes(10 * 1024 * 1024);
    const child = spawn(USHER, ['--log-level', 'warn', '--', 'cat'], { stdio: ['pipe', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stdin.end(data);
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(0);
    expect(Buffer.concat(chunks).equals(data)).toBe(true);
  });

  it('gives the app the very stdin, stdout and stderr usher has, not copies through Node', async () => {
    const run = startUsher(['--', 'sleep', '30']);
    runs.current = run;
    const started = await run.waitForLog('app started');
    const app = started.pid as number;
    for (const fd of [0, 1, 2]) expect(readlinkSync(`/proc/${app}/fd/${fd}`)).toBe(readlinkSync(`/proc/${run.pid}/fd/${fd}`));
  });

  it('keeps stderr of the app separate from stdout', async () => {
    const run = await runUsher(['--', 'sh', '-c', 'echo out; echo err >&2']);
    expect(run.stdout).toBe('out\n');
    expect(run.stderr).toContain('err\n');
  });

  it('passes argv with spaces, quotes and unicode as it is', async () => {
    const args = ['two words', '"double"', "'single'", 'ünïcødé ✓ 日本', '', '--not-an-option', '$HOME'];
    const run = await runUsher(['--', 'node', '-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', ...args]);
    expect(JSON.parse(run.stdout)).toEqual(args);
  });

  it('treats options after COMMAND as the app\'s, even without --', async () => {
    const run = await runUsher(['sh', '-c', 'echo "$0 $1"', '-v', '--grace']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('-v --grace\n');
  });
});

describe('what the app inherits', () => {
  it('leaks no file descriptor into the app, not even one usher inherited', async () => {
    const child = spawn(USHER, ['--', 'sleep', '30'], { stdio: ['pipe', 'pipe', 'pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (text: Buffer) => (stderr += text.toString()));
    const app = Number(await eventually(() => /"pid":(\d+),.*"msg":"app started"/.exec(stderr)?.[1], 'app started'));
    try {
      expect(readdirSync(`/proc/${app}/fd`).sort()).toEqual(['0', '1', '2']);
    } finally {
      process.kill(-app, 'SIGKILL'); // the app's group: killing usher alone would orphan it
      child.kill('SIGKILL');
    }
  });

  it('gives the app NODE_OPTIONS unchanged while usher\'s own Node ignores it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'usher-nodeopts-'));
    const marker = path.join(dir, 'loaded-by');
    const preload = path.join(dir, 'preload.cjs');
    writeFileSync(preload, `require('fs').appendFileSync(${JSON.stringify(marker)}, process.pid + '\\n');\n`);
    const options = `--require ${preload} --max-old-space-size=4096`;
    const run = await runUsher(['--', 'node', '-e', 'process.stdout.write(process.pid + " " + process.env.NODE_OPTIONS)'], { env: { NODE_OPTIONS: options } });
    const [appPid, ...rest] = run.stdout.split(' ');
    expect(rest.join(' ')).toBe(options);
    expect(readFileSync(marker, 'utf8').trim().split('\n')).toEqual([appPid]);
    expect(run.stdout).not.toContain(String(run.pid));
  });

  it('leaves NODE_OPTIONS unset for the app when it was unset', async () => {
    const env = { ...process.env };
    delete env.NODE_OPTIONS;
    const run = await runUsher(['--', 'node', '-e', 'process.stdout.write(String("NODE_OPTIONS" in process.env))'], { env });
    expect(run.stdout).toBe('false');
  });

  it('runs the app in the start directory but keeps none busy itself', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'usher-cwd-'));
    const run = startUsher(['--', 'sleep', '30'], { cwd: dir });
    runs.current = run;
    const app = (await run.waitForLog('app started')).pid as number;
    expect(readlinkSync(`/proc/${app}/cwd`)).toBe(dir);
    await eventually(() => readlinkSync(`/proc/${run.pid}/cwd`) === '/', 'usher to leave its start directory');
  });

  it('starts the app in a session and process group of its own', async () => {
    const run = startUsher(['--', 'sleep', '30']);
    runs.current = run;
    const app = (await run.waitForLog('app started')).pid as number;
    const stat = readFileSync(`/proc/${app}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    expect(Number(fields[2])).toBe(app); // pgrp
    expect(Number(fields[3])).toBe(app); // session
  });
});

describe('leftovers of the app\'s process group', () => {
  it('SIGTERMs what is left of the group when the app exits, then exits with the app\'s code', async () => {
    const run = await runUsher(['--', 'sh', '-c', 'sleep 1000 & echo $!; exit 7']);
    const sleeper = Number(run.stdout.trim());
    expect(run.code).toBe(7);
    expect(run.logs.some((line) => /left of the app: SIGTERM/.test(line.msg))).toBe(true);
    expect(processExists(sleeper)).toBe(false);
  });

  it('SIGKILLs a leftover that ignores SIGTERM once the grace period is over', async () => {
    const run = await runUsher(['--grace', '500ms', '--', 'sh', '-c', '(trap "" TERM; exec sleep 1000) & echo $!; exit 0']);
    const sleeper = Number(run.stdout.trim());
    expect(run.code).toBe(0);
    expect(run.logs.some((line) => /grace period of 500ms over: SIGKILL/.test(line.msg))).toBe(true);
    expect(processExists(sleeper)).toBe(false);
  });
});

describe('when usher itself fails', () => {
  it('kills the app\'s group and exits 1 with the error', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'usher-fault-'));
    const fault = path.join(dir, 'fault.cjs');
    // A real exception on usher's own event loop, thrown once the app runs.
    writeFileSync(fault, "setTimeout(() => { throw new Error('injected fault') }, 300);\n");
    const child = spawn(process.execPath, ['--require', fault, path.join(ROOT, 'dist/usher.cjs'), '--', 'sh', '-c', 'sleep 1000 & echo $!; wait'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (text: Buffer) => (stdout += text.toString()));
    child.stderr.on('data', (text: Buffer) => (stderr += text.toString()));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toContain('injected fault');
    expect(stderr).toContain('usher failed: killing the app');
    const sleeper = Number(stdout.trim());
    await eventually(() => !processExists(sleeper), 'the app\'s group to be gone');
  });
});

describe('without koffi', () => {
  it('warns once and runs the app all the same', async () => {
    // A copy of usher where koffi cannot be found: what a broken install or an odd libc gives.
    const dir = mkdtempSync(path.join(tmpdir(), 'usher-nokoffi-'));
    cpSync(path.join(ROOT, 'bin'), path.join(dir, 'bin'), { recursive: true });
    cpSync(path.join(ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
    const child = spawn(path.join(dir, 'bin/usher'), ['--', 'sh', '-c', 'echo ran; exit 3'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (text: Buffer) => (stdout += text.toString()));
    child.stderr.on('data', (text: Buffer) => (stderr += text.toString()));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(3);
    expect(stdout).toBe('ran\n');
    const warnings = stderr.split('\n').filter((line) => line.includes('"level":"warn"'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('koffi could not load');
  });
});
