import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, USHER, killLeftRunning, startUsher, type Run } from '../helpers/usher.js';

/**
 * Fault: a Procfile runner's Ctrl-C sends INT (from the terminal, to the whole foreground
 * process group) and TERM (from the runner, to each process) within milliseconds. usher took
 * the second one as "stop now" and SIGKILLed the app: exit 137, the request in flight dropped.
 * Now, once the stop signal went out, a further signal is forwarded (after rewriting) like any
 * other, and SIGKILL comes only at the grace end; a second TERM/INT during the drain still ends
 * the drain.
 */
if (spawnSync('script', ['--version']).status !== 0) throw new Error('util-linux `script` is needed for the Procfile runner test: apt-get install bsdutils');
if (spawnSync('foreman', ['version']).status !== 0) throw new Error('foreman is needed for the Procfile runner test: apt-get install ruby-foreman');

const APP = path.join(FIXTURES, 'graceful-http-app.mjs');
const RECORDER = path.join(FIXTURES, 'signal-recorder.mjs');
const NO_PLATFORM = { KUBERNETES_SERVICE_HOST: '', DYNO: '' };

const runs = killLeftRunning();

function start(args: readonly string[]): Run {
  runs.current = startUsher(args, { env: NO_PLATFORM });
  return runs.current;
}

/** Rejects after `ms`, naming what did not happen: every wait of this file is bounded. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

interface Upload {
  readonly request: ClientRequest;
  /** The status and body, or the error that ended the request (a reset when the app is killed). */
  readonly done: Promise<{ status: number; body: string } | { error: string }>;
}

/**
 * A request in flight that the test ends: a POST to the app on loopback whose body is sent in
 * two parts; the app answers once the body is complete, so the request stays in flight until
 * `request.end()`, however slow or loaded the machine.
 */
function upload(port: number): Upload {
  const request = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/upload', agent: false, headers: { 'Transfer-Encoding': 'chunked' } });
  const done = new Promise<{ status: number; body: string } | { error: string }>((resolve) => {
    request.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (text: string) => (body += text));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', (error) => resolve({ error: error.message }));
    });
    request.on('error', (error) => resolve({ error: error.message }));
  });
  request.write('first half;');
  return { request, done };
}

describe('a signal while stopping is forwarded, not turned into SIGKILL', () => {
  it('INT then TERM 2 ms apart (a Procfile runner\'s Ctrl-C): the request in flight completes, usher exits 0', async () => {
    const run = start(['--', 'node', APP]);
    const port = Number(/listening (\d+)/.exec(await run.waitForStdout(/listening \d+\n/))![1]);
    const inFlight = upload(port);
    await run.waitForStdout('request started\n');
    // The terminal's INT and the runner's TERM, as close together as they come in practice.
    run.kill('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 2));
    run.kill('SIGTERM');
    // usher has dealt with the second signal (forwarded it, or, as it used to, SIGKILLed the
    // app) before the request is allowed to finish: the app is mid-stop with a request open.
    const second = await run.waitForLog(/^SIGTERM received/);
    // Forwarded: the app takes it in its event loop, maybe after the request's end; so the
    // request ends only once the app has the TERM too, and the TERM lands mid-stop.
    if (second.msg.includes('forwarded')) await run.waitForStdout('got SIGTERM\n');
    inFlight.request.end('second half');
    expect(await within(inFlight.done, 10_000, 'the response')).toEqual({ status: 200, body: 'done 22\n' });
    const exit = await run.exited;
    expect(exit.code).toBe(0);
    expect(run.stdout).toContain('got SIGINT\n');
    expect(run.stdout).toContain('got SIGTERM\n');
    expect(run.stdout).toContain('stopped gracefully\n');
    expect(run.logs.map((line) => line.msg)).toContain('SIGTERM received while stopping: forwarded as SIGTERM; SIGKILL at the grace end');
    expect(run.logs.some((line) => /SIGKILL now|grace period .* over/.test(line.msg))).toBe(false);
  });

  it('tini\'s -r 15:3 (TERM rewritten to QUIT): TERM then INT give the app QUIT, the stop signal, then INT; no SIGKILL', async () => {
    const run = start(['-r', '15:3', '--', 'node', RECORDER, '--exit-on', 'SIGINT']);
    await run.waitForStdout('ready');
    run.kill('SIGTERM');
    // The app has its stop signal before the INT is sent: the INT is a signal while stopping,
    // and the order the app sees is fixed (two signals pending at once are taken lowest first,
    // INT before QUIT, whatever order they were sent in).
    await run.waitForStdout('SIGQUIT\n');
    run.kill('SIGINT');
    const exit = await run.exited;
    expect(run.stdout.split('\n').filter(Boolean).slice(1)).toEqual(['SIGQUIT', 'SIGINT']);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(run.logs.map((line) => line.msg)).toContain('SIGINT received while stopping: forwarded as SIGINT; SIGKILL at the grace end');
  });

  it('a second TERM while stopping is rewritten like the first (-r 15:3: QUIT again)', async () => {
    const run = start(['-r', '15:3', '--', 'node', RECORDER, '--exit-on', 'SIGINT']);
    await run.waitForStdout('ready');
    run.kill('SIGTERM');
    await run.waitForStdout('SIGQUIT\n');
    run.kill('SIGTERM');
    await run.waitForStdout(/SIGQUIT\nSIGQUIT\n/);
    await run.waitForLog('SIGTERM received while stopping: forwarded as SIGQUIT; SIGKILL at the grace end');
    run.kill('SIGINT');
    expect((await run.exited).code).toBe(0);
  });

  it('a second TERM during the drain still ends the drain: the stop signal goes out now', async () => {
    const run = start(['--drain', '30s', '--', 'node', RECORDER, '--exit-on', 'SIGTERM']);
    await run.waitForStdout('ready');
    run.kill('SIGTERM');
    await run.waitForLog('draining for 30s');
    run.kill('SIGTERM');
    await run.waitForLog('received again during the drain: stopping now');
    const exit = await run.exited;
    expect(exit.code).toBe(0);
    expect(run.stdout).toContain('SIGTERM\n');
  });
});

/** Every process below pid, from the kernel's children lists. */
function treeOf(pid: number): number[] {
  const found: number[] = [];
  const pending = [pid];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    let children: number[] = [];
    try {
      children = readFileSync(`/proc/${next}/task/${next}/children`, 'latin1').split(' ').filter(Boolean).map(Number);
    } catch {
      continue;
    }
    found.push(...children);
    pending.push(...children);
  }
  return found;
}

