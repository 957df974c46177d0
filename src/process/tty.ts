import type { Libc } from '../sys/libc.js';
import { findCommand } from './find-command.js';

export interface TtyHandover {
  /** `setsid` (util-linux or busybox): makes the app a session leader and gives it the terminal. */
  readonly setsid: string;
  /** The kernel sends SIGHUP and SIGCONT to usher's group when it gives the terminal up. */
  readonly expectHangup: boolean;
}

/**
 * Interactive use (`docker run -it IMAGE usher -- bash`): the app must own the terminal, in a
 * session of its own, or Ctrl-C would hit usher too and bash would run without job control.
 * Node cannot run code between fork and exec, so usher gives the terminal up (TIOCNOTTY) and
 * starts the app through `setsid -c`, which takes it as controlling terminal and execs the app
 * under the same pid. Only when usher leads the terminal's session, as in a container.
 */
export function prepareTtyHandover(libc: Libc, envPath: string | undefined): TtyHandover | undefined {
  if (!libc.isTerminal(0) || libc.terminalSession(0) !== process.pid) return undefined;
  const setsid = findCommand('setsid', envPath, '/');
  if (!setsid.ok) return undefined;
  const expectHangup = libc.foregroundGroup(0) === process.pid;
  if (!libc.releaseControllingTerminal(0)) return undefined;
  return { setsid: setsid.file, expectHangup };
}
