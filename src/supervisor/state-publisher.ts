import { rmSync } from 'node:fs';
import type { Logger } from '../log/logger.js';
import type { StateFile } from '../state/schema.js';
import { chooseStateDir, describeStateDir } from '../state/state-dir.js';
import { claimStateDir } from '../state/state-lock.js';
import { createStateWriter, type StateWriter } from '../state/writer.js';

/** Writes before this are gathered into one: no probe asks that early. */
const FIRST_WRITE_AFTER_MS = 5;

export type Publish = (stateFile: StateFile, final: boolean) => void;

/**
 * The state directory is opened at the first publish: right after the spawn, or at the start of
 * the init scripts. A directory that cannot be written costs the probes, never the app.
 * Writes in the first few milliseconds are gathered into one, so a command that ends at once
 * (a job, `usher -- true`) costs no state write at all; once it is gone the probes answer 6
 * (no live usher) whatever a last state file would have said. `openNow`: the directory is
 * opened at once, before the app starts.
 */
export function statePublisher(stateDir: string | undefined, log: Logger, markStale?: (stale: boolean) => void, openNow = false): Publish {
  let writer: StateWriter | null | undefined;
  let ownDir: string | undefined;
  let pending: { stateFile: StateFile; timer: NodeJS.Timeout } | undefined;
  const open = (): StateWriter | null => {
    if (writer !== undefined) return writer;
    try {
      const choice = chooseStateDir(stateDir, process.env);
      const claim = claimStateDir(choice.dir);
      writer = createStateWriter({ dir: claim.dir, log, ...(markStale ? { markStale } : {}) });
      if ('heldBy' in claim) {
        ownDir = claim.dir;
        log.warn({ dir: claim.dir, heldBy: claim.heldBy }, `state in ${claim.dir}: ${choice.dir} is held by usher pid ${claim.heldBy}; point the probes here (--state-dir) or give each usher its own --state-dir`);
        // Where it was asked to be, or the default: news only at debug. The fallback is a warning.
      } else log[choice.source === 'fallback' ? 'warn' : 'debug']({ dir: choice.dir }, describeStateDir(choice));
    } catch (error) {
      writer = null;
      log.error({ err: error }, `no state directory: ${(error as Error).message}; probes will answer 6, the app keeps running`);
    }
    return writer;
  };
  // With a terminal handed to the app, what the directory has to say (held by another usher,
  // not writable) must come before the app's prompt, not after it.
  if (openNow) open();
  return (stateFile, final) => {
    if (final) {
      clearTimeout(pending?.timer);
      pending = undefined;
      writer?.stop(stateFile);
      // A directory of usher's own inside another's goes with it: nobody probes it once usher is
      // gone, and a Procfile restarted all day would fill the shared one with them.
      if (ownDir) {
        try {
          rmSync(ownDir, { recursive: true, force: true });
        } catch (error) {
          // usher is exiting with the app's code: a directory it cannot remove changes nothing of that
          log.warn({ dir: ownDir }, `cannot remove ${ownDir}: ${(error as Error).message}`);
        }
      }
      return;
    }
    if (writer !== undefined) return writer?.write(stateFile);
    if (pending) {
      pending.stateFile = stateFile;
      return;
    }
    const timer = setTimeout(() => {
      const latest = pending!.stateFile;
      pending = undefined;
      open()?.write(latest);
    }, FIRST_WRITE_AFTER_MS);
    pending = { stateFile, timer };
  };
}
