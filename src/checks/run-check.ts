import type { ChildProcess } from 'node:child_process';
import { SIG } from '../config/signals.js';
import { killLeftovers, signalGroup, spawnInGroup } from '../process/process-group-child.js';
import { formatDuration } from '../config/duration.js';
import { ownConnections } from '../ports/own-connections.js';
import type { CheckSpec } from './check-spec.js';
import { cleanLine, firstLine, lastLine, outputDetail } from './check-line.js';

export interface CheckOutcome {
  readonly ok: boolean;
  /** `ok`, `exit 3`, `HTTP 500`, `timeout after 1s`, `ECONNREFUSED`, … */
  readonly result: string;
  readonly output: string;
  /**
   * What the run said beyond its result, one clean line, as the probes print it after the
   * reason: `output: db replica lag 42s` (a command's last line), `body: upstream down` (the
   * first line of a failing HTTP answer), `connect ECONNREFUSED 127.0.0.1:5432` (an error's
   * words); '' when nothing.
   */
  readonly detail: string;
}

export interface CheckContext {
  readonly timeoutMs: number;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly ownChildren: Set<number>;
}

const OUTPUT_LIMIT = 4096;
/** Of a failing HTTP answer's body, what is read for its first line; the rest is read and dropped. */
const BODY_PEEK = 1024;

/** Runs one check once, within its timeout; never rejects: a check's own error is a failure. */
/**
 * One run of a check: its outcome, and when it holds nothing any more (its connection closed).
 * An HTTP check's outcome is its status, while the body may still be coming: the next run waits
 * for `released` (at most the deadline), so a check never overlaps itself.
 */
export interface CheckRun {
  readonly outcome: Promise<CheckOutcome>;
  readonly released: Promise<void>;
}

export function runCheck(spec: CheckSpec, context: CheckContext): CheckRun {
  try {
    switch (spec.type) {
      case 'cmd': {
        // Its whole process group is killed when the outcome is known: nothing is held after.
        const outcome = runCommand(spec.target, context);
        return { outcome, released: outcome.then(() => undefined) };
      }
      case 'http':
        return runHttp(spec.target, context.timeoutMs);
      case 'tcp':
        return runTcp(spec.target, context.timeoutMs);
    }
  } catch (error) {
    return { outcome: Promise.resolve({ ok: false, result: `error: ${(error as Error).message}`, output: '', detail: '' }), released: Promise.resolve() };
  }
}

/** A command's outcome: its output's last line is what it said. */
function commandOutcome(ok: boolean, result: string, output: string): CheckOutcome {
  const line = lastLine(output);
  return { ok, result, output, detail: outputDetail(line) };
}

