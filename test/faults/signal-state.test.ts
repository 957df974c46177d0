import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXTURES, USHER, killLeftRunning, startUsher, type StartOptions } from '../helpers/usher.js';

/**
 * Fault: the app started with signals 32 and 33 ignored (SigIgn 0000000180000000) on the
 * posix_spawn path. glibc's posix_spawn sets its internal signals (SIGCANCEL, SIGSETXID), which
 * have handlers in the parent, to SIG_IGN in the child unless they are in the SETSIGDEF set, and
 * sigaddset() refuses to put them there. An ignored disposition survives exec, so the app and
 * everything it starts ran with two signals ignored. Now the app must start with every signal at
 * its default and none blocked (SigIgn and SigBlk 0 in /proc/APP/status) on each spawn path:
 * posix_spawn (the default), node:child_process (forced by --ready-fd or by -c) and the TTY
 * hand-over (usher the session leader of a pseudo-terminal, the app started through setsid -c).
 *
 * The app is `cat /proc/self/status`: the app's own process (usher spawns cat itself, setsid
 * execs it under the same pid) reads its state as it starts, before it could change anything.
 */
if (spawnSync('script', ['--version']).status !== 0) throw new Error('util-linux `script` is needed for the TTY path: apt-get install bsdutils');
if (spawnSync('perl', ['-MPOSIX', '-e', '1']).status !== 0) throw new Error('perl (with POSIX) is needed to start usher with a dirty signal state: apt-get install perl-base');

const DIRTY = path.join(FIXTURES, 'dirty-signals.pl');
const CLEAN = { SigIgn: '0000000000000000', SigBlk: '0000000000000000' };
const NO_PLATFORM = { KUBERNETES_SERVICE_HOST: '', DYNO: '' };
const STATUS = ['cat', '/proc/self/status'];

const runs = killLeftRunning();

/** The signal fields of a /proc/PID/status text. */
function signalState(status: string): { SigIgn: string | undefined; SigBlk: string | undefined } {
  const field = (name: string): string | undefined => new RegExp(`^${name}:\\s*([0-9a-f]+)\\s*$`, 'm').exec(status)?.[1];
  return { SigIgn: field('SigIgn'), SigBlk: field('SigBlk') };
}

/** Runs usher (through `wrap` when given) on the status app and returns what the app read. */
async function appState(args: readonly string[], options: StartOptions = {}): Promise<ReturnType<typeof signalState>> {
  const run = startUsher([...args, '--', ...STATUS], { ...options, env: { ...NO_PLATFORM, ...options.env } });
  runs.current = run;
  run.child.stdin?.end();
  const exit = await run.exited;
  expect(exit, run.stderr).toEqual({ code: 0, signal: null });
  expect(run.stdout).toContain('SigIgn:');
  return signalState(run.stdout);
}

/**
 * Runs `command` as the session leader of a new pseudo-terminal (util-linux script), as
 * `docker run -it` gives usher one, and returns the screen and the exit code. Bounded: a run
 * that does not end in 20 s is killed and fails.
 */
async function inPty(command: string): Promise<{ screen: string; code: number | null }> {
  const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...NO_PLATFORM, TERM: 'dumb' } });
  let screen = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    screen += text;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));
  clearTimeout(timer);
  // The exit comes before the last output has been read: wait for the end of the stream.
  if (!child.stdout.readableEnded) await new Promise((resolve) => child.stdout.once('end', resolve));
  return { screen, code };
}

const SPAWN_PATHS = [
  { path: 'posix_spawn (the default)', args: [] },
  { path: 'node:child_process, forced by --ready-fd 3', args: ['--ready-fd', '3'] },
  { path: 'node:child_process, forced by -c', args: ['-c'] },
] as const;

describe('the app starts with a clean signal state: nothing ignored, nothing blocked', () => {
  it.each(SPAWN_PATHS)('$path', async ({ args }) => {
    expect(await appState(args)).toEqual(CLEAN);
  });

  it('the TTY hand-over (usher leads the session of a pseudo-terminal; the app starts through setsid -c)', async () => {
    const { screen, code } = await inPty(`exec ${USHER} -- ${STATUS.join(' ')}`);
    expect(code, screen).toBe(0);
    // That path was taken: usher says so in its start-up line, on the terminal.
    expect(screen).toContain('terminal="handed to the app"'); // text: stderr is the terminal
    expect(signalState(screen.replace(/\r/g, ''))).toEqual(CLEAN);
  });
});

/**
 * The same, with usher started by a parent that left signals ignored (nohup's HUP, the INT and
 * QUIT of a non-interactive shell's `cmd &`, PIPE, real-time signals 34, 40, 50 and 64) and
 * blocked (USR1, USR2, 41): both survive exec into usher, and the app must not inherit them.
 */
describe('the app starts clean when usher itself inherited ignored and blocked signals', () => {
  it('(the parent really leaves them: a command it starts sees them)', () => {
    const direct = spawnSync('perl', [DIRTY, ...STATUS], { encoding: 'utf8' });
    expect(direct.status).toBe(0);
    const state = signalState(direct.stdout);
    expect(state.SigIgn).not.toBe(CLEAN.SigIgn);
    expect(state.SigBlk).not.toBe(CLEAN.SigBlk);
  });

  it.each(SPAWN_PATHS)('$path', async ({ args }) => {
    expect(await appState(args, { wrap: ['perl', DIRTY] })).toEqual(CLEAN);
  });

  it('the TTY hand-over', async () => {
    // perl execs usher, so usher keeps the pid that leads the terminal's session.
    const { screen, code } = await inPty(`exec perl ${DIRTY} ${USHER} -- ${STATUS.join(' ')}`);
    expect(code, screen).toBe(0);
    expect(screen).toContain('terminal="handed to the app"'); // text: stderr is the terminal
    expect(signalState(screen.replace(/\r/g, ''))).toEqual(CLEAN);
  });
});
