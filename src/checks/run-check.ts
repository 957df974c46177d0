import type { ChildProcess } from 'node:child_process';
import { SIG } from '../config/signals.js';
import { killLeftovers, signalGroup, spawnInGroup } from '../process/process-group-child.js';
import { formatDuration } from '../config/duration.js';
import { ownConnections } from '../ports/own-connections.js';
import type { CheckSpec } from './check-spec.js';

export interface CheckOutcome {
  readonly ok: boolean;
  /** `ok`, `exit 3`, `HTTP 500`, `timeout after 1s`, `ECONNREFUSED`, … */
  readonly result: string;
  readonly output: string;
}

export interface CheckContext {
  readonly timeoutMs: number;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly ownChildren: Set<number>;
}

const OUTPUT_LIMIT = 4096;

/** Runs one check once, within its timeout; never rejects: a check's own error is a failure. */
export async function runCheck(spec: CheckSpec, context: CheckContext): Promise<CheckOutcome> {
  try {
    switch (spec.type) {
      case 'cmd':
        return await runCommand(spec.target, context);
      case 'http':
        return await runHttp(spec.target, context.timeoutMs);
      case 'tcp':
        return await runTcp(spec.target, context.timeoutMs);
    }
  } catch (error) {
    return { ok: false, result: `error: ${(error as Error).message}`, output: '' };
  }
}

/**
 * `sh -c CMD` in a process group of its own. It is done when the shell exits (not when its
 * pipes close: a sleeper it forked may hold them); then, or at the timeout, the whole group
 * is killed, so a check leaves nothing behind.
 */
function runCommand(command: string, context: CheckContext): Promise<CheckOutcome> {
  return new Promise((resolve) => {
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-OUTPUT_LIMIT);
    };
    let child: ChildProcess;
    try {
      child = spawnInGroup('/bin/sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'], cwd: context.cwd, env: context.env }, context.ownChildren);
    } catch (error) {
      return resolve({ ok: false, result: `could not start: ${(error as Error).message}`, output: '' });
    }
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let settled = false;
    const settle = (outcome: CheckOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => {
      signalGroup(child.pid, SIG.KILL);
      settle({ ok: false, result: `timeout after ${formatDuration(context.timeoutMs)}`, output });
    }, context.timeoutMs);
    child.once('error', (error) => settle({ ok: false, result: `could not start: ${error.message}`, output }));
    child.once('exit', (code, signal) => {
      killLeftovers(child.pid, SIG.KILL);
      // Let output already in the pipes arrive before the result is taken.
      setImmediate(() => settle({ ok: code === 0, result: code === 0 ? 'ok' : signal ? `killed by ${signal}` : `exit ${code}`, output }));
    });
  });
}

/** node:http, node:https and node:net load on first use, not at every start of usher. */
function lazy<T>(id: 'node:http' | 'node:https' | 'node:net'): T {
  return require(id) as T;
}

/**
 * Runs an attempt under one deadline for all of it, whatever the peer does (a server that trickles
 * its header lines resets any idle timeout for ever): its outcome comes by then, else it is
 * `timeout after …`; and what it holds (its socket, a body still coming) is torn down then at the
 * latest. `finish` gives the outcome, `released` says the attempt holds nothing any more.
 */
function underDeadline(timeoutMs: number, attempt: (finish: (outcome: CheckOutcome) => void, released: () => void) => () => void): Promise<CheckOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: CheckOutcome): void => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    let abort = (): void => undefined;
    const timer = setTimeout(() => {
      finish({ ok: false, result: `timeout after ${formatDuration(timeoutMs)}`, output: '' });
      abort();
    }, timeoutMs);
    abort = attempt(finish, () => clearTimeout(timer));
  });
}

function runHttp(url: string, timeoutMs: number): Promise<CheckOutcome> {
  const { request } = url.startsWith('https:') ? lazy<typeof import('node:https')>('node:https') : lazy<typeof import('node:http')>('node:http');
  return underDeadline(timeoutMs, (finish, released) => {
    const req = request(url, { method: 'GET', agent: false, headers: { 'User-Agent': 'usher-check', Connection: 'close' } }, (response) => {
      const status = response.statusCode ?? 0;
      finish({ ok: status >= 200 && status < 400, result: `HTTP ${status}`, output: '' });
      // The status is the answer; the body is read and dropped until it ends, or the deadline
      // cuts it off (a destroyed response reports its abort as an error: not the check's).
      response.on('error', () => undefined);
      response.resume();
    });
    // The check's own connection is not the app's traffic (--drain-idle).
    req.on('socket', (socket) => socket.once('connect', () => ownConnections.connected(socket.localPort, new URL(url).hostname)));
    req.on('error', (error: NodeJS.ErrnoException) => finish({ ok: false, result: error.code ?? error.message, output: '' }));
    req.once('close', released);
    req.end();
    return () => req.destroy();
  });
}

function runTcp(target: string, timeoutMs: number): Promise<CheckOutcome> {
  const { connect } = lazy<typeof import('node:net')>('node:net');
  const separator = target.lastIndexOf(':');
  const host = target.slice(0, separator).replace(/^\[|\]$/g, '');
  const port = Number(target.slice(separator + 1));
  return underDeadline(timeoutMs, (finish, released) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      ownConnections.connected(socket.localPort, host); // not the app's traffic (--drain-idle)
      finish({ ok: true, result: 'ok', output: '' });
      socket.destroy();
    });
    socket.once('error', (error: NodeJS.ErrnoException) => finish({ ok: false, result: error.code ?? error.message, output: '' }));
    socket.once('close', released);
    return () => socket.destroy();
  });
}