/** A failed connection or request: the error's own words when they say more than its code. */
function errorOutcome(error: NodeJS.ErrnoException): CheckOutcome {
  const result = error.code ?? error.message;
  return { ok: false, result, output: '', detail: error.message === result ? '' : cleanLine(error.message) };
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
      return resolve({ ok: false, result: `could not start: ${(error as Error).message}`, output: '', detail: '' });
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
      settle(commandOutcome(false, `timeout after ${formatDuration(context.timeoutMs)}`, output));
    }, context.timeoutMs);
    child.once('error', (error) => settle({ ok: false, result: `could not start: ${error.message}`, output, detail: '' }));
    child.once('exit', (code, signal) => {
      killLeftovers(child.pid, SIG.KILL);
      // Let output already in the pipes arrive before the result is taken.
      setImmediate(() => settle(commandOutcome(code === 0, code === 0 ? 'ok' : signal ? `killed by ${signal}` : `exit ${code}`, output)));
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
 * latest. `finish` gives the outcome, `released` says the attempt holds nothing any more, and
 * `meanwhile` gives the outcome the deadline takes instead of a timeout (a failing status, whose
 * body's first line is still awaited).
 */
type Attempt = (finish: (outcome: CheckOutcome) => void, released: () => void, meanwhile: (outcome: CheckOutcome) => void) => () => void;

function underDeadline(timeoutMs: number, attempt: Attempt): CheckRun {
  let finish = (_outcome: CheckOutcome): void => undefined;
  let release = (): void => undefined;
  const outcome = new Promise<CheckOutcome>((resolve) => (finish = resolve));
  const released = new Promise<void>((resolve) => (release = resolve));
  let known: CheckOutcome | undefined;
  let abort = (): void => undefined;
  const timer = setTimeout(() => {
    finish(known ?? { ok: false, result: `timeout after ${formatDuration(timeoutMs)}`, output: '', detail: '' });
    abort();
    release();
  }, timeoutMs);
  const closed = (): void => {
    clearTimeout(timer);
    // Closed with nothing said (no answer, no error): that is its outcome, not a wait for the deadline.
    finish(known ?? { ok: false, result: 'closed without an answer', output: '', detail: '' });
    release();
  };
  try {
    abort = attempt((result) => finish(result), closed, (result) => (known = result));
  } catch (error) {
    clearTimeout(timer);
    throw error; // runCheck makes it the outcome
  }
  return { outcome, released };
}

function runHttp(url: string, timeoutMs: number): CheckRun {
  const { request } = url.startsWith('https:') ? lazy<typeof import('node:https')>('node:https') : lazy<typeof import('node:http')>('node:http');
  return underDeadline(timeoutMs, (finish, released, meanwhile) => {
    const req = request(url, { method: 'GET', agent: false, headers: { 'User-Agent': 'usher-check', Connection: 'close' } }, (response) => {
      const status = response.statusCode ?? 0;
      const ok = status >= 200 && status < 400;
      // The status is the answer; the body is read and dropped until it ends, or the deadline
      // cuts it off (a destroyed response reports its abort as an error: not the check's).
      response.on('error', () => undefined);
      if (ok || /html/i.test(response.headers['content-type'] ?? '')) {
        finish({ ok, result: `HTTP ${status}`, output: '', detail: '' }); // a page's first line is `<!DOCTYPE html>`: it says nothing
        response.resume();
        return;
      }
      // A failing answer's first line says why (`upstream down`): read until a line is whole,
      // BODY_PEEK characters or the end, whichever comes first; at the deadline, what came by then.
      const failed = (body: string): CheckOutcome => {
        const line = firstLine(body);
        return { ok: false, result: `HTTP ${status}`, output: '', detail: line ? `body: ${line}` : '' };
      };
      meanwhile(failed(''));
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (body.length >= BODY_PEEK) return;
        body = (body + chunk).slice(0, BODY_PEEK);
        meanwhile(failed(body));
        if (body.length >= BODY_PEEK || /\S[^\n]*\n/.test(body)) finish(failed(body));
      });
      response.on('end', () => finish(failed(body)));
    });
    // The check's own connection is not the app's traffic (--drain-idle).
    req.on('socket', (socket) => socket.once('connect', () => ownConnections.connected(socket.localPort, new URL(url).hostname)));
    req.on('error', (error: NodeJS.ErrnoException) => finish(errorOutcome(error)));
    req.once('close', released);
    req.end();
    return () => req.destroy();
  });
}

function runTcp(target: string, timeoutMs: number): CheckRun {
  const { connect } = lazy<typeof import('node:net')>('node:net');
  const separator = target.lastIndexOf(':');
  const host = target.slice(0, separator).replace(/^\[|\]$/g, '');
  const port = Number(target.slice(separator + 1));
  return underDeadline(timeoutMs, (finish, released) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      ownConnections.connected(socket.localPort, host); // not the app's traffic (--drain-idle)
      finish({ ok: true, result: 'ok', output: '', detail: '' });
      socket.destroy();
    });
    socket.once('error', (error: NodeJS.ErrnoException) => finish(errorOutcome(error)));
    socket.once('close', released);
    return () => socket.destroy();
  });
}
