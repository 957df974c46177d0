import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { killLeftRunning, startUsher, USHER } from '../helpers/usher.js';

// The app's exit must never be lost. The old usher collected a posix-spawned app only through a
// /proc scan on SIGCHLD; with usher at its descriptor limit (ulimit -n 48 and a flood of probe
// connections) the scan failed once, the exit was lost, and usher went on reporting a dead app
// ready and live; TERM, grace and SIGKILL never ended it. Now the app is reaped by its pid
// (waitpid needs no descriptor) on SIGCHLD, after every signal, and every second.

const runs = killLeftRunning();

describe('at its descriptor limit, under a flood of probe connections', () => {
  it('usher still sees the app exit, and exits with its code', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'usher-lost-exit-'));
    const gate = path.join(dir, 'gate');
    const app = `while [ ! -e ${gate} ]; do sleep 0.05; done; exit 5`;
    const run = startUsher([], { wrap: ['sh', '-c', `ulimit -n 48 && exec "$@"`, 'sh', USHER, '--state-dir', dir, '--http', '127.0.0.1:0', '--', 'sh', '-c', app] });
    runs.current = run;
    const listening = await run.waitForLog((line) => /server listening$/.test(line.msg)); // 'probe server' in older ushers
    const port = Number(String(listening.address).split(':').pop());
    // Hold every descriptor usher could get: idle connections, reopened as fast as they close.
    const flood = new Set<Socket>();
    let flooding = true;
    const open = (): void => {
      if (!flooding || flood.size >= 200) return;
      const socket = connect(port, '127.0.0.1');
      flood.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        flood.delete(socket);
        setTimeout(open, 5);
      });
    };
    for (let i = 0; i < 200; i += 1) open();
    try {
      await new Promise((resolve) => setTimeout(resolve, 500)); // the flood in place: nothing to await
      writeFileSync(gate, '');
      const exit = await Promise.race([run.exited, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 15_000))]);
      expect(exit).toEqual({ code: 5, signal: null });
    } finally {
      flooding = false;
      for (const socket of flood) socket.destroy();
    }
  });
});
