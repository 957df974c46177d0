import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { StateFile } from '../../src/state/schema.js';
import { eventually, FIXTURES, killLeftRunning, ROOT, startUsher, type Run } from '../helpers/usher.js';

// Port readiness with real sockets: which listener makes usher ready, and which does not.

const APP = path.join(FIXTURES, 'listen-app.mjs');
const REUSEPORT = path.join(FIXTURES, 'reuseport-listener.py');
const USHER_PROBE = path.join(ROOT, 'bin/usher-probe');
/** Port readiness polls every 50 ms until ready: ten polls, for what must stay absent. */
const TEN_POLLS_MS = 500;

const runs = killLeftRunning();

/** A port nothing listens on now (the kernel picks it; the listener is closed again at once). */
async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function start(args: readonly string[], env: NodeJS.ProcessEnv): { run: Run; dir: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'usher-port-'));
  runs.current = startUsher(['--state-dir', dir, ...args], { env: { KUBERNETES_SERVICE_HOST: '', ...env } });
  return { run: runs.current, dir };
}

const stateOf = (dir: string): StateFile | undefined => {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'state.json'), 'utf8')) as StateFile;
  } catch {
    return undefined;
  }
};
const ready = (dir: string): { code: number | null; line: string } => {
  const probe = spawnSync(USHER_PROBE, ['ready', dir], { encoding: 'utf8' });
  return { code: probe.status, line: probe.stderr.trim() };
};
const afterTenPolls = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, TEN_POLLS_MS));

