import { spawn, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildSync, stop as stopEsbuild } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NotifySocketError, openNotifySocket, parseNotify, type NotifyMessage, type NotifySocket } from '../../src/notify/notify-socket.js';
import { sdNotify } from '../helpers/sd-notify.js';
import { ROOT } from '../helpers/usher.js';

// buildSync starts esbuild's service process: stop it, so the file leaves nothing running.
afterAll(() => stopEsbuild());

const WAIT_MS = 10_000;

let dir: string;
/** The module under test and the client, bundled for `node -e` children (which cannot load .ts). */
let bundle: string;
const opened: NotifySocket[] = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'usher-notify-'));
  bundle = path.join(dir, 'notify.cjs');
  buildSync({
    stdin: {
      contents: "export { sdNotify } from './test/helpers/sd-notify.ts'; export { openNotifySocket } from './src/notify/notify-socket.ts';",
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['koffi'],
    outfile: bundle,
    logLevel: 'silent',
  });
});

afterEach(() => {
  for (const socket of opened.splice(0)) socket.close();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let count = 0;
function socketPath(): string {
  count += 1;
  return path.join(dir, `n${count}.sock`);
}

interface Listening {
  readonly socket: NotifySocket;
  readonly messages: NotifyMessage[];
  readonly errors: Error[];
  /** Resolves once `count` messages in all have arrived (bounded). */
  received(count: number): Promise<NotifyMessage[]>;
  /** Resolves once an error has been reported (bounded). */
  failed(): Promise<Error>;
}

function listen(at = socketPath(), pollTimeoutMs?: number): Listening {
  const messages: NotifyMessage[] = [];
  const errors: Error[] = [];
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const waiter of [...waiters]) waiter();
  };
  const socket = openNotifySocket({
    path: at,
    onMessage: (message) => {
      messages.push(message);
      notify();
    },
    onError: (error) => {
      errors.push(error);
      notify();
    },
    ...(pollTimeoutMs === undefined ? {} : { pollTimeoutMs }),
  });
  opened.push(socket);
  const until = <T>(value: () => T | undefined, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = value();
        if (found === undefined) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; got ${messages.length} messages: ${JSON.stringify(messages.slice(-3).map((m) => m.raw))}, errors: ${errors.map((e) => e.message).join('; ')}`));
      }, WAIT_MS);
      waiters.add(check);
      check();
    });
  return {
    socket,
    messages,
    errors,
    received: (n) => until(() => (messages.length >= n ? messages.slice(0, n) : undefined), `${n} messages`),
    failed: () => until(() => errors[0], 'an error'),
  };
}

interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node -e script` with the bundle as `n` (args after the script are process.argv[1…]). */
function node(script: string, args: readonly string[] = []): { pid: number; done: Promise<ChildResult>; kill(signal: NodeJS.Signals): void } {
  const child = spawn(process.execPath, ['-e', `const n = require(${JSON.stringify(bundle)});\n${script}`, ...args], {
    env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules'), NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<ChildResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node -e child still running after ${WAIT_MS} ms; stdout: ${stdout} stderr: ${stderr}`));
    }, WAIT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { pid: child.pid ?? 0, done, kill: (signal) => child.kill(signal) };
}

describe('parseNotify', () => {
  it('reads KEY=VALUE lines, splitting at the first = only', () => {
    expect(parseNotify('READY=1\nSTATUS=Listening on 8080, mode=cluster\nMAINPID=123')).toEqual(
      new Map([['READY', '1'], ['STATUS', 'Listening on 8080, mode=cluster'], ['MAINPID', '123']]),
    );
  });

  it('ignores malformed lines, keeps empty values, and lets a repeated key win last', () => {
    expect(parseNotify('garbage\n=nokey\n\nBAD-KEY=1\n9LIVES=1\nNUL=a\0b\nSTATUS=\nREADY=0\nREADY=1\n')).toEqual(
      new Map([['STATUS', ''], ['READY', '1']]),
    );
    expect(parseNotify('')).toEqual(new Map());
  });
});

describe('openNotifySocket with a real sd_notify client', () => {
  it('receives READY=1', async () => {
    const listening = listen();
    sdNotify(listening.socket.path, 'READY=1');
    const [message] = await listening.received(1);
    expect(message?.raw).toBe('READY=1');
    expect(message?.fields).toEqual(new Map([['READY', '1']]));
  });

  it('receives STOPPING=1 and WATCHDOG=1', async () => {
    const listening = listen();
    sdNotify(listening.socket.path, 'STOPPING=1');
    sdNotify(listening.socket.path, 'WATCHDOG=1');
    const messages = await listening.received(2);
    expect(messages.map((m) => Object.fromEntries(m.fields))).toEqual([{ STOPPING: '1' }, { WATCHDOG: '1' }]);
  });

  it('keeps spaces and = in a STATUS value, and UTF-8', async () => {
    const listening = listen();
    sdNotify(listening.socket.path, 'STATUS=Listening on 8080 (mode=cluster, workers=2) ✓');
    const [message] = await listening.received(1);
    expect(message?.fields.get('STATUS')).toBe('Listening on 8080 (mode=cluster, workers=2) ✓');
  });

  it('reads several fields from one datagram', async () => {
    const listening = listen();
    sdNotify(listening.socket.path, 'READY=1\nSTATUS=x\nMAINPID=123');
    const [message] = await listening.received(1);
    expect(Object.fromEntries(message?.fields ?? [])).toEqual({ READY: '1', STATUS: 'x', MAINPID: '123' });
    expect(message?.raw).toBe('READY=1\nSTATUS=x\nMAINPID=123');
  });

  it('receives Puma-style messages (connect, then send, one per call)', async () => {
    const listening = listen();
    const status = 'Puma 6.4.2: cluster: 2/2, worker_status: [{ 0/5 threads, 5 available, 0 backlog },{ 0/5 threads, 5 available, 0 backlog }]';
    for (const text of ['MAINPID=4242', `STATUS=${status}`, 'READY=1', 'WATCHDOG=1', 'STOPPING=1']) sdNotify(listening.socket.path, text, { connect: true });
    const messages = await listening.received(5);
    expect(messages.map((m) => [...m.fields])).toEqual([[['MAINPID', '4242']], [['STATUS', status]], [['READY', '1']], [['WATCHDOG', '1']], [['STOPPING', '1']]]);
  });

  it('receives a datagram from another process', async () => {
    const listening = listen();
    const child = node('n.sdNotify(process.argv[1], `READY=1\\nMAINPID=${process.pid}`);', [listening.socket.path]);
    const [message] = await listening.received(1);
    expect(message?.fields.get('READY')).toBe('1');
    expect(message?.fields.get('MAINPID')).toBe(String(child.pid));
    expect(child.pid).not.toBe(process.pid);
    expect((await child.done).code).toBe(0);
  });

  it('receives a burst of 1000 datagrams, all of them, in order', async () => {
    const listening = listen();
    // From another process: the client blocks while the queue (max_dgram_qlen, often 10) is full.
    const child = node('for (let i = 0; i < 1000; i++) n.sdNotify(process.argv[1], `WATCHDOG=1\\nSEQ=${i}`);', [listening.socket.path]);
    const messages = await listening.received(1000);
    expect(messages.map((m) => m.fields.get('SEQ'))).toEqual(Array.from({ length: 1000 }, (_, i) => String(i)));
    expect((await child.done).code).toBe(0);
    expect(listening.errors).toEqual([]);
  });

  it('receives from systemd-notify (Debian systemd package), barrier included', async () => {
    if (spawnSync('sh', ['-c', 'command -v systemd-notify']).status !== 0) throw new Error('systemd-notify is needed: apt-get install systemd');
    const listening = listen();
    // Not spawnSync: systemd-notify then sends BARRIER=1 with a pipe's write end and waits (5 s)
    // for the listener to receive it, which drops the fd and so answers the barrier.
    const child = spawn('systemd-notify', ['--ready', '--status=Listening on 8080'], { env: { ...process.env, NOTIFY_SOCKET: listening.socket.path }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const [message] = await listening.received(1);
    expect(message?.fields.get('READY')).toBe('1');
    expect(message?.fields.get('STATUS')).toBe('Listening on 8080');
    expect(listening.messages.slice(1).map((m) => m.raw)).toEqual(['BARRIER=1']);
  });

  it('drops an oversized datagram with a non-fatal error and keeps listening', async () => {
    const listening = listen();
    sdNotify(listening.socket.path, `STATUS=${'x'.repeat(5000)}`);
    sdNotify(listening.socket.path, 'READY=1');
    const [message] = await listening.received(1);
    expect(message?.raw).toBe('READY=1');
    expect(listening.errors).toHaveLength(1);
    expect(listening.errors[0]).toBeInstanceOf(NotifySocketError);
    expect((listening.errors[0] as NotifySocketError).fatal).toBe(false);
    expect(listening.errors[0]?.message).toMatch(/dropped a 5007-byte datagram/);
  });

  it('reports a handler that throws through onError and keeps listening', async () => {
    const errors: Error[] = [];
    const raws: string[] = [];
    let done!: () => void;
    const second = new Promise<void>((resolve) => (done = resolve));
    const at = socketPath();
    const socket = openNotifySocket({
      path: at,
      onMessage: (message) => {
        raws.push(message.raw);
        if (raws.length === 1) throw new Error('boom');
        done();
      },
      onError: (error) => errors.push(error),
    });
    opened.push(socket);
    sdNotify(at, 'READY=1');
    sdNotify(at, 'STATUS=after');
    await second;
    expect(raws).toEqual(['READY=1', 'STATUS=after']);
    expect(errors.map((e) => e.message)).toEqual([`notify socket ${at}: the message handler threw: boom`]);
  });
});

describe('the socket file', () => {
  it('makes the path absolute, as sd_notify clients require', () => {
    const relative = path.relative(process.cwd(), socketPath());
    const listening = listen(relative);
    expect(listening.socket.path).toBe(path.resolve(relative));
    expect(lstatSync(listening.socket.path).isSocket()).toBe(true);
    expect(lstatSync(listening.socket.path).mode & 0o200).toBe(0o200);
  });

  it('refuses a path too long for a unix socket, naming it', () => {
    const long = path.join(dir, `${'x'.repeat(120)}.sock`);
    expect(() => openNotifySocket({ path: long, onMessage: () => {}, onError: () => {} })).toThrow(
      `cannot open notify socket ${long}: the path is ${Buffer.byteLength(long)} bytes long, and a unix socket path holds at most 107`,
    );
    expect(existsSync(long)).toBe(false);
  });

  it('refuses to replace a file that is not a socket, and names a missing directory', () => {
    const file = path.join(dir, 'regular');
    writeFileSync(file, 'keep me');
    expect(() => openNotifySocket({ path: file, onMessage: () => {}, onError: () => {} })).toThrow(`cannot open notify socket ${file}: a file that is not a socket is in the way`);
    expect(existsSync(file)).toBe(true);
    const missing = path.join(dir, 'no-such-dir', 'n.sock');
    expect(() => openNotifySocket({ path: missing, onMessage: () => {}, onError: () => {} })).toThrow(`cannot open notify socket ${missing}: bind() failed: ENOENT`);
  });

  it('replaces a stale socket left by a killed process', async () => {
    const at = socketPath();
    const child = node("n.openNotifySocket({ path: process.argv[1], onMessage() {}, onError() {} }); console.log('up');", [at]);
    await new Promise<void>((resolve) => {
      const check = (): void => void (existsSync(at) ? resolve() : setTimeout(check, 20));
      check();
    });
    child.kill('SIGKILL');
    expect((await child.done).signal).toBe('SIGKILL');
    expect(lstatSync(at).isSocket()).toBe(true);
    const listening = listen(at);
    sdNotify(at, 'READY=1');
    expect((await listening.received(1))[0]?.raw).toBe('READY=1');
  });
});

describe('close()', () => {
  it('removes the path; sending then fails like sd_notify without a listener', () => {
    const listening = listen();
    listening.socket.close();
    listening.socket.close(); // idempotent
    expect(existsSync(listening.socket.path)).toBe(false);
    expect(() => sdNotify(listening.socket.path, 'READY=1')).toThrow(/ENOENT/);
  });

  it('delivers nothing after close(), even a datagram already queued, and wakes the pending poll at once', async () => {
    // A poll timeout of a minute: the child can only end within the bound if close() woke the poll.
    // Its natural end also shows no threadpool call is left to fire a late callback.
    const at = socketPath();
    const child = node(
      `const s = n.openNotifySocket({ path: process.argv[1], pollTimeoutMs: 60000,
         onMessage: (m) => console.log('message ' + m.raw), onError: (e) => console.log('error ' + e.message) });
       setImmediate(() => {
         n.sdNotify(s.path, 'READY=1'); // queued; the poll sees it, but its callback runs after close()
         s.close();
         console.log('closed, path exists: ' + require('fs').existsSync(s.path));
       });
       process.on('exit', () => console.log('exit'));`,
      [at],
    );
    const result = await child.done;
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('closed, path exists: false\nexit\n');
    expect(result.code).toBe(0);
  });

  it('is done at process.exit() too: the exit is not held up by the pending poll, and the path is removed', async () => {
    const at = socketPath();
    const child = node(
      `n.openNotifySocket({ path: process.argv[1], pollTimeoutMs: 60000, onMessage() {}, onError() {} });
       setTimeout(() => process.exit(3), 50);`,
      [at],
    );
    const result = await child.done;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(3);
    expect(existsSync(at)).toBe(false);
  });

  it('may be called from onMessage: the rest of the batch is not delivered', async () => {
    const at = socketPath();
    const child = node(
      `let seen = 0;
       const s = n.openNotifySocket({ path: process.argv[1], pollTimeoutMs: 60000,
         onMessage: (m) => { seen++; console.log('message ' + m.raw); s.close(); }, onError: (e) => console.log('error ' + e.message) });
       // Three datagrams queued before the first poll returns: one drain would read them all.
       for (const text of ['A=1', 'B=2', 'C=3']) n.sdNotify(s.path, text);`,
      [at],
    );
    const result = await child.done;
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('message A=1\n');
    expect(existsSync(at)).toBe(false);
  });
});
