import { SIG } from '../config/signals.js';
import { sendSignal } from '../process/group.js';
import { adoptedOrphans } from './leftover-watch.js';

/**
 * What usher leaves must not outlive it: a check or init script still running (each in a
 * group of its own), and, when usher is not PID 1 (whose exit takes the whole namespace),
 * orphans it adopted that are still alive, such as daemons that left the app's group.
 */
export function killEverythingLeft(ownChildren: ReadonlySet<number>, adoptsOrphans: boolean): void {
  for (const pid of ownChildren) {
    sendSignal(-pid, SIG.KILL);
    sendSignal(pid, SIG.KILL);
  }
  if (!adoptsOrphans || process.pid === 1) return;
  for (const pid of adoptedOrphans(ownChildren)) sendSignal(pid, SIG.KILL);
}
