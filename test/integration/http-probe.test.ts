import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, killRun, startUsher, type Run } from '../helpers/usher.js';

// The HTTP server of `--http`, against the real binary: status codes per phase, what it refuses,
// what a hostile client cannot do to it, and what it never shows.

const SECRET = 'sk_live_usher-probe-test-Secr3t-4b1d';
const ENV_SECRET = 'env-secret-usher-probe-test-9f2c';
const APP = [process.execPath, path.join(FIXTURES, 'signal-recorder.mjs'), '--exit-on', 'SIGTERM'];

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

function get(port: number, urlPath: string, method = 'GET', headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: urlPath, method, headers, agent: false, timeout: 5000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body }));
      response.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath}: no answer within 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** Writes raw bytes, returns everything the server sends until it closes (bounded). */
function raw(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`raw request: the server did not answer and close within 10 s; got ${JSON.stringify(received.slice(0, 200))}`));
    }, 10_000);
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (received += chunk));
    // The server may reset the connection while we still write; what it answered is what counts.
    socket.on('error', (error) => {
      if (received) return;
      clearTimeout(timer);
      reject(error);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.write(bytes);
  });
}

function listeningPort(run: Run): Promise<number> {
  return run.waitForLog('HTTP server listening').then((line) => Number(String(line.address).split(':').pop()));
}

async function stop(run: Run | undefined): Promise<void> {
  if (!run || run.child.exitCode !== null || run.child.signalCode !== null) return;
  run.kill('SIGTERM');
  run.kill('SIGTERM'); // a second TERM ends any drain at once
  const exited = await Promise.race([run.exited, new Promise((resolve) => setTimeout(() => resolve(undefined), 15_000))]);
  if (!exited) await killRun(run);
}

const ENDPOINTS = ['/livez', '/readyz', '/startupz', '/status'] as const;

describe('HTTP server, running phase', () => {
  let run: Run;
  let port: number;

  beforeAll(async () => {
    run = startUsher(['--http', '127.0.0.1:0', '--grace', '5s', '--', ...APP, `--token=${SECRET}`], { env: { APP_TOKEN: ENV_SECRET } });
    port = await listeningPort(run);
    await run.waitForStdout(/^ready /m);
  });
  afterAll(() => stop(run));

  it.each(ENDPOINTS)('GET %s answers 200 with JSON', async (endpoint) => {
    const answer = await get(port, endpoint);
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    const body = JSON.parse(answer.body) as Record<string, unknown>;
    expect(body.phase).toBe('running');
    if (endpoint !== '/status') expect(body).toMatchObject({ ok: true, reason: null });
  });

  it('GET /status shows the state', async () => {
    const body = JSON.parse((await get(port, '/status')).body) as Record<string, unknown>;
    expect(body).toMatchObject({ phase: 'running', readyCode: 0, liveCode: 0, appPid: expect.any(Number) });
  });

  it('ignores a query string', async () => {
    expect((await get(port, '/readyz?verbose=1')).status).toBe(200);
  });

  it.each(ENDPOINTS)('HEAD %s answers 200 with no body', async (endpoint) => {
    const answer = await get(port, endpoint, 'HEAD');
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('');
    expect(Number(answer.headers['content-length'])).toBeGreaterThan(0);
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH'])('%s answers 405 with an Allow header', async (method) => {
    const answer = await get(port, '/readyz', method, { 'Content-Type': 'application/json' });
    expect(answer.status).toBe(405);
    expect(answer.headers.allow).toBe('GET, HEAD');
  });

  it.each(['/', '/nope', '/readyz/extra', '/READYZ'])('GET %s answers 404', async (urlPath) => {
    expect((await get(port, urlPath)).status).toBe(404);
  });

  it('answers garbage bytes with a 4xx and keeps serving', async () => {
    const answer = await raw(port, Buffer.from('\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n', 'latin1'));
    expect(answer).toMatch(/^HTTP\/1\.[01] 4\d\d /);
    const broken = await raw(port, 'GET /readyz HTTP/1.1\r\nHost: x\r\nBad Header Without Colon\r\n\r\n');
    expect(broken).toMatch(/^HTTP\/1\.[01] 4\d\d /);
    expect((await get(port, '/readyz')).status).toBe(200);
  });

  it('answers a header larger than 8 KB with 431 and keeps serving', async () => {
    const answer = await raw(port, `GET /readyz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(16 * 1024)}\r\n\r\n`);
    expect(answer.split('\r\n')[0]).toMatch(/^HTTP\/1\.[01] 431 /);
    expect((await get(port, '/readyz')).status).toBe(200);
  });

  it('never shows the app\'s argv or environment', async () => {
    for (const endpoint of [...ENDPOINTS, '/nope']) {
      for (const method of ['GET', 'POST']) {
        const answer = await get(port, endpoint, method);
        expect(answer.body).not.toContain(SECRET);
        expect(answer.body).not.toContain('sk_live');
        expect(answer.body).not.toContain(ENV_SECRET);
        expect(JSON.stringify(answer.headers)).not.toContain(SECRET);
      }
    }
    // The secret really was on the app's command line: the assertion above could have failed.
    const appPid = (JSON.parse((await get(port, '/status')).body) as { appPid: number }).appPid;
    expect(readFileSync(`/proc/${appPid}/cmdline`, 'latin1')).toContain(SECRET);
  });
});

describe('HTTP server, draining phase', () => {
  let run: Run;
  let port: number;

  beforeAll(async () => {
    run = startUsher(['--http', '127.0.0.1:0', '--drain', '30s', '--grace', '5s', '--', ...APP]);
    port = await listeningPort(run);
    await run.waitForStdout(/^ready /m);
    expect((await get(port, '/readyz')).status).toBe(200);
    run.kill('SIGTERM');
    await run.waitForLog('draining for');
  });
  afterAll(() => stop(run));

  it('GET /readyz answers 503 with the phase and a reason', async () => {
    const answer = await get(port, '/readyz');
    expect(answer.status).toBe(503);
    const body = JSON.parse(answer.body) as Record<string, unknown>;
    expect(body).toMatchObject({ ok: false, phase: 'draining' });
    expect(body.reason).toEqual(expect.stringContaining('SIGTERM'));
    const head = await get(port, '/readyz', 'HEAD');
    expect(head.status).toBe(503);
    expect(head.body).toBe('');
  });

  it('GET /livez and /startupz stay 200 for the whole drain; /status says draining', async () => {
    // Several rounds over a second: liveness must not flap while the app drains.
    const until = Date.now() + 1000;
    let rounds = 0;
    while (Date.now() < until || rounds < 3) {
      expect((await get(port, '/livez')).status).toBe(200);
      expect((await get(port, '/startupz')).status).toBe(200);
      expect((await get(port, '/readyz')).status).toBe(503);
      rounds += 1;
    }
    const status = await get(port, '/status');
    expect(status.status).toBe(200);
    expect(JSON.parse(status.body)).toMatchObject({ phase: 'draining', readyCode: 4, liveCode: 0 });
  });

  it('still refuses other methods and unknown paths while draining', async () => {
    expect((await get(port, '/livez', 'POST')).status).toBe(405);
    expect((await get(port, '/nope')).status).toBe(404);
  });

  it('the app is still running (it has not received the stop signal yet)', () => {
    expect(run.stdout).not.toContain('SIGTERM');
    expect(run.child.exitCode).toBeNull();
  });
});
