import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { get } from 'node:http';
import { describe, expect, it } from 'vitest';
import { eventually, killLeftRunning, startUsher } from '../helpers/usher.js';

// usher must never change the mode of a descriptor it shares with the app. The old usher set
// O_NONBLOCK on its stderr as soon as its HTTP server had answered one request (Node creates
// process.stderr when any socket is destroyed, and libuv makes a pipe non-blocking): the open
// file description is the app's too, whose writes to a full pipe then failed with EAGAIN.

const O_NONBLOCK = 0o4000;
const runs = killLeftRunning();

function flags(pid: number, fd: number): number {
  const match = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'latin1'));
  return parseInt(match![1]!, 8);
}

function request(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    // No keep-alive: the server closes (and destroys) each socket once it has answered.
    get({ host: '127.0.0.1', port, path, timeout: 5000, agent: false, headers: { Connection: 'close' } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    }).on('error', reject);
  });
}

describe('the app\'s standard descriptors', () => {
  it('keep their mode after the HTTP server answered requests', async () => {
    const run = startUsher(['--http', '127.0.0.1:0', '--', 'sleep', '60']);
    runs.current = run;
    const listening = await run.waitForLog((line) => /server listening$/.test(line.msg)); // 'probe server' in older ushers
    const port = Number(String(listening.address).split(':').pop());
    const app = Number((await run.waitForLog('app started')).pid);
    const before = [1, 2].map((fd) => flags(app, fd));
    expect(before.every((value) => (value & O_NONBLOCK) === 0)).toBe(true);
    // Sockets only: usher opens files of its own (the state lock, temp files) on its own schedule.
    const descriptors = (): number => readdirSync(`/proc/${run.pid}/fd`).filter((fd) => {
      try {
        return readlinkSync(`/proc/${run.pid}/fd/${fd}`).startsWith('socket:');
      } catch {
        return false;
      }
    }).length;
    const idle = descriptors();
    for (const path of ['/readyz', '/livez', '/status', '/metrics', '/nope']) expect(await request(port, path)).toBeGreaterThan(0);
    // usher destroyed every socket of those requests (what used to create process.stderr).
    await eventually(() => descriptors() <= idle, 'usher closed the requests\' sockets');
    expect([1, 2].map((fd) => flags(app, fd))).toEqual(before);
  });
});