/** The foreman runs of a test, killed with what they started if the test failed midway. */
const terminals: ChildProcess[] = [];
afterEach(() => {
  for (const child of terminals.splice(0)) {
    // The tree first (the app is in a session of its own), then script itself, each by pid.
    for (const pid of [...treeOf(child.pid!), child.pid!]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});

const procDir = mkdtempSync(path.join(tmpdir(), 'usher-foreman-'));
afterAll(() => rmSync(procDir, { recursive: true, force: true }));

/** foreman's output without colours and carriage returns. */
function plain(screen: string): string {
  // eslint-disable-next-line no-control-regex
  return screen.replace(/\x1b\[[0-9;]*m/g, '').replace(/\r/g, '');
}

/**
 * foreman (Debian's ruby-foreman 0.87) in a real pseudo-terminal, as a developer runs it, with
 * `web: usher -- node app`. foreman spawns usher in its own process group, the terminal's
 * foreground group; usher starts the app in a session of its own. A Ctrl-C typed into the
 * terminal: the kernel sends INT to foreman and usher; foreman then sends TERM to usher (its
 * main loop notices the INT within a second) and waits 5 s before SIGKILL.
 */
async function foremanCtrlC(round: number): Promise<void> {
  const procfile = path.join(procDir, `Procfile.${round}`);
  writeFileSync(procfile, `web: ${USHER} --log-format text -- node ${APP}\n`);
  const child = spawn('script', ['-qfec', `exec foreman start -f ${procfile}`, '/dev/null'], {
    cwd: procDir, // no .env of anyone's
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...NO_PLATFORM, TERM: 'dumb' },
  });
  terminals.push(child);
  let screen = '';
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    screen += text;
    for (const waiter of [...waiters]) waiter();
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const waitFor = (pattern: RegExp, timeoutMs = 15_000): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = pattern.exec(plain(screen));
        if (!found) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`round ${round}: timed out waiting for ${String(pattern)}; screen:\n${plain(screen)}`));
      }, timeoutMs);
      waiters.add(check);
      check();
    });

  const port = Number((await waitFor(/web\.1\s+\| listening (\d+)\n/))[1]);
  const inFlight = upload(port);
  await waitFor(/web\.1\s+\| request started\n/);
  child.stdin!.write('\x03'); // Ctrl-C: the line discipline sends INT to the foreground group
  await waitFor(/SIGINT received, starting shutdown/);
  // foreman's TERM has reached usher, which forwarded it (or, as it used to, SIGKILLed the app):
  // only then may the request finish, so the TERM hits an app that is still stopping.
  const second = (await waitFor(/usher: SIGTERM received[^\n]*\n/))[0];
  if (second.includes('forwarded')) await waitFor(/web\.1\s+\| got SIGTERM\n/);
  inFlight.request.end('second half');
  const response = await within(inFlight.done, 10_000, 'the response');
  await waitFor(/web\.1\s+\| exited with code \d+\n/);
  const code = await within(exited, 10_000, 'foreman to exit');
  const text = plain(screen);
  expect(response, text).toEqual({ status: 200, body: 'done 22\n' });
  expect(text).toMatch(/web\.1\s+\| got SIGINT\n/);
  expect(text).toMatch(/web\.1\s+\| stopped gracefully\n/);
  expect(text).toContain('usher: SIGTERM received while stopping: forwarded as SIGTERM; SIGKILL at the grace end');
  expect(text).toMatch(/web\.1\s+\| exited with code 0\n/);
  expect(code, text).toBe(0);
  terminals.splice(terminals.indexOf(child), 1);
}

describe('the real Procfile runner: foreman in a pseudo-terminal', () => {
  it('a Ctrl-C stops the app gracefully: the request completes, its own exit line, exit 0 (3 runs)', async () => {
    for (let round = 1; round <= 3; round += 1) await foremanCtrlC(round);
  });
});
