import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, request, type ServerResponse } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StateFile } from '../../src/state/schema.js';
import { closeServersAfterEach, eventually, killLeftRunning, ROOT, startUsher, USHER, type Run } from '../helpers/usher.js';

// A failing check's own words (`db replica lag 42s`) where people look: the line a probe prints
// (the kubelet puts it into the pod's events, Docker into `docker inspect`), /readyz and /livez,
// /status, `usher status` and the "failing" log line. And --docker, which answers Docker's
// HEALTHCHECK with 0 or 1 only (it reserves 2), the line on stdout.

const USHER_PROBE = path.join(ROOT, 'bin/usher-probe');
const SHELLS: readonly (readonly string[])[] = [[], ['dash'], ['busybox', 'sh']];

const runs = killLeftRunning();
const servers = closeServersAfterEach();

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(file: string, args: readonly string[]): Outcome {
  const result = spawnSync(file, args, { encoding: 'utf8', timeout: 10_000, env: { ...process.env, USHER_STATE_DIR: '' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `usher-probe ARGS… DIR` under each shell, and `usher probe ARGS… --state-dir DIR`: every answer. */
function everyProbe(args: readonly string[], dir: string): Array<[string, Outcome]> {
  const sh = SHELLS.map((shell): [string, Outcome] => [
    `usher-probe${shell.length ? ` (${shell.join(' ')})` : ''}`,
    shell.length ? run(shell[0]!, [...shell.slice(1), USHER_PROBE, ...args, dir]) : run(USHER_PROBE, [...args, dir]),
  ]);
  return [...sh, ['usher probe', run(USHER, ['probe', ...args, '--state-dir', dir])]];
}

function folder(): string {
  return mkdtempSync(path.join(tmpdir(), 'usher-probe-msg-'));
}

function start(args: readonly string[], dir: string): Run {
  runs.current = startUsher(['--state-dir', dir, '--http', '127.0.0.1:0', '--check-interval', '100ms', '--check-timeout', '500ms', '--check-failures', '1', ...args, '--', 'sleep', '60']);
  return runs.current;
}

function state(dir: string): StateFile | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'state.json'), 'utf8')) as StateFile;
  } catch {
    return undefined; // not written yet
  }
}

async function httpPort(run: Run): Promise<number> {
  const line = await run.waitForLog('HTTP server listening');
  return Number(String(line.address).split(':').pop());
}

