import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, ROOT, eventually, killLeftRunning, processExists, runUsher, startUsher, type Run } from '../helpers/usher.js';

/**
 * Fault: an ENTRYPOINT written for tini or dumb-init failed to start under usher when it used a
 * flag usher did not know (`tini -p SIGTERM`, `-w`, `-l`, `-V`: "unknown option", exit 2), and
 * tini's and dumb-init's environment variables were silently ignored. Now every flag and variable
 * of both is accepted: each runs a trivial app with its normal exit code (or prints and exits
 * 0), does what it means where it means something for usher, and is logged at debug where it
 * means nothing.
 */
const RECORDER = path.join(FIXTURES, 'signal-recorder.mjs');
const PREFORK = path.join(FIXTURES, 'prefork-app.mjs');
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
/** No platform, and none of the variables under test, from the environment the tests run in. */
const CLEAN_ENV = {
  KUBERNETES_SERVICE_HOST: '', DYNO: '', PORT: '', USHER_LOG_LEVEL: '', USHER_SIGNALS: '', USHER_SINGLE_CHILD: '',
  TINI_SUBREAPER: '', TINI_VERBOSITY: '', TINI_KILL_PROCESS_GROUP: '', DUMB_INIT_SETSID: '',
};
/** A trivial app with a code of its own, so that "its normal exit code" means something. */
const EXIT_3 = ['sh', '-c', 'exit 3'];
/** Its orphan: the inner shell exits at once, leaving `sleep 0.2` to whoever adopts it; prints its pid. */
const ORPHANING = ['sh', '-c', "sh -c 'sleep 0.2 & echo $!'; exec sleep 30"];

const runs = killLeftRunning();

function start(args: readonly string[], env: NodeJS.ProcessEnv = {}, wrap?: readonly string[]): Run {
  runs.current = startUsher(args, { env: { ...CLEAN_ENV, ...env }, ...(wrap ? { wrap } : {}) });
  return runs.current;
}

/** Runs usher to its end (stdin closed at once). */
function run(args: readonly string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof runUsher> {
  return runUsher(args, { env: { ...CLEAN_ENV, ...env } });
}

const levels = (logs: readonly { level: string }[]): Set<string> => new Set(logs.map((line) => line.level));

describe('every tini and dumb-init flag starts a trivial app and keeps its exit code', () => {
  it.each([
    ['tini -s', ['-s']], ['tini -g', ['-g']], ['tini -w', ['-w']], ['tini -v', ['-v']], ['tini -vvv', ['-vvv']],
    ['tini -p SIGTERM', ['-p', 'SIGTERM']], ['tini -p TERM', ['-p', 'TERM']], ['tini -s -g -w', ['-s', '-g', '-w']],
    ['dumb-init -c', ['-c']], ['dumb-init --single-child', ['--single-child']],
    ['dumb-init -r 15:3', ['-r', '15:3']], ['dumb-init --rewrite 15:3', ['--rewrite', '15:3']],
    ['dumb-init -v', ['-v']], ['dumb-init --verbose', ['--verbose']],
  ])('%s', async (_, flags) => {
    const result = await run([...flags, '--', ...EXIT_3]);
    expect(result.code, result.stderr).toBe(3);
    expect(result.logs.map((line) => line.msg)).toContain('app started');
  });

  it.each([
    ['TINI_SUBREAPER=1', { TINI_SUBREAPER: '1' }],
    ...['0', '1', '2', '3', '4'].map((level): [string, NodeJS.ProcessEnv] => [`TINI_VERBOSITY=${level}`, { TINI_VERBOSITY: level }]),
    ['TINI_KILL_PROCESS_GROUP=1', { TINI_KILL_PROCESS_GROUP: '1' }],
    ['DUMB_INIT_SETSID=0', { DUMB_INIT_SETSID: '0' }],
  ])('%s', async (_, env) => {
    const result = await run(['--', ...EXIT_3], env);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).not.toContain('usher:'); // no complaint about the variable
  });

  it('tini -e CODE: that code becomes 0, any other is kept; repeatable', async () => {
    expect((await run(['-e', '3', '--', ...EXIT_3])).code).toBe(0);
    expect((await run(['-e', '143', '-e', '3', '--', ...EXIT_3])).code).toBe(0);
    expect((await run(['-e', '4', '--', ...EXIT_3])).code).toBe(3);
  });
});

