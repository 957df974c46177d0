import { constants } from 'node:os';

/**
 * Every catchable standard signal that usher forwards to the app. SIGCHLD drives the reaper
 * and is never forwarded; SIGKILL and SIGSTOP cannot be caught; SIGSEGV, SIGBUS, SIGFPE,
 * SIGILL and SIGTRAP are faults of usher's own process, not requests for the app.
 */
export const FORWARDED_SIGNALS = [
  'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM',
  'SIGCONT', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM',
  'SIGPROF', 'SIGWINCH', 'SIGIO', 'SIGPWR', 'SIGSYS',
] as const satisfies readonly NodeJS.Signals[];

const NUMBERS = constants.signals as Readonly<Record<string, number>>;

export const SIG = {
  HUP: NUMBERS.SIGHUP!, INT: NUMBERS.SIGINT!, QUIT: NUMBERS.SIGQUIT!, KILL: NUMBERS.SIGKILL!,
  TERM: NUMBERS.SIGTERM!, CONT: NUMBERS.SIGCONT!, STOP: NUMBERS.SIGSTOP!, TSTP: NUMBERS.SIGTSTP!,
  TTIN: NUMBERS.SIGTTIN!, TTOU: NUMBERS.SIGTTOU!, CHLD: NUMBERS.SIGCHLD!, USR1: NUMBERS.SIGUSR1!,
  WINCH: NUMBERS.SIGWINCH!, USR2: NUMBERS.SIGUSR2!, PIPE: NUMBERS.SIGPIPE!,
} as const;

/** Canonical name per number; the forwarded list wins over aliases (SIGIO over SIGPOLL). */
const NAMES = new Map<number, string>();
for (const name of [...FORWARDED_SIGNALS, ...Object.keys(NUMBERS)]) {
  const number = NUMBERS[name];
  if (number !== undefined && !NAMES.has(number)) NAMES.set(number, name);
}

export function signalName(number: number): string {
  return NAMES.get(number) ?? `signal ${number}`;
}

/**
 * Parses `TERM`, `SIGTERM`, `term` or `15`. With `allowZero`, `0` means "drop the signal"
 * (the rewrite target); otherwise only signals this system knows are accepted.
 */
export function parseSignal(text: string, options: { allowZero?: boolean } = {}): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) {
    const number = Number(trimmed);
    if (number === 0 && options.allowZero) return 0;
    if (NAMES.has(number)) return number;
    throw new Error(`unknown signal number ${JSON.stringify(text)}`);
  }
  const upper = trimmed.toUpperCase();
  const number = NUMBERS[upper.startsWith('SIG') ? upper : `SIG${upper}`];
  if (number === undefined) throw new Error(`unknown signal ${JSON.stringify(text)} (e.g. TERM, SIGTERM or 15)`);
  return number;
}

/**
 * A signal usher sends to ask something of the app (the stop signal, the reload signal): never
 * one that cannot be a request. SIGKILL cannot be handled, so no graceful anything (it comes
 * anyway at the grace end); SIGSTOP freezes the app; SIGCHLD means nothing to it.
 */
export function parseRequestSignal(what: string): (text: string) => number {
  return (text) => {
    const number = parseSignal(text);
    if (number === SIG.KILL) throw new Error(`"${text}" (${signalName(number)}) cannot be the ${what}: the app could not handle it (SIGKILL comes anyway at the grace end)`);
    if (number === SIG.STOP) throw new Error(`"${text}" (${signalName(number)}) cannot be the ${what}: it would freeze the app`);
    if (number === SIG.CHLD) throw new Error(`"${text}" (${signalName(number)}) cannot be the ${what}: it asks nothing of the app`);
    return number;
  };
}

/** Parses one `FROM:TO` signal rewrite; `TO` = 0 drops the signal. */
export function parseRewrite(text: string): [number, number] {
  const parts = text.split(':');
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new Error(`invalid rewrite ${JSON.stringify(text)} (expected FROM:TO, e.g. TERM:QUIT or 15:0)`);
  }
  const from = parseSignal(parts[0]);
  if (from === SIG.KILL || from === SIG.STOP || from === SIG.CHLD) {
    throw new Error(`cannot rewrite ${signalName(from)} in ${JSON.stringify(text)}: usher never receives it as a request`);
  }
  return [from, parseSignal(parts[1], { allowZero: true })];
}
