import type { Writable } from 'node:stream';
import { output } from './output.js';

/**
 * Node creates process.stdout and process.stderr on first use, as libuv streams, and libuv puts
 * a pipe into non-blocking mode: the open file description the app shares, so the app's own
 * writes then fail with EAGAIN (Python's BlockingIOError). Node itself touches process.stderr
 * whenever any socket is destroyed (net.Socket's _destroy compares `this !== process.stderr`),
 * so one HTTP request was enough. usher replaces both with writers of its own, made on first
 * use, that go through its non-blocking output (log/output.ts): the app's descriptors are never
 * touched.
 */
export function guardStdio(): void {
  for (const [name, fd] of [['stdout', 1], ['stderr', 2]] as const) {
    let stream: Writable | undefined;
    Object.defineProperty(process, name, {
      configurable: true,
      enumerable: true,
      get: () => (stream ??= writerFor(fd)),
    });
  }
}

function writerFor(fd: 1 | 2): Writable {
  const { Writable } = require('node:stream') as typeof import('node:stream');
  return new Writable({
    decodeStrings: false,
    write(chunk: Buffer | string, _encoding, done) {
      output(fd).write(String(chunk));
      done();
    },
  });
}