describe('port readiness ($PORT, --ready-port)', () => {
  it('waits for a listener on :: (IPv6, Node\'s default), and never connects to it', async () => {
    const port = await freePort();
    const { run, dir } = start(['--', 'node', APP], { PORT: String(port), DELAY: '600' });
    await eventually(() => ready(dir).code === 1 && ready(dir).line.startsWith(`not ready: waiting for the app to listen on :${port}`), 'not ready before it listens');
    await run.waitForStdout(`listening ${port}`);
    await eventually(() => ready(dir).code === 0, 'ready once it listens');
    const log = await run.waitForLog(`listening on :${port}`);
    expect(log.address).toBe(`[::]:${port}`);
    expect(stateOf(dir)?.readiness).toEqual([{ source: 'app', ready: true, reason: '' }, { source: 'ports', ready: true, reason: '' }]);
    run.kill('SIGUSR1');
    await run.waitForStdout('accepted=');
    expect(run.stdout).toContain('accepted=0');
  });

  it('counts a 127.0.0.1 listener (local development), and warns under Kubernetes that it is unreachable from outside', async () => {
    const port = await freePort();
    const plain = start(['--', 'node', APP], { PORT: String(port), HOST: '127.0.0.1' });
    await eventually(() => ready(plain.dir).code === 0, 'ready on loopback');
    expect(plain.run.logs.some((line) => line.msg.includes('nothing outside the container can reach it'))).toBe(false);
    const other = await freePort();
    const kube = start(['--', 'node', APP], { PORT: String(other), HOST: '127.0.0.1', KUBERNETES_SERVICE_HOST: '10.0.0.1' });
    const warning = await kube.run.waitForLog((line) => line.msg.includes('nothing outside the container can reach it'));
    expect(warning.msg).toBe(`the app listens on 127.0.0.1:${other} only: ready, but nothing outside the container can reach it (bind 0.0.0.0 or ::)`);
    await eventually(() => ready(kube.dir).code === 0, 'still ready');
  });

  it('goes unready when the listener closes, saying so, and ready again when it reopens', async () => {
    const port = await freePort();
    const { run, dir } = start(['--', 'node', APP], { PORT: String(port) });
    await eventually(() => ready(dir).code === 0, 'ready');
    run.kill('SIGUSR2');
    await run.waitForStdout('closed');
    await eventually(() => ready(dir).code === 3, 'unready after the close (within a slow poll)');
    expect(ready(dir).line).toMatch(new RegExp(`^not ready: no longer listening on :${port} for \\d+s$`));
    await run.waitForLog(`no longer listening on :${port}`);
    run.kill('SIGHUP');
    await eventually(() => ready(dir).code === 0, 'ready again');
    await run.waitForLog(`listening on :${port} again`);
  });

  it('does not count another process listening on the port with SO_REUSEPORT; counts the app\'s child holding it', async () => {
    const port = await freePort();
    const sidecar = spawn('python3', [REUSEPORT, String(port)], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve) => sidecar.stdout.on('data', (text: Buffer) => text.toString().startsWith('listening') && resolve()));
      // The app is a shell whose child (not exec'd) opens its own SO_REUSEPORT listener on a gate.
      const gate = path.join(mkdtempSync(path.join(tmpdir(), 'usher-gate-')), 'go');
      const script = `while [ ! -e ${gate} ]; do sleep 0.02; done; python3 ${REUSEPORT} ${port}; true`;
      const { run, dir } = start(['--ready-port', String(port), '--', 'sh', '-c', script], {});
      await eventually(() => stateOf(dir)?.phase === 'running', 'running');
      await afterTenPolls();
      expect(ready(dir).code).toBe(1);
      spawnSync('touch', [gate]);
      await eventually(() => ready(dir).code === 0, 'ready once the app\'s child listens');
      const log = await run.waitForLog(`listening on :${port}`);
      expect(log.pid).not.toBe(run.logs.find((line) => line.msg === 'app started')?.pid);
    } finally {
      sidecar.kill('SIGKILL');
      await new Promise((resolve) => sidecar.once('exit', resolve));
    }
  });

  it('with two ports, names the one missing', async () => {
    const [first, second] = [await freePort(), await freePort()];
    const { dir } = start(['--ready-port', String(first), '--ready-port', String(second), '--', 'node', APP], { PORT: String(first) });
    await eventually(() => ready(dir).line.startsWith(`not ready: waiting for the app to listen on :${second}`), 'the second port named');
    expect(stateOf(dir)?.readyPorts).toEqual([first, second]);
    expect(stateOf(dir)?.readinessHeldBy).toBe('ports');
  });

  it('says every 10 s which port it waits for and where the app listens instead', async () => {
    const [wanted, actual] = [await freePort(), await freePort()];
    const { run } = start(['--ready-port', String(wanted), '--', 'node', APP], { PORT: String(actual), HOST: '127.0.0.1' });
    const line = await run.waitForLog((entry) => entry.msg.startsWith('still not listening'), 15_000);
    expect(line.msg).toBe(`still not listening on :${wanted} after 10s (the app listens on 127.0.0.1:${actual})`);
  });

  it('ignores a PORT that is not a number, saying so once; --ready-port none turns port readiness off', async () => {
    const abc = start(['--', 'node', APP], { PORT: 'abc' });
    await eventually(() => ready(abc.dir).code === 0, 'ready as soon as it runs');
    await abc.run.waitForLog('app started'); // said after the warning: the log has been read that far
    expect(abc.run.logs.filter((line) => line.msg.includes('PORT="abc" is not a port number')).length).toBe(1);
    const port = await freePort();
    const off = start(['--ready-port', 'none', '--', 'node', APP], { PORT: String(port), DELAY: '60000' });
    await eventually(() => ready(off.dir).code === 0, 'ready without a listener');
    expect(off.run.logs.find((line) => line.msg === 'app started')?.readyPorts).toBe('none');
  });

  it('says in the start line when readiness only means the app runs, naming the flags that fix it', async () => {
    const { run } = start(['--', 'node', APP], { PORT: '' });
    const line = await run.waitForLog('app started');
    expect(line.readiness).toMatch(/^the app runs, nothing says when it serves: set PORT or --ready-port/);
    const port = await freePort();
    const listening = start(['--', 'node', APP], { PORT: String(port) });
    expect((await listening.run.waitForLog('app started')).readiness).toBeUndefined();
  });
});
