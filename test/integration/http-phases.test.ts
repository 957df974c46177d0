import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { killLeftRunning, startUsher, type Run } from '../helpers/usher.js';

// The probe endpoints in the phases the running and draining tests do not reach (init, the app
// gone), and a client too slow to send its request.

const runs = killLeftRunning();

function status(port: number, urlPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: urlPath, agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    }).on('error', reject).end();
  });
}

async function port(run: Run): Promise<number> {
  const line = await run.waitForLog('probe server listening');
  return Number(String(line.address).split(':').pop());
}

const all = (p: number) => Promise.all(['/startupz', '/readyz', '/livez'].map((urlPath) => status(p, urlPath)));

describe('probe server in every phase', () => {
  it('during init scripts: startup and ready 503, live 200', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'usher-http-init-'));
    const init = path.join(dir, 'wait.sh');
    writeFileSync(init, `#!/bin/sh\necho init-running\nwhile [ ! -e ${dir}/go ]; do sleep 0.02; done\n`);
    chmodSync(init, 0o755);
    const run = startUsher(['--state-dir', dir, '--http', '127.0.0.1:0', '--init', init, '--', 'sleep', '60']);
    runs.current = run;
    const p = await port(run);
    await run.waitForStdout('init-running');
    expect(await all(p)).toEqual([503, 503, 200]);
    writeFileSync(path.join(dir, 'go'), '');
    await run.waitForLog('app started');
    expect(await all(p)).toEqual([200, 200, 200]);
  });

  it('once the app exited (usher waiting for leftovers): all 503', async () => {
    const run = startUsher(['--http', '127.0.0.1:0', '--grace', '60s', '--', 'sh', '-c', '(trap "" TERM; exec sleep 60) & sleep 0.3; exit 0']);
    runs.current = run;
    const p = await port(run);
    await run.waitForLog('app exited');
    expect(await all(p)).toEqual([503, 503, 503]);
  });

  it('cuts off a client that does not finish its request, and keeps serving', async () => {
    const run = startUsher(['--http', '127.0.0.1:0', '--', 'sleep', '60']);
    runs.current = run;
    const p = await port(run);
    const socket = connect(p, '127.0.0.1');
    socket.write('GET /readyz HTTP/1.1\r\nHost: usher\r\n'); // and never the empty line
    let answer = '';
    socket.setEncoding('utf8').on('data', (text: string) => (answer += text));
    const started = Date.now();
    await new Promise<void>((resolve, reject) => {
      const bound = setTimeout(() => reject(new Error('the slow client was not cut off within 10 s')), 10_000);
      socket.on('close', () => {
        clearTimeout(bound);
        resolve();
      });
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expect(answer.split('\r\n')[0]).toMatch(/^HTTP\/1\.1 408 /);
    expect(await status(p, '/livez')).toBe(200);
  });
});