describe('the flags that print and exit 0', () => {
  it('tini -l prints the license (MIT), as LICENSE says it', async () => {
    const result = await run(['-l']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(readFileSync(path.join(ROOT, 'LICENSE'), 'utf8'));
  });

  it('-h prints the usage', async () => {
    const result = await run(['-h']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: usher \[options\] \[--\] COMMAND/);
  });

  it.each(['--version', '-V'])('%s (tini, dumb-init) prints the version', async (flag) => {
    const result = await run([flag]);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(VERSION);
  });
});

describe('what the flags mean, done', () => {
  it('tini -p TERM: when usher\'s own parent dies, usher gets TERM and stops the app gracefully', async () => {
    // usher's parent is a shell the test controls (not `exec`: `exit $?` follows the command).
    const usher = start(['-p', 'TERM', '--', 'node', RECORDER, '--exit-on', 'SIGTERM'], {}, ['sh', '-c', '"$@"; exit $?', 'sh']);
    await usher.waitForStdout('ready');
    // The parent-death signal is set before the app starts, so it is in place now.
    const usherPid = Number(readFileSync(`/proc/${usher.pid}/task/${usher.pid}/children`, 'latin1').trim());
    expect(usherPid).toBeGreaterThan(0);
    process.kill(usher.pid, 'SIGKILL');
    await usher.exited; // the parent, not usher
    await usher.waitForLog('SIGTERM received: not ready from now on');
    await usher.waitForStdout('SIGTERM\n');
    const exiting = await usher.waitForLog('app exited');
    expect(exiting.exitCode).toBe(0);
    await eventually(() => !processExists(usherPid), 'usher to exit', 10_000);
  });

  it('(without -p, the same parent\'s death leaves usher and the app running)', async () => {
    const usher = start(['--', 'node', RECORDER, '--exit-on', 'SIGTERM'], {}, ['sh', '-c', '"$@"; exit $?', 'sh']);
    await usher.waitForStdout('ready');
    const usherPid = Number(readFileSync(`/proc/${usher.pid}/task/${usher.pid}/children`, 'latin1').trim());
    process.kill(usher.pid, 'SIGKILL');
    await usher.exited;
    // An absence has no event: 500 ms is far more than a parent-death signal takes (the kernel
    // sends it as the parent exits; usher above logs it within milliseconds).
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(processExists(usherPid)).toBe(true);
    expect(usher.stdout).not.toContain('SIGTERM');
    process.kill(usherPid, 'SIGTERM');
    await usher.waitForLog('app exited');
    await eventually(() => !processExists(usherPid), 'usher to exit', 10_000);
  });

  it.each([
    ['tini -s', ['-s'], {}],
    ['TINI_SUBREAPER', [], { TINI_SUBREAPER: '1' }],
  ])('%s: usher is a child subreaper (it adopts and reaps the app\'s orphan); said at debug', async (_, flags, env) => {
    const usher = start([...flags, '-v', '--', ...ORPHANING], env);
    const orphan = Number((await usher.waitForStdout(/^\d+\n/)).trim());
    const reaped = await usher.waitForLog('orphans reaped');
    expect(reaped.pids).toContain(orphan);
    const note = await usher.waitForLog(/TINI_SUBREAPER accepted/);
    expect(note.level).toBe('debug');
  });

  it('tini -w: the orphans usher reaps are logged as warnings (at info without it)', async () => {
    const warned = start(['-w', '--', ...ORPHANING]);
    expect((await warned.waitForLog('orphans reaped')).level).toBe('warn');
    const plain = start(['--', ...ORPHANING]);
    expect((await plain.waitForLog('orphans reaped')).level).toBe('info');
  });

  it.each([
    ['tini -g', ['-g'], {}],
    ['TINI_KILL_PROCESS_GROUP=1', [], { TINI_KILL_PROCESS_GROUP: '1' }],
  ])('%s: signals reach the app\'s whole process group', async (_, flags, env) => {
    const usher = start([...flags, '--', 'node', PREFORK], env);
    await usher.waitForStdout('parent ready');
    await usher.waitForStdout('worker ready');
    expect((await usher.waitForLog((line) => typeof line.signals === 'string')).signals).toMatch(/^process group/);
    usher.kill('SIGHUP');
    await usher.waitForStdout('parent SIGHUP\n');
    await usher.waitForStdout('worker SIGHUP\n');
  });

  /** The app's process group and session, as it reads them itself (fields 5 and 6 of its stat). */
  async function groupAndSession(flags: readonly string[], env: NodeJS.ProcessEnv): Promise<{ usher: number; pgrp: number; session: number; app: number }> {
    const result = await run([...flags, '--', 'cat', '/proc/self/stat'], env);
    expect(result.code).toBe(0);
    const fields = result.stdout.slice(result.stdout.lastIndexOf(')') + 2).split(' ');
    // startUsher runs usher in a session of its own: usher leads its group and its session.
    return { usher: result.pid, app: Number(result.stdout.split(' ')[0]), pgrp: Number(fields[2]), session: Number(fields[3]) };
  }

  it.each([
    ['dumb-init -c', ['-c'], {}],
    ['dumb-init --single-child', ['--single-child'], {}],
    ['DUMB_INIT_SETSID=0', [], { DUMB_INIT_SETSID: '0' }],
  ])('%s: the app stays in usher\'s session and process group', async (_, flags, env) => {
    const { usher, pgrp, session } = await groupAndSession(flags, env);
    expect({ pgrp, session }).toEqual({ pgrp: usher, session: usher });
  });

  it('(without them, the app leads a session and process group of its own)', async () => {
    const { app, pgrp, session } = await groupAndSession([], {});
    expect({ pgrp, session }).toEqual({ pgrp: app, session: app });
  });

  it('DUMB_INIT_SETSID=0 is said at debug, and signals go to the app alone', async () => {
    const usher = start(['-v', '--', 'node', RECORDER], { DUMB_INIT_SETSID: '0' });
    await usher.waitForStdout('ready');
    expect((await usher.waitForLog((line) => typeof line.signals === 'string')).signals).toBe('app only (DUMB_INIT_SETSID=0)');
    expect((await usher.waitForLog(/^DUMB_INIT_SETSID=0/)).level).toBe('debug');
  });

  it.each([['-r'], ['--rewrite']])('dumb-init %s s:r rewrites a signal before forwarding it', async (flag) => {
    const usher = start([flag, '1:10', flag, 'USR2:0', '--', 'node', RECORDER]);
    await usher.waitForStdout('ready');
    usher.kill('SIGUSR2');
    await usher.waitForLog('SIGUSR2 received: dropped by rewrite');
    // Had the USR2 gone out, the app would have it before the USR1 that follows from this HUP.
    usher.kill('SIGHUP');
    await usher.waitForStdout('SIGUSR1\n');
    expect(usher.stdout.split('\n').filter(Boolean).slice(1)).toEqual(['SIGUSR1']);
  });

  it.each([['-v'], ['--verbose']])('dumb-init %s: debug lines are logged', async (flag) => {
    const result = await run([flag, '--', ...EXIT_3]);
    expect(result.code).toBe(3);
    expect(levels(result.logs).has('debug')).toBe(true);
    const quiet = await run(['--', ...EXIT_3]);
    expect(levels(quiet.logs).has('debug')).toBe(false);
  });

  it('TINI_VERBOSITY 0 to 4 sets the log level: error, warn, info, debug, trace', async () => {
    // PORT that is not a number makes usher warn at start; the rest are its info and debug lines.
    const seen = async (level: string): Promise<Set<string>> => levels((await run(['--', ...EXIT_3], { TINI_VERBOSITY: level, PORT: 'web' })).logs);
    expect([...(await seen('0'))]).toEqual([]);
    expect([...(await seen('1'))]).toEqual(['warn']);
    expect([...(await seen('2'))].sort()).toEqual(['info', 'warn']);
    expect([...(await seen('3'))].sort()).toEqual(['debug', 'info', 'warn']);
    expect((await seen('4')).has('debug')).toBe(true);
    // USHER_LOG_LEVEL, usher's own, wins.
    const own = await run(['--', ...EXIT_3], { TINI_VERBOSITY: '0', USHER_LOG_LEVEL: 'info' });
    expect(levels(own.logs).has('info')).toBe(true);
  });
});
