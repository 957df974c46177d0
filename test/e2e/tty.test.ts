import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eventually, killRun, startUsher, USHER } from '../helpers/usher.js';

// util-linux `script` runs usher in a real pseudo-terminal, as the session leader that owns it,
// which is what `docker run -it IMAGE usher -- bash` gives usher.
if (spawnSync('script', ['--version']).status !== 0) throw new Error('util-linux `script` is needed for the TTY tests: apt-get install bsdutils');

function interactive(command: string) {
  const child = spawn('script', ['-qfec', `exec ${command}`, '/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, PS1: 'PROMPT> ', SHELL: '/bin/sh', TERM: 'dumb' },
  });
  let screen = '';
  const waiters = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    screen += text;
    for (const waiter of [...waiters]) waiter();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  /** Waits until the screen shows `count` occurrences of `text` in all. */
  const waitFor = (text: string, count = 1, timeoutMs = 20_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (screen.split(text).length - 1 >= count) {
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${JSON.stringify(text)} x${count}; screen:\n${screen}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });
  const type = (text: string): boolean => child.stdin.write(text);
  /**
   * Types a control key until the screen answers. The kernel and bash alone handle it (usher
   * has handed the terminal over), and on a loaded machine a keystroke that lands while bash is
   * between fork and handing the terminal to the job is lost: a person presses it again.
   */
  const press = async (key: string, answer: string, count = 1): Promise<void> => {
    for (let attempt = 1; ; attempt += 1) {
      type(key);
      try {
        return await waitFor(answer, count, 5000);
      } catch (error) {
        if (attempt === 3) throw error;
      }
    }
  };
  return { child, exited, waitFor, type, press, screen: () => screen };
}

describe('interactive use through a real pseudo-terminal', () => {
  it('gives bash job control: Ctrl-C, Ctrl-Z and fg reach the foreground job, not usher', async () => {
    const term = interactive(`${USHER} -- bash --norc --noprofile -i`);
    await term.waitFor('PROMPT> ');
    term.type('echo hello-$((6*7))\n');
    await term.waitFor('hello-42');
    await term.waitFor('PROMPT> ', 2);

    // The job says when it runs, then is a single process reading the terminal (sh's builtins
    // read and echo fork nothing), so a keystroke that reaches it has one process to act on. It
    // answers a line with `got:LINE`, which the terminal's own echo never shows: whether the echo
    // happens depends on when bash hands the terminal back in cooked mode, the answer does not.
    const job = `sh -c 'echo started-job; while read -r line; do echo "got:$line"; done'\n`;
    term.type(job);
    await term.waitFor('started-job\r\n');
    await term.press('\x03', 'PROMPT> ', 3); // Ctrl-C interrupts the foreground job; bash prompts again

    term.type(job);
    await term.waitFor('started-job\r\n', 2);
    await term.press('\x1a', 'Stopped'); // Ctrl-Z stops the foreground job
    await term.waitFor('PROMPT> ', 4);
    term.type('fg\n');
    await term.waitFor('fg\r\n');
    term.type('after-fg\n');
    await term.waitFor('got:after-fg\r\n');
    await term.press('\x03', 'PROMPT> ', 5);

    term.type('exit 5\n');
    expect(await term.exited).toBe(5);
    const screen = term.screen();
    expect(screen).not.toContain('no job control');
    expect(screen).not.toContain('cannot set terminal process group');
    expect(screen).toContain('terminal="handed to the app"'); // text: stderr is the terminal
    // The terminal's signals went to the job, never through usher.
    expect(screen).not.toMatch(/SIG(INT|TSTP) received/);
  });

  it('prints nothing after the prompt: its lines come before the app starts, then nothing at info until the app exits', async () => {
    // Another usher holds the state directory, so this one has a warning to say: before the prompt too.
    const dir = mkdtempSync(path.join(tmpdir(), 'usher-tty-'));
    const holder = startUsher(['--state-dir', dir, '--', 'sleep', '60']);
    try {
      await eventually(() => existsSync(path.join(dir, 'state.json')), 'the other usher\'s state');
      await interactiveRun(dir);
    } finally {
      await killRun(holder);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** usher with a terminal, as `docker run -it`: bash, an orphan, then exit 3; what the screen shows of usher. */
async function interactiveRun(dir: string): Promise<void> {
  const term = interactive(`${USHER} --state-dir ${dir} -- bash --norc --noprofile -i`);
  await term.waitFor('PROMPT> ');
  // An orphan: the subshell exits, its sleep goes to usher, which reaps it (a line at info
  // anywhere else). Gone from /proc, it was reaped, and whatever usher said about it is out.
  term.type('(sleep 0.2 & echo orphan=$!)\n');
  await term.waitFor('\r\norphan=');
  const orphan = Number(await eventually(() => /\r\norphan=(\d+)/.exec(term.screen())?.[1], 'the orphan\'s pid'));
  await eventually(() => !existsSync(`/proc/${orphan}`), 'the orphan reaped');
  term.type('echo after-$((1+1))\n');
  await term.waitFor('after-2\r\n');
  await term.waitFor('PROMPT> ', 3);
  term.type('exit 3\n');
  expect(await term.exited).toBe(3);
  const screen = term.screen();
  const prompt = screen.indexOf('PROMPT> ');
  // usher's lines after the first prompt, in either format: only the exit.
  const after = screen.slice(prompt).split(/\r?\n/).filter((line) => line.includes('usher: ') || line.includes('"name":"usher"'));
  expect(after).toEqual([expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3} INFO {2}usher: app exited code=3 exitCode=3$/)]);
  expect(screen.slice(0, prompt)).toMatch(/ INFO {2}usher: usher started .*terminal="handed to the app"/);
  expect(screen.slice(0, prompt)).toMatch(/ WARN {2}usher: state in \S+: \S+ is held by usher pid \d+/);
  // ... and that one only once bash was done: after its last prompt and its `exit`.
  expect(screen.lastIndexOf('usher: app exited')).toBeGreaterThan(screen.lastIndexOf('exit 3'));
}
