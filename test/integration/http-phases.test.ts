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
  const line = await run.waitForLog('HTTP server listening');
  return Number(String(line.address).split(':').pop());
}

const all = (p: number) => Promise.all(['/startupz', '/readyz', '/livez'].map((urlPath) => status(p, urlPath)));

describe('HTTP server in every phase', () => {
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

  it('closes a connection that sends nothing at all', async () => {
    const run = startUsher(['--http', '127.0.0.1:0', '--', 'sleep', '60']);
    runs.current = run;
    const p = await port(run);
    const socket = connect(p, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      const bound = setTimeout(() => reject(new Error('the idle connection was not closed within 10 s')), 10_000);
      socket.on('close', () => {
        clearTimeout(bound);
        resolve();
      });
    });
    expect(await status(p, '/livez')).toBe(200);
  });

  it('/status leaves out a command check\'s command line and output (they may hold a password)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'usher-http-status-'));
    const run = startUsher(['--state-dir', dir, '--http', '127.0.0.1:0', '--check-interval', '100ms', '--ready-cmd', 'PGPASSWORD=hunter2 true; echo token=abc123', '--', 'sleep', '60']);
    runs.current = run;
    const p = await port(run);
    await run.waitForLog('readiness check ready-cmd-1 passing');
    const body = await new Promise<string>((resolve, reject) => {
      request({ host: '127.0.0.1', port: p, path: '/status', agent: false }, (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve(text));
      }).on('error', reject).end();
    });
    expect(JSON.parse(body).checks[0]).toMatchObject({ id: 'ready-cmd-1', status: 'passing', target: '(command)', output: '' });
    expect(body).not.toContain('hunter2');
    expect(body).not.toContain('abc123');
  });
});
