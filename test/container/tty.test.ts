import { afterEach, describe, expect, it } from 'vitest';
import { containerName, env, eventually, image, processes, SKIP, track } from './lib/harness.js';
import { openTerminal, type Terminal } from './lib/tmux.js';

// `podman run --rm -it IMAGE bash`: usher is PID 1 and leads the terminal's session; it hands
// the terminal to bash, which then has job control: Ctrl-C and Ctrl-Z reach the foreground job.
const PROMPT = 'PROMPT> ';
const prompts = (screen: string): number => screen.split(PROMPT).length - 1;
let terminal: Terminal | undefined;

afterEach(async () => {
  await terminal?.kill();
  terminal = undefined;
});

describe.skipIf(SKIP)('podman run --rm -it with usher as PID 1', () => {
  it('gives bash job control: background jobs, Ctrl-C, Ctrl-Z, and its exit code out of podman', async () => {
    const shell = image('shell');
    const name = containerName();
    track(name);
    terminal = await openTerminal(env, ['podman', ...env.flags, 'run', '--rm', '-it', '--name', name, '--network', 'none',
      '-e', `PS1=${PROMPT}`, shell.image, 'bash', '--norc', '--noprofile']);
    const term = terminal;
    await term.waitFor((screen) => prompts(screen) >= 1);

    // bash is a session leader in the foreground of its terminal, with monitor mode on.
    await term.type('read -r -a f < /proc/$$/stat; echo "flags=$- pid=$$ pgrp=${f[4]} tpgid=${f[7]}"');
    const [, flags, pid, pgrp, tpgid] = /flags=(\S+) pid=(\d+) pgrp=(-?\d+) tpgid=(-?\d+)/.exec(await term.waitFor(/flags=\S+ pid=\d+ pgrp=-?\d+ tpgid=-?\d+/))!;
    expect(flags).toContain('m');
    expect([pgrp, tpgid]).toEqual([pid, pid]);

    await term.type('sleep 100 &');
    await term.waitFor(/^\[1\] \d+/m);
    // A foreground job: a key may be pressed once it holds the terminal (its group is tpgid).
    const foreground = async (what: string): Promise<void> => {
      await eventually(async () => (await processes(shell, name)).some((proc) => proc.comm === 'sleep' && proc.pgrp === proc.tpgid && proc.pgrp !== Number(pid)), `${what} in the foreground`, 10_000);
    };
    const seen = prompts(await term.screen());
    await term.type('sleep 50');
    await foreground('sleep 50');
    await term.key('C-c');
    await term.waitFor((screen) => prompts(screen) > seen);
    await term.type('echo "ctrl-c=$?"');
    await term.waitFor(/^ctrl-c=130$/m);

    await term.type('sleep 60');
    await foreground('sleep 60');
    await term.key('C-z');
    await term.waitFor(/^\[2\]\+\s+Stopped\s+sleep 60/m);
    await term.type('jobs');
    await term.waitFor(/^\[1\]-\s+Running\s+sleep 100 &/m);

    await term.type('kill %1 %2; wait; exit 7');
    const status = await term.exited();
    const screen = await term.screen();
    expect({ status, screen }).toMatchObject({ status: 'exit 7' });
    expect(screen).not.toMatch(/no job control|cannot set terminal process group/);
  });
});
