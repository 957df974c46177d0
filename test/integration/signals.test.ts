import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, procState, startUsher, killLeftRunning, type Run } from '../helpers/usher.js';

const RECORDER = path.join(FIXTURES, 'signal-recorder.mjs');
const PLAIN = ['HUP', 'QUIT', 'USR1', 'USR2', 'PIPE', 'ALRM', 'CONT', 'URG', 'XCPU', 'XFSZ', 'VTALRM', 'PROF', 'WINCH', 'IO', 'PWR', 'SYS'] as const;

const runs = killLeftRunning();

/** Node's inspector: 127.0.0.1:9229 when SIGUSR1 opens it. */
const INSPECTOR_PORT = 9229;

/** A TCP socket in LISTEN state (0A) on the port, IPv4 or IPv6, from /proc/net/tcp{,6}. */
function listensOn(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return ['/proc/net/tcp', '/proc/net/tcp6'].some((file) => readFileSync(file, 'utf8').split('\n').slice(1)
    .some((line) => {
      const fields = line.trim().split(/\s+/);
      return fields[3] === '0A' && (fields[1] ?? '').endsWith(hex);
    }));
}

function start(args: readonly string[], env: NodeJS.ProcessEnv = {}): Run {
  runs.current = startUsher(args, { env });
  return runs.current;
}

function lines(run: Run): string[] {
  return run.stdout.split('\n').filter(Boolean);
}

describe('signal forwarding', () => {
  it('forwards every catchable standard signal to the app, in order', async () => {
    const run = start(['--', 'node', RECORDER]);
    await run.waitForStdout('ready');
    for (const name of PLAIN) {
      run.kill(`SIG${name}` as NodeJS.Signals);
      await run.waitForStdout(`SIG${name}\n`);
    }
    expect(lines(run).slice(1)).toEqual(PLAIN.map((name) => `SIG${name}`));
    expect(run.stderr).not.toContain('Debugger listening');
  });

  it.each(['TSTP', 'TTIN', 'TTOU'] as const)('forwards SIG%s, then stops itself until SIGCONT, which it forwards', async (name) => {
    const run = start(['--', 'node', RECORDER]);
    await run.waitForStdout('ready');
    run.kill(`SIG${name}`);
    await run.waitForStdout(`SIG${name}\n`);
    await run.waitForLog(`SIG${name} received`);
    const { eventually } = await import('../helpers/usher.js');
    await eventually(() => procState(run.pid) === 'T', 'usher to stop itself');
    run.kill('SIGCONT');
    await run.waitForStdout('SIGCONT\n');
    expect(procState(run.pid)).not.toBe('T');
  });

  it.each(['TERM', 'INT'] as const)('SIG%s stops the app with the same signal and usher exits with its code', async (name) => {
    const run = start(['--', 'node', RECORDER, '--exit-on', `SIG${name}`]);
    await run.waitForStdout('ready');
    run.kill(`SIG${name}`);
    const exit = await run.exited;
    expect(lines(run)).toContain(`SIG${name}`);
    expect(exit.code).toBe(0);
  });

  it('never opens the Node inspector on SIGUSR1: it forwards it', async () => {
    const run = start(['--', 'node', RECORDER]);
    await run.waitForStdout('ready');
    await run.waitForLog('app started');
    for (let i = 0; i < 3; i += 1) {
      run.kill('SIGUSR1');
      await run.waitForStdout(new RegExp(`(SIGUSR1\\n[^]*){${i + 1}}`));
    }
    expect(run.stderr).not.toContain('Debugger listening');
    expect(listensOn(INSPECTOR_PORT)).toBe(false);
  });

  it('(the inspector check above can see a listener: a real one on a free port shows)', async () => {
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      expect(listensOn((server.address() as AddressInfo).port)).toBe(true);
    } finally {
      server.close();
    }
  });
});

describe('process group and single-child', () => {
  const family = `node ${RECORDER} --tag child & exec node ${RECORDER} --tag parent`;

  it('signals the whole process group by default', async () => {
    const run = start(['--', 'sh', '-c', family]);
    await run.waitForStdout('child ready');
    await run.waitForStdout('parent ready');
    run.kill('SIGUSR2');
    await run.waitForStdout('parent SIGUSR2');
    await run.waitForStdout('child SIGUSR2');
  });

  it('with -c signals the app only', async () => {
    const run = start(['-c', '--', 'sh', '-c', family]);
    await run.waitForStdout('child ready');
    await run.waitForStdout('parent ready');
    run.kill('SIGUSR2');
    await run.waitForStdout('parent SIGUSR2');
    // Then a marker that goes to the app only: the child's lines stay as they were.
    run.kill('SIGHUP');
    await run.waitForStdout('parent SIGHUP');
    expect(run.stdout).not.toContain('child SIGUSR2');
    expect(run.stdout).not.toContain('child SIGHUP');
  });

  it('USHER_SINGLE_CHILD=1 is the same as -c', async () => {
    const run = start(['--', 'sh', '-c', family], { USHER_SINGLE_CHILD: '1' });
    await run.waitForStdout('child ready');
    await run.waitForStdout('parent ready');
    run.kill('SIGUSR2');
    run.kill('SIGHUP');
    await run.waitForStdout('parent SIGHUP');
    expect(run.stdout).not.toContain('child SIGUSR2');
  });
});

describe('signal rewriting', () => {
  it('rewrites with -r FROM:TO, names or numbers', async () => {
    const run = start(['-r', 'USR1:USR2', '-r', '1:3', '--', 'node', RECORDER]);
    await run.waitForStdout('ready');
    run.kill('SIGUSR1');
    await run.waitForStdout('SIGUSR2\n');
    run.kill('SIGHUP');
    await run.waitForStdout('SIGQUIT\n');
    expect(lines(run).slice(1)).toEqual(['SIGUSR2', 'SIGQUIT']);
  });

  it('drops a signal rewritten to 0', async () => {
    const run = start(['-r', 'HUP:0', '--', 'node', RECORDER]);
    await run.waitForStdout('ready');
    run.kill('SIGHUP');
    await run.waitForLog('SIGHUP received: dropped by rewrite');
    run.kill('SIGUSR2');
    await run.waitForStdout('SIGUSR2\n');
    expect(lines(run).slice(1)).toEqual(['SIGUSR2']);
  });

  it('takes USHER_REWRITE as a comma list, and TERM rewritten still stops the app', async () => {
    const run = start(['--', 'node', RECORDER, '--exit-on', 'SIGQUIT'], { USHER_REWRITE: '15:3,HUP:USR1' });
    await run.waitForStdout('ready');
    run.kill('SIGHUP');
    await run.waitForStdout('SIGUSR1\n');
    run.kill('SIGTERM');
    const exit = await run.exited;
    expect(lines(run).slice(1)).toEqual(['SIGUSR1', 'SIGQUIT']);
    expect(exit.code).toBe(0);
  });

  it('flags win over the environment', async () => {
    const run = start(['-r', 'USR1:USR2', '--', 'node', RECORDER], { USHER_REWRITE: 'USR1:HUP' });
    await run.waitForStdout('ready');
    run.kill('SIGUSR1');
    await run.waitForStdout('SIGUSR2\n');
    expect(run.stdout).not.toContain('SIGHUP');
  });
});
