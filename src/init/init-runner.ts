import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { formatDuration } from '../config/duration.js';
import { SIG, signalName } from '../config/signals.js';
import type { Unstamped } from '../lifecycle/types.js';
import type { Logger } from '../log/logger.js';
import { killLeftovers, signalGroup, spawnInGroup } from '../process/process-group-child.js';
import { formatElapsed } from '../config/duration.js';
import type { InitScriptRecord } from '../state/schema.js';
import type { InitScript } from './init-scripts.js';

export interface InitRunnerOptions {
  readonly scripts: readonly InitScript[];
  readonly timeoutMs: number | undefined;
  readonly graceMs: number;
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  readonly ownChildren: Set<number>;
  readonly dispatch: (event: Unstamped) => void;
  /** Called whenever a record changed, for the state file. */
  readonly changed: () => void;
  /** How often a running script is said to be still running; a minute but in tests. */
  readonly stillRunningEveryMs?: number;
}

export interface InitRunner {
  readonly records: () => readonly InitScriptRecord[];
  run(): void;
  /** Signals the running script's group; no further script starts. */
  signal(signal: number): void;
}

const STILL_RUNNING_EVERY_MS = 60_000;

function elapsedSince(startedAt: number): string {
  return formatElapsed(Math.round((Date.now() - startedAt) / 1000));
}

/**
 * Runs the init scripts one after another, each in a process group of its own with its output
 * passed through unchanged, and reports to the machine: started, all done, failed, or stopped.
 */
export function createInitRunner(options: InitRunnerOptions): InitRunner {
  const records: InitScriptRecord[] = options.scripts.map((script) => ({
    name: script.name, path: script.path, status: 'pending', startedAt: null, endedAt: null, exitCode: null, signal: null,
  }));
  let current: ChildProcess | undefined;
  let stopping = false;

  const update = (index: number, patch: Partial<InitScriptRecord>): void => {
    records[index] = { ...records[index]!, ...patch };
  };
  // The machine hears of it first, then the records are published: no state file shows a
  // script's end while its probe code still says it runs.
  const report = (event: Unstamped): void => {
    options.dispatch(event);
    options.changed();
  };

  function runFrom(index: number): void {
    if (stopping) return report({ type: 'initStopped' });
    const next = options.scripts[index];
    if (!next) return report({ type: 'initDone' });
    const script: InitScript = next;
    const startedAt = Date.now();
    options.log.info({ script: script.path }, `init script ${script.name} started`);
    const child = spawnInGroup(script.path, [], { stdio: 'inherit', cwd: options.cwd, env: options.env }, options.ownChildren);
    current = child;
    update(index, { status: 'running', startedAt });
    report({ type: 'initScriptStarted', name: script.name });
    let timedOut = false;
    const alive = setInterval(() => {
      options.log.info({ script: script.path }, `init script ${script.name} still running after ${elapsedSince(startedAt)}`);
    }, options.stillRunningEveryMs ?? STILL_RUNNING_EVERY_MS);
    let killTimer: NodeJS.Timeout | undefined;
    const timeout = options.timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      options.log.warn({ script: script.path }, `init script ${script.name} timed out after ${formatDuration(options.timeoutMs!)}: SIGTERM to its process group, SIGKILL in ${formatDuration(options.graceMs)}`);
      signalGroup(child.pid, SIG.TERM);
      killTimer = setTimeout(() => signalGroup(child.pid, SIG.KILL), options.graceMs);
    }, options.timeoutMs);
    child.once('error', (error) => finish(null, null, error.message));
    child.once('exit', (code, signal) => finish(code, signal));

    let finished = false;
    function finish(code: number | null, signal: NodeJS.Signals | null, spawnError?: string): void {
      if (finished) return;
      finished = true;
      clearInterval(alive);
      clearTimeout(timeout);
      clearTimeout(killTimer);
      current = undefined;
      killLeftovers(child.pid, SIG.KILL); // no residue: what the script forked goes with it
      const endedAt = Date.now();
      const fields = { script: script.path, durationMs: endedAt - startedAt, code, signal };
      // A script that timed out and then exited 0 on its TERM still failed: 124, as timeout(1) says.
      const exitCode = spawnError ? 126 : signal ? 128 + constants.signals[signal] : timedOut && code === 0 ? 124 : (code ?? 1);
      const ok = !spawnError && !timedOut && code === 0;
      update(index, { status: ok ? 'ok' : stopping ? 'stopped' : timedOut ? 'timeout' : 'failed', endedAt, exitCode, signal });
      if (ok) {
        options.log.info(fields, `init script ${script.name} succeeded in ${formatDuration(endedAt - startedAt)}`);
        return runFrom(index + 1);
      }
      if (stopping) return report({ type: 'initStopped' });
      const why = spawnError ? `could not start: ${spawnError}` : timedOut ? `timed out after ${formatDuration(options.timeoutMs!)}` : signal ? `died of ${signal}` : `failed with exit code ${code}`;
      const reason = `init script ${script.name} ${why}`;
      options.log.error(fields, reason);
      for (let rest = index + 1; rest < records.length; rest += 1) update(rest, { status: 'skipped' });
      report({ type: 'initFailed', name: script.name, code: exitCode, reason });
    }
  }

  return {
    records: () => records,
    run: () => runFrom(0),
    signal(signal) {
      stopping = true;
      if (current && signalGroup(current.pid, signal)) options.log.info(`${signalName(signal)} sent to the running init script's process group`);
    },
  };
}

