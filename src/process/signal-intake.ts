import { constants } from 'node:os';
import { FORWARDED_SIGNALS } from '../config/signals.js';

export interface SignalIntake {
  /** Hands every signal received so far, in order, then each new one, to `listener`. */
  readonly listen: (listener: (signal: number) => void) => void;
}

/**
 * Holds a handler for every forwarded signal from the first instant: as PID 1 the kernel drops
 * signals that have no handler, and a SIGUSR1 without a listener would open Node's inspector.
 * Signals that arrive before the supervisor is ready are kept, in order, and handed over.
 */
export function installSignalIntake(): SignalIntake {
  let listener: ((signal: number) => void) | undefined;
  const early: number[] = [];
  for (const name of FORWARDED_SIGNALS) {
    const number = constants.signals[name];
    process.on(name, () => {
      if (listener) listener(number);
      else early.push(number);
    });
  }
  return {
    listen: (next) => {
      listener = next;
      for (const signal of early.splice(0)) next(signal);
    },
  };
}
