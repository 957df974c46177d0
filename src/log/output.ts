import { constants, fstatSync, openSync, writeSync } from 'node:fs';
import { sendNow } from '../sys/fd.js';

/**
 * Where usher's own output goes, for fd 1 or 2, without ever blocking usher and without ever
 * changing the mode of a descriptor the app shares. A write that cannot go through at once is
 * dropped and counted: a stalled log reader must not freeze PID 1 (no signal forwarding, no
 * reaping, no probe answers). How, by what the descriptor is:
 * - a pipe, a FIFO or a terminal: reopened through /proc/self/fd/N as a file description of
 *   usher's own, non-blocking; the app's stays as it was (blocking);
 * - a socket (journald, some log drivers): send() with MSG_DONTWAIT on the descriptor itself;
 * - a regular file: written as it is (a file does not stall; reopening would race the app's
 *   offset);
 * - anything else, or when /proc or libc is missing: written as it is (degraded: may block).
 */
export interface Output {
  /** Writes all of `text`, or drops it; true when it went out. */
  write(text: string): boolean;
}

type Writer = (bytes: Buffer) => 'written' | 'full';

const outputs = new Map<number, Output>();

export function output(fd: 1 | 2): Output {
  let existing = outputs.get(fd);
  if (!existing) outputs.set(fd, (existing = createOutput(writerFor(fd))));
  return existing;
}

function createOutput(writer: Writer): Output {
  return {
    write(text) {
      try {
        return writer(Buffer.from(text, 'utf8')) === 'written';
      } catch {
        return false; // EPIPE (the reader went away), EIO: nothing to do but drop it
      }
    },
  };
}

function writerFor(fd: number): Writer {
  let kind: 'file' | 'socket' | 'stream' | 'other';
  try {
    const stats = fstatSync(fd);
    kind = stats.isFile() ? 'file' : stats.isSocket() ? 'socket' : stats.isFIFO() || stats.isCharacterDevice() ? 'stream' : 'other';
  } catch {
    return () => 'full'; // closed: nothing ever goes out
  }
  if (kind === 'socket') return socketWriter(fd);
  if (kind === 'stream') {
    const own = reopenNonBlocking(fd);
    if (own !== undefined) return descriptorWriter(own);
  }
  return descriptorWriter(fd);
}

function reopenNonBlocking(fd: number): number | undefined {
  try {
    // O_NOCTTY: a terminal opened anew must not become usher's controlling one (a session leader has none yet).
    return openSync(`/proc/self/fd/${fd}`, constants.O_WRONLY | constants.O_APPEND | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch {
    return undefined;
  }
}

/** Writes to a descriptor until done; EAGAIN on a non-blocking one means full. A line cut short gets its newline. */
function descriptorWriter(fd: number): Writer {
  return (bytes) => {
    let offset = 0;
    while (offset < bytes.length) {
      try {
        offset += writeSync(fd, bytes, offset);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
        if (offset > 0) endLine(fd);
        return 'full';
      }
    }
    return 'written';
  };
}

/** A pipe takes a write of up to 4 KB whole or not at all; a longer line may stop midway: close it. */
function endLine(fd: number): void {
  try {
    writeSync(fd, '\n');
  } catch {
    // still full: the reader sees a line without its end
  }
}

function socketWriter(fd: number): Writer {
  return (bytes) => {
    let offset = 0;
    while (offset < bytes.length) {
      let sent: number;
      try {
        sent = sendNow(fd, bytes.subarray(offset));
      } catch {
        return descriptorWriter(fd)(bytes.subarray(offset)); // no libc: a plain write
      }
      if (sent < 0) return 'full';
      offset += sent;
    }
    return 'written';
  };
}