function get(port: number, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: urlPath, agent: false, timeout: 5000 }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => resolve({ status: response.statusCode!, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${urlPath}: no answer within 5 s`)));
    req.on('error', reject).end();
  });
}

async function httpServer(answer: (response: ServerResponse) => void): Promise<number> {
  const server = createServer((_, response) => answer(response));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('a failing command check says what it printed', () => {
  it('"db replica lag 42s" and exit 17: every probe prints both and exits 3; --docker exits 1 with the line on stdout', async () => {
    const dir = folder();
    const usher = start(['--ready-cmd', "echo connecting to the replica; echo 'db replica lag 42s'; echo; exit 17"], dir);
    const port = await httpPort(usher);
    await eventually(() => state(dir)?.readyCode === 3, 'ready code 3');
    const line = /^not ready: readiness check ready-cmd-1 failing: exit 17 for \d+s; output: db replica lag 42s\n$/;
    for (const [who, answer] of everyProbe(['ready'], dir)) {
      expect(answer, who).toMatchObject({ code: 3, stdout: '' });
      expect(answer.stderr, who).toMatch(line);
    }
    for (const [who, answer] of everyProbe(['--docker', 'ready'], dir)) {
      expect(answer, who).toMatchObject({ code: 1, stderr: '' });
      expect(answer.stdout, who).toMatch(line);
    }
    // --docker stands after the kind as well.
    expect(run(USHER_PROBE, ['ready', '--docker', dir])).toMatchObject({ code: 1, stdout: expect.stringMatching(line) });
    expect(run(USHER, ['probe', 'ready', '--state-dir', dir, '--docker'])).toMatchObject({ code: 1, stdout: expect.stringMatching(line) });
    // Liveness is fine: 0, and nothing printed, under --docker too.
    for (const [who, answer] of everyProbe(['--docker', 'live'], dir)) expect(answer, who).toEqual({ code: 0, stdout: '', stderr: '' });

    const readyz = await get(port, '/readyz');
    expect(readyz.status).toBe(503);
    // The HTTP server may be open to other pods: a command's output stays inside the container.
    expect(JSON.parse(readyz.body)).toEqual({ ok: false, code: 3, phase: 'running', reason: 'readiness check ready-cmd-1 failing: exit 17', detail: null });
    expect(JSON.parse((await get(port, '/livez')).body)).toMatchObject({ ok: true, detail: null });
    const status = JSON.parse((await get(port, '/status')).body) as StateFile;
    expect(status).toMatchObject({ readyReason: 'readiness check ready-cmd-1 failing: exit 17', readyDetail: '', liveDetail: '' });
    expect(status.checks[0]).toMatchObject({ target: '(command)', lastResult: 'exit 17', lastDetail: '', output: '' });
    expect(state(dir)?.checks[0]).toMatchObject({ lastDetail: 'output: db replica lag 42s' });
    const summary = run(USHER, ['status', '--state-dir', dir]).stdout;
    expect(summary).toMatch(/ready +3 +not ready: readiness check ready-cmd-1 failing: exit 17 for \d+s; output: db replica lag 42s\n/);
    const failing = await usher.waitForLog('readiness check ready-cmd-1 failing');
    expect(failing).toMatchObject({ msg: 'readiness check ready-cmd-1 failing: exit 17; output: db replica lag 42s', result: 'exit 17', detail: 'output: db replica lag 42s' });
  });

  it('a message that changes at every run keeps "for Ns" counting from the first failure', async () => {
    const dir = folder();
    const counter = path.join(dir, 'runs');
    start(['--ready-cmd', `n=$(cat ${counter} 2>/dev/null || echo 0); n=$((n + 1)); echo $n > ${counter}; echo "db replica lag $n s"; exit 17`], dir);
    const first = await eventually(() => state(dir)?.readyCode === 3 && state(dir), 'ready code 3');
    const later = await eventually(() => {
      const now = state(dir);
      const n = Number(/lag (\d+) s$/.exec(now?.readyDetail ?? '')?.[1]);
      return now && n >= Number(/lag (\d+) s$/.exec(first.readyDetail)?.[1]) + 3 ? now : undefined;
    }, 'three more runs, each with its own message');
    expect(later.readyReason).toBe(first.readyReason);
    expect(later.reasonSince).toBe(first.reasonSince);
  });

  it('a passing check: ready answers 0, under --docker too, and prints nothing', async () => {
    const dir = folder();
    start(['--ready-cmd', 'echo all good'], dir);
    await eventually(() => state(dir)?.readyCode === 0, 'ready');
    for (const [who, answer] of [...everyProbe(['ready'], dir), ...everyProbe(['--docker', 'ready'], dir)]) {
      expect(answer, who).toEqual({ code: 0, stdout: '', stderr: '' });
    }
    expect(state(dir)).toMatchObject({ readyDetail: '', checks: [{ lastResult: 'ok', lastDetail: 'output: all good' }] });
  });

  it('a failing liveness check: the probe line, /livez and the "not live" log line say what it printed', async () => {
    const dir = folder();
    const usher = start(['--live-cmd', "echo 'heap 97% full' >&2; exit 3"], dir);
    const port = await httpPort(usher);
    await eventually(() => state(dir)?.liveCode === 3, 'live code 3');
    for (const [who, answer] of everyProbe(['live'], dir)) {
      expect(answer.code, who).toBe(3);
      // Ready all along, so no "for …": that counts how long readiness has been held back.
      expect(answer.stderr, who).toBe('not live: liveness check live-cmd-1 failing: exit 3; output: heap 97% full\n');
    }
    for (const [who, answer] of everyProbe(['--docker', 'live'], dir)) expect(answer, who).toMatchObject({ code: 1, stdout: expect.stringContaining('; output: heap 97% full\n') });
    expect(JSON.parse((await get(port, '/livez')).body)).toMatchObject({ code: 3, reason: 'liveness check live-cmd-1 failing: exit 3', detail: null });
    await usher.waitForLog('not live: liveness check live-cmd-1 failing: exit 3; output: heap 97% full');
  });

  it('the line is one clean line of 200 characters at most, and a URL in it keeps its secrets', async () => {
    const dir = folder();
    const secret = 'S3cr3t-pw-5e1a';
    // A coloured error naming a URL with a password, a tab, a bidi override, then a very long tail.
    const printed = `printf '\\033[31mERROR\\033[0m\\tno route to postgres://app:${secret}@127.0.0.1:5432/db?sslpassword=${secret} \\342\\200\\256 %s\\n' "$(printf '%0500d' 0)"; exit 2`;
    const usher = start(['--ready-cmd', printed], dir);
    const port = await httpPort(usher);
    const written = await eventually(() => (state(dir)?.readyCode === 3 ? state(dir) : undefined), 'ready code 3');
    const shown = 'ERROR no route to postgres://***:***@127.0.0.1:5432/db?sslpassword=***';
    expect(written.readyDetail).toMatch(new RegExp(`^output: ${escape(shown)} 0+\\.\\.\\.$`));
    expect(Array.from(written.readyDetail.slice('output: '.length))).toHaveLength(200);
    expect(written.checks[0]!.lastDetail).toBe(written.readyDetail);
    const outputs = [
      ...everyProbe(['ready'], dir).map(([who, answer]) => [who, answer.stderr] as const),
      ['usher status', run(USHER, ['status', '--state-dir', dir]).stdout] as const,
    ];
    for (const [who, text] of outputs) {
      expect(text, who).toContain(shown);
      expect(text.includes(secret), `${secret} in ${who}`).toBe(false);
      expect(/[\u0000-\u0009\u000b-\u001f\u202e]/.test(text), `a control character in ${who}`).toBe(false);
    }
    // Over HTTP, not even the cleaned line of a command's output.
    for (const route of ['/readyz', '/status']) {
      const body = (await get(port, route)).body;
      expect(body.includes('no route to postgres'), route).toBe(false);
      expect(body.includes(secret), route).toBe(false);
    }
    await usher.waitForLog('readiness check ready-cmd-1 failing');
    usher.kill('SIGTERM');
    await usher.exited;
    expect(usher.stderr.includes(secret), 'the secret in usher\'s log').toBe(false);
  });
});

describe('HTTP and TCP checks say what went wrong', () => {
  it('HTTP: the status and the first line of a failing answer\'s body; nothing of an HTML page', async () => {
    const plain = await httpServer((response) => response.writeHead(503, { 'Content-Type': 'text/plain' }).end('\n  upstream db down  \nsecond line\n'));
    const json = await httpServer((response) => response.writeHead(500, { 'Content-Type': 'application/json' }).end('{"status":"down","db":"timeout"}'));
    const page = await httpServer((response) => response.writeHead(502, { 'Content-Type': 'text/html' }).end('<!DOCTYPE html>\n<h1>Bad gateway</h1>\n'));
    const dir = folder();
    start(['--ready-http', `http://127.0.0.1:${plain}/healthz`, '--ready-http', `http://127.0.0.1:${json}/healthz`, '--ready-http', `http://127.0.0.1:${page}/healthz`], dir);
    const written = await eventually(() => {
      const now = state(dir);
      return now?.checks.every((check) => check.status === 'failing') ? now : undefined;
    }, 'all three checks failing');
    expect(written.checks.map((check) => [check.lastResult, check.lastDetail])).toEqual([
      ['HTTP 503', 'body: upstream db down'],
      ['HTTP 500', 'body: {"status":"down","db":"timeout"}'],
      ['HTTP 502', ''],
    ]);
    for (const [who, answer] of everyProbe(['ready'], dir)) {
      expect(answer.stderr, who).toMatch(/^not ready: readiness check ready-http-1 failing: HTTP 503 for \d+s; body: upstream db down\n$/);
    }
    expect(run(USHER, ['status', '--state-dir', dir]).stdout).toContain('> body: {"status":"down","db":"timeout"}');
  });

  it('HTTP: a failing answer whose body never ends is its status and what came by the deadline, not a timeout', async () => {
    const port = await httpServer((response) => {
      response.writeHead(503, { 'Content-Type': 'text/plain' });
      response.write('still warming'); // no newline, no end: the deadline cuts it off
    });
    const dir = folder();
    start(['--ready-http', `http://127.0.0.1:${port}/healthz`], dir);
    const written = await eventually(() => (state(dir)?.checks[0]?.status === 'failing' ? state(dir) : undefined), 'the check failing');
    expect(written.checks[0]).toMatchObject({ lastResult: 'HTTP 503', lastDetail: 'body: still warming' });
    expect(written.checks[0]!.lastDurationMs).toBeGreaterThanOrEqual(450);
  });

  it('TCP: the error, with the address', async () => {
    const closed = createTcpServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const dir = folder();
    start(['--ready-tcp', `127.0.0.1:${port}`], dir);
    await eventually(() => state(dir)?.readyCode === 3, 'ready code 3');
    for (const [who, answer] of everyProbe(['ready'], dir)) {
      expect(answer.stderr, who).toMatch(new RegExp(`^not ready: readiness check ready-tcp-1 failing: ECONNREFUSED for \\d+s; connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\n$`));
    }
  });
});
