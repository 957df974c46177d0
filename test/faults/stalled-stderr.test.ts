import { spawn } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, FIXTURES, killRun, USHER, type Run } from '../helpers/usher.js';

// A stalled log reader (a stuck log driver): usher's stderr is a FIFO that is full and that no
// one reads. The old usher blocked in write(2) at its next log line: no signal forwarding, TERM
// ignored, no reaping. Now it drops what it cannot write, counts it, and says so later.

const RECORDER = path.join(FIXTURES, 'signal-recorder.mjs');
let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

/** A FIFO with a reader that reads nothing until told, filled to the brim by the test. */
function stalledFifo(): { writeEnd: number; drain: () => string; close: () => void } {
  const fifo = path.join(mkdtempSync(path.join(tmpdir(), 'usher-fifo-')), 'stderr');
  execFileSync('mkfifo', [fifo]);
  const readEnd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeEnd = openSync(fifo, constants.O_WRONLY);
  // Fill it from a non-blocking description of the test's own, so the test never blocks either.
  const filler = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  const junk = Buffer.alloc(4096, 'x');
  for (let written = 0; written < 1024 * 1024; written += junk.length) {
    try {
      writeSync(filler, junk);
    } catch {
      break; // EAGAIN: full
    }
  }
  closeSync(filler);
  const drain = (): string => {
    let text = '';
    const chunk = Buffer.alloc(65536);
    for (;;) {
      let read: number;
      try {
        read = readSync(readEnd, chunk);
      } catch {
        break; // EAGAIN: empty for now
      }
      if (read === 0) break;
      text += chunk.toString('latin1', 0, read);
    }
    return text;
  };
  return { writeEnd, drain, close: () => [readEnd, writeEnd].forEach((fd) => closeSync(fd)) };
}

describe('a stalled log reader', () => {
  it('does not freeze usher: signals are forwarded, TERM stops it, and the dropped lines are counted', async () => {
    const fifo = stalledFifo();
    const child = spawn(USHER, ['--', 'node', RECORDER, '--exit-on', 'SIGTERM'], { stdio: ['ignore', 'pipe', fifo.writeEnd], detached: true });
    const run = { pid: child.pid!, logs: [], exited: new Promise((resolve) => child.on('exit', resolve)) } as unknown as Run;
    cleanup = async () => {
      await killRun(run);
      fifo.close();
    };
    let stdout = '';
    child.stdout!.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    await eventually(() => stdout.includes('ready'), 'the app runs');
    // Each of these makes usher log a line into the full pipe before it forwards the signal.
    for (const signal of ['SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const) {
      process.kill(child.pid!, signal);
      await eventually(() => stdout.includes(`${signal}\n`), `${signal} forwarded while stderr is full`, 5000);
    }
    // Room again: the next line says how many were dropped.
    expect(fifo.drain().length).toBeGreaterThan(0);
    process.kill(child.pid!, 'SIGHUP');
    await eventually(() => (stdout.match(/SIGHUP\n/g) ?? []).length >= 2, 'the second SIGHUP forwarded');
    const text = await eventually(() => {
      const got = fifo.drain();
      return got.includes('dropped while stderr was full') ? got : undefined;
    }, 'the line that counts the dropped ones', 5000);
    expect(text).toMatch(/"msg":"[1-9]\d* log lines? dropped while stderr was full"/);
    process.kill(child.pid!, 'SIGTERM');
    expect(await Promise.race([run.exited, new Promise((resolve) => setTimeout(() => resolve('still running'), 10_000))])).toBe(0);
  });
});
