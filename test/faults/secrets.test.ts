import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../src/checks/redact.js';
import type { StateFile } from '../../src/state/schema.js';
import { closeServersAfterEach, eventually, killLeftRunning, runUsher, startUsher, USHER, type Run } from '../helpers/usher.js';

// Fault: `--ready-http http://admin:pw@host/health?key=pw` showed the password in /status and in
// the log line "readiness check … passing", and a command check's command (`PGPASSWORD=… psql`)
// was written to state.json. Every output now hides them; the checks still use the real ones.

const runs = killLeftRunning();
const servers = closeServersAfterEach();

const USER = 'usher-user-5d2b';
const PASSWORD = 'pw-S3cr3t-9a71';
const KEY = 'k3y-V4lue-03c8';
const COMMAND_SECRET = 'cmd-S3cret-7e44';
const SECRETS = [USER, PASSWORD, KEY, COMMAND_SECRET] as const;

/** A health endpoint that answers 200 only to the real credentials and key; counts the requests that had them. */
async function guardedServer(): Promise<{ port: number; authorized: () => number }> {
  let authorized = 0;
  const expected = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
  const server = createServer((req: IncomingMessage, response) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const ok = req.headers.authorization === expected && url.searchParams.get('key') === KEY;
    if (ok) authorized += 1;
    response.writeHead(ok ? (url.pathname === '/health' ? 200 : 404) : 401).end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, authorized: () => authorized };
}

function get(port: number, urlPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: urlPath, agent: false, timeout: 5000 }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${urlPath}: no answer within 5 s`)));
    req.on('error', reject).end();
  });
}

function usherStatus(dir: string, json = false): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(USHER, ['status', '--state-dir', dir, ...(json ? ['--json'] : [])], { timeout: 10_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`usher status failed: ${error.message}\n${stderr}`));
      else resolve(stdout + stderr);
    });
  });
}

function expectNoSecret(where: string, text: string): void {
  for (const secret of SECRETS) expect(text.includes(secret), `${secret} in ${where}`).toBe(false);
}

async function httpPort(run: Run): Promise<number> {
  const line = await run.waitForLog('HTTP server listening');
  return Number(String(line.address).split(':').pop());
}

describe('secrets in check targets', () => {
  it('are used by the checks and shown nowhere: log lines, /status, state.json, usher status', async () => {
    const app = await guardedServer();
    const dir = mkdtempSync(path.join(tmpdir(), 'usher-secrets-'));
    const url = (urlPath: string): string => `http://${USER}:${PASSWORD}@127.0.0.1:${app.port}${urlPath}?key=${KEY}`;
    const run = startUsher([
      '--state-dir', dir, '--http', '127.0.0.1:0', '--check-interval', '200ms', '--check-failures', '1',
      '--ready-http', url('/health'), '--live-http', url('/nope'), '--live-cmd', `PGPASSWORD=${COMMAND_SECRET} true`,
      '--', 'sleep', '60',
    ]);
    runs.current = run;
    const port = await httpPort(run);
    // The server answers 200 to the real credentials only: passing means the check used them.
    const passing = await run.waitForLog('readiness check ready-http-1 passing');
    const failing = await run.waitForLog('liveness check live-http-1 failing');
    expect(app.authorized()).toBeGreaterThanOrEqual(2);
    const shown = (urlPath: string): string => `http://***:***@127.0.0.1:${app.port}${urlPath}?key=***`;
    expect(passing.target).toBe(shown('/health'));
    expect(failing).toMatchObject({ target: shown('/nope'), result: 'HTTP 404' });
    const stateText = await eventually(() => {
      const text = readFileSync(path.join(dir, 'state.json'), 'utf8');
      const state = JSON.parse(text) as StateFile;
      return state.checks.every((check) => check.lastRunAt !== null) && state.readyCode === 0 ? text : undefined;
    }, 'every check run, in state.json');
    const state = JSON.parse(stateText) as StateFile;
    expect(state.checks.map((check) => check.target)).toEqual([shown('/health'), '(command)', shown('/nope')]);
    const status = await get(port, '/status');
    expect((JSON.parse(status) as StateFile).checks.map((check) => check.target)).toEqual([shown('/health'), '(command)', shown('/nope')]);
    const summary = await usherStatus(dir);
    expect(summary).toContain(`(http ${shown('/health')})`);
    expect(summary).toMatch(/live-cmd-1 +passing .*\(command\)/);
    for (const [where, text] of [['state.json', stateText], ['/status', status], ['usher status', summary], ['usher status --json', await usherStatus(dir, true)], ['/metrics', await get(port, '/metrics')]] as const) {
      expectNoSecret(where, text);
    }
    run.kill('SIGTERM');
    await run.exited;
    expectNoSecret('usher\'s stderr', run.stderr);
    expectNoSecret('usher\'s stdout', run.stdout);
  });

  it('are left out of the message for a URL usher refuses', async () => {
    const refused = await runUsher(['--ready-http', `ftp://${USER}:${PASSWORD}@127.0.0.1/x?key=${KEY}`, '--', 'true']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('invalid URL "ftp://***:***@127.0.0.1/x?key=***": only http and https');
    const broken = await runUsher(['--ready-http', `http://${USER}:${PASSWORD}/x@127.0.0.1:99999/?key=${KEY}`, '--', 'true']);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('invalid URL');
    for (const text of [refused.stderr, broken.stderr]) expectNoSecret('the refusal', text);
  });
});

describe('what is shown of a URL', () => {
  it.each([
    ['http://admin:pw@127.0.0.1:8080/health?key=pw', 'http://***:***@127.0.0.1:8080/health?key=***'],
    ['http://127.0.0.1:8080/health', 'http://127.0.0.1:8080/health'],
    ['https://token@[::1]:8443/x', 'https://***@[::1]:8443/x'],
    ['http://:pw@127.0.0.1/', 'http://:***@127.0.0.1/'],
    ['http://127.0.0.1/h?a=1&flag&empty=&b=2#frag', 'http://127.0.0.1/h?a=***&***&empty=&b=***#***'],
    ['http://127.0.0.1/users/@me?x=1', 'http://127.0.0.1/users/@me?x=***'],
    // Broken text (a message for a refused URL): everything up to the last @ is user info.
    ['http://admin:p/w?#@127.0.0.1/x?k=v', 'http://***:***@127.0.0.1/x?k=***'],
    ['admin:pw@127.0.0.1', '***:***@127.0.0.1'],
  ])('%s is shown as %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });
});
