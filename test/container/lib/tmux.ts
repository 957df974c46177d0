import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { run, type Result } from './podman.js';
import type { PodmanEnv } from './podman-env.js';

/**
 * A terminal for `podman run -it`: a tmux server of the test's own (a private socket and
 * configuration under the run's directory), a pane that stays after its command exits, and the
 * screen read back by polling capture-pane, bounded.
 */
export interface Terminal {
  /** Types text literally, then Enter unless enter is false. */
  type(text: string, enter?: boolean): Promise<void>;
  /** Sends a key by tmux's name for it (C-c, C-z). */
  key(name: string): Promise<void>;
  screen(): Promise<string>;
  /** Resolves with the screen once it matches. */
  waitFor(match: RegExp | ((screen: string) => boolean), timeoutMs?: number): Promise<string>;
  /** How the command ended ("exit 7"), once it has: bounded, with the screen on a timeout. */
  exited(timeoutMs?: number): Promise<string>;
  kill(): Promise<void>;
}

const quote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;

export async function openTerminal(env: PodmanEnv, argv: readonly string[]): Promise<Terminal> {
  const socket = path.join(env.dir, `tmux-${process.pid}.sock`);
  const conf = path.join(env.dir, 'tmux.conf');
  writeFileSync(conf, 'set -g remain-on-exit on\nset -g history-limit 5000\n');
  const tmux = async (...args: string[]): Promise<Result> => {
    const result = await run('tmux', ['-S', socket, '-f', conf, ...args], env.env, { timeoutMs: 10_000 });
    if (result.code !== 0) throw new Error(`tmux ${args.join(' ')} exited ${result.code}: ${result.stderr.trim()}`);
    return result;
  };
  // The command's exit status comes from a shell around it, printed on the screen: tmux's own
  // (#{pane_dead_status}) was seen missing for good in about one run in four, its command left a
  // zombie that the tmux server never reaped.
  await tmux('new-session', '-d', '-s', 'it', '-x', '160', '-y', '50', `${argv.map(quote).join(' ')}; echo "exit-status=$?"`);
  const screen = async (): Promise<string> => (await tmux('capture-pane', '-p', '-J', '-t', 'it', '-S', '-5000')).stdout;
  const waitFor = async (match: RegExp | ((text: string) => boolean), timeoutMs = 20_000): Promise<string> => {
    const test = typeof match === 'function' ? match : (text: string) => match.test(text);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = await screen();
      if (test(text)) return text;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${String(match)}; screen:\n${text}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  return {
    type: async (text, enter = true) => {
      await tmux('send-keys', '-t', 'it', '-l', text);
      if (enter) await tmux('send-keys', '-t', 'it', 'Enter');
    },
    key: async (name) => void (await tmux('send-keys', '-t', 'it', name)),
    screen,
    waitFor,
    exited: async (timeoutMs = 15_000) => {
      const [, status] = /^exit-status=(\d+)$/m.exec(await waitFor(/^exit-status=\d+$/m, timeoutMs))!;
      return `exit ${status}`;
    },
    kill: async () => void (await run('tmux', ['-S', socket, 'kill-server'], env.env, { timeoutMs: 10_000 })),
  };
}
