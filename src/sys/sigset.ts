import { declared, native } from './koffi.js';

/**
 * sigset_t as glibc and musl both lay it out: 1024 bits in `unsigned long` words, signal N at
 * bit N-1 of the words in order. The words are encoded by koffi, so the byte order is the
 * machine's. libc's own sigaddset() will not do: glibc refuses its internal signals (32, 33),
 * which are exactly the ones a child must get back at their defaults.
 */
const SIGSET_BITS = 1024;
/** Linux numbers its signals 1 to 64 (NSIG - 1) on every architecture koffi supports. */
export const LAST_SIGNAL = 64;

export const sigsetType = declared((koffi) => koffi.array('unsigned long', SIGSET_BITS / (8 * koffi.sizeof('unsigned long'))));

/** A sigset_t holding exactly `signals`, ready to pass to libc. */
export function sigset(signals: readonly number[]): Buffer {
  const { koffi } = native();
  const type = sigsetType();
  const bits = BigInt(8 * koffi.sizeof('unsigned long'));
  const words: bigint[] = new Array<bigint>(Number(BigInt(SIGSET_BITS) / bits)).fill(0n);
  for (const signal of signals) {
    const bit = BigInt(signal - 1);
    const index = Number(bit / bits);
    words[index] = words[index]! | (1n << (bit % bits));
  }
  const buffer = Buffer.alloc(koffi.sizeof(type));
  koffi.encode(buffer, 0, type, words);
  return buffer;
}

/** 1..last, for "every signal back to its default". */
export function signalRange(last: number): number[] {
  return Array.from({ length: last }, (_, index) => index + 1);
}
