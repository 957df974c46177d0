import { constants } from 'node:os';
import type { Config } from '../config/config.js';
import { SIG, signalName } from '../config/signals.js';
import { createChecks, type Checks } from '../health/checks.js';
import { createInitRunner, type InitRunner } from '../health/init-runner.js';
import type { InitScript } from '../health/init-scripts.js';
import { initialState, transition } from '../lifecycle/machine.js';
import type { Effect, Event, MachineConfig, State, TimerName } from '../lifecycle/types.js';
import type { Logger } from '../log/logger.js';
import { appEnvironment } from '../process/app-env.js';
import { liveGroupMembers, sendSignal } from '../process/group.js';
import type { SignalIntake } from '../process/signal-intake.js';
import { watchReadyFd } from '../process/ready-fd.js';
import { spawnApp } from '../process/spawn-app.js';
import type { TtyHandover } from '../process/tty.js';
import type { Libc } from '../reaper/libc.js';
import { listChildren, type Reaper } from '../reaper/reaper.js';
import type { PhaseMark, StateFile } from '../state/schema.js';
import { buildSnapshot } from '../state/snapshot.js';
import { renderMetrics } from '../http/metrics.js';
import { openNotifyProtocol, type NotifyProtocol } from '../notify/notify-protocol.js';
import { startReloadWatcher, type ReloadWatcher } from '../reload/watcher.js';

export interface SuperviseOptions {
  readonly config: Config;
  readonly log: Logger;
  readonly reaper: Reaper | undefined;
  /** libc through koffi, when it loaded: the app is then spawned with posix_spawn. */
  readonly libc: Libc | undefined;
  /** Pids usher spawned itself: libuv reaps them, the reaper must not. */
  readonly ownChildren: Set<number>;
  readonly tty: TtyHandover | undefined;
  readonly initScripts: readonly InitScript[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly signals: SignalIntake;
  /** Called with the supervisor before anything starts. */
  readonly started: (supervisor: Supervisor) => void;
  /** Called once the app runs: the place to load what the app need not wait for. */
  readonly afterSpawn: () => void;
  /** Receives every new snapshot of the state (state files, metrics), and the last one before exit. */
  readonly publish: (snapshot: StateFile, final: boolean) => void;
}

export interface Supervisor {
  readonly state: () => State;
  readonly snapshot: () => StateFile;
  /** Prometheus text for /metrics. */
  readonly metrics: () => string;
  /** Last resort when usher itself failed: SIGKILL whatever of the app is left. */
  readonly killApp: () => void;
}

const GROUP_POLL_MS = 100;

/**
 * Runs the lifecycle machine against the real world: turns signals, timers, child exits, init
 * scripts, checks and reaps into events, and carries out the effects the machine returns.
 */
export function supervise(options: SuperviseOptions): Supervisor {
  const { config, log, reaper } = options;
  const machine: MachineConfig = {
    rewrite: config.rewrite, drainMs: config.drainMs, graceMs: config.graceMs, stopSignal: config.stopSignal,
    singleChild: config.singleChild, exitMap: config.exitMap, platformSignalsApp: config.platform.signalsEveryProcess,
    init: { present: options.initScripts.length > 0, mode: config.init.mode, onFailure: config.init.onFailure, only: config.init.only },
    onUnhealthy: config.onUnhealthy,
    reloadSignal: config.reload.signal,
    appReadyVia: config.readyFd !== undefined ? `ready fd ${config.readyFd}` : config.notify.socket ? 'NOTIFY_SOCKET' : null,
  };
  const appEnv = appEnvironment(options.env);
  const startedAt = Date.now();
  const timeline: PhaseMark[] = [{ phase: initialState.phase, at: startedAt }];
  let reasonSince = startedAt;
  let state = initialState;
  let groupPoll: NodeJS.Timeout | undefined;
  const timers = new Map<TimerName, NodeJS.Timeout>();
  const signalsSent: Record<string, number> = {};
  // Giving the terminal to the app makes the kernel send usher one SIGHUP and one SIGCONT.
  const handoverSignals = new Set<number>(options.tty?.expectHangup ? [SIG.HUP, SIG.CONT] : []);

  const snapshot = (): StateFile => buildSnapshot({
    state, startedAt, timeline, reasonSince, init: initRunner?.records() ?? [], checks: checks?.records() ?? [],
  });
  const publish = (): void => options.publish(snapshot(), state.phase === 'exited');

  const dispatch = (event: Event): void => {
    const before = state;
    const next = transition(state, event, machine);
    state = next.state;
    if (state.phase !== before.phase) timeline.push({ phase: state.phase, at: Date.now() });
    if (state.reason !== before.reason) reasonSince = Date.now();
    for (const effect of next.effects) perform(effect);
  };

  const initRunner: InitRunner | undefined = options.initScripts.length === 0 ? undefined : createInitRunner({
    scripts: options.initScripts, timeoutMs: config.init.timeoutMs, graceMs: config.graceMs, cwd: options.cwd, env: appEnv,
    log, ownChildren: options.ownChildren, dispatch, changed: publish,
  });
  const checks: Checks | undefined = config.checks.length === 0 ? undefined : createChecks({
    specs: config.checks, timing: config.checkTiming, context: { cwd: options.cwd, env: appEnv, ownChildren: options.ownChildren },
    log, report: dispatch, changed: publish,
  });

  // sd_notify: opened before the app starts, since the app gets its path in NOTIFY_SOCKET.
  let notify: NotifyProtocol | undefined;
  if (config.notify.socket) {
    try {
      notify = openNotifyProtocol({ watchdogMs: config.notify.watchdogMs, log, dispatch });
    } catch (error) {
      log.error({ err: error }, `--notify-socket: ${(error as Error).message}; the app will never be reported ready`);
    }
  }

  // --reload-on: watched from the start, so a change is noticed whenever it comes; the machine
  // decides whether it becomes a signal (never during init, drain or stop).
  const reloadWatcher: ReloadWatcher | undefined = config.reload.paths.length === 0 ? undefined : startReloadWatcher({
    paths: config.reload.paths, optional: config.reload.optional, debounceMs: config.reload.debounceMs, log,
    onChange: (change) => dispatch({ type: 'reloadRequested', path: change.path, detail: change.detail, at: Date.now() }),
  });

  const checkGroup = (): void => {
    if (state.phase !== 'stopping' || state.appPid === null) return;
    dispatch({ type: 'groupChecked', live: liveGroupMembers(state.appPid) });
  };

  let orphansReaped = 0;
  // The app's pid while the reaper, not libuv, is the one to collect its exit.
  let reapedApp: number | undefined;
  let appHold: NodeJS.Timeout | undefined;
  const reap = (): void => {
    if (!reaper) return;
    const reaped = reaper.reap();
    const orphans = reaped.filter((entry) => entry.pid !== reapedApp);
    if (orphans.length > 0) {
      orphansReaped += orphans.length;
      log.info({ count: orphans.length, pids: orphans.slice(0, 10).map((entry) => entry.pid), total: orphansReaped }, 'orphans reaped');
    }
    const app = reaped.find((entry) => entry.pid === reapedApp);
    if (app) {
      reapedApp = undefined;
      clearInterval(appHold);
      dispatch({ type: 'appExited', ...decodeWaitStatus(app.status) });
    }
    if (groupPoll) checkGroup();
  };

  let reapScheduled = false;
  const scheduleReap = (): void => {
    // SIGCHLDs coalesce anyway; one pass per loop turn catches every zombie there is.
    if (reapScheduled) return;
    reapScheduled = true;
    setImmediate(() => {
      reapScheduled = false;
      reap();
    });
  };

  function perform(effect: Effect): void {
    switch (effect.type) {
      case 'spawnApp':
        return startApp();
      case 'signalApp': {
        if (state.appPid === null) return;
        const target = effect.scope === 'group' ? -state.appPid : state.appPid;
        const name = signalName(effect.signal);
        if (sendSignal(target, effect.signal)) signalsSent[name] = (signalsSent[name] ?? 0) + 1;
        else log.debug({ signal: name }, 'nothing left to signal');
        return;
      }
      case 'stopSelf':
        process.kill(process.pid, 'SIGSTOP');
        return;
      case 'setTimer':
        clearTimeout(timers.get(effect.name));
        timers.set(effect.name, setTimeout(() => dispatch({ type: 'timer', name: effect.name }), effect.ms));
        return;
      case 'clearTimer':
        clearTimeout(timers.get(effect.name));
        timers.delete(effect.name);
        return;
      case 'checkGroup':
        groupPoll ??= setInterval(checkGroup, GROUP_POLL_MS);
        reap();
        checkGroup();
        return;
      case 'runInit':
        initRunner?.run();
        return;
      case 'signalInit':
        initRunner?.signal(effect.signal);
        return;
      case 'publish':
        return publish();
      case 'log':
        log[effect.level](effect.fields ?? {}, effect.msg);
        return;
      case 'exit':
        return finish(effect.code);
    }
  }

  function startApp(): void {
    const env = notify ? { ...options.env, ...notify.env } : options.env;
    const spawned = spawnApp({ command: config.command, singleChild: config.singleChild, tty: options.tty, cwd: options.cwd, env, readyFd: config.readyFd, libc: options.libc });
    if (!spawned.ok) return dispatch({ type: 'spawnFailed', code: spawned.code, message: spawned.message });
    const pid = spawned.pid;
    const child = spawned.child;
    if (child) {
      options.ownChildren.add(pid);
      child.on('exit', (code, signal) => {
        options.ownChildren.delete(pid);
        dispatch({ type: 'appExited', code, signal: signal === null ? null : constants.signals[signal] });
      });
      if (config.readyFd !== undefined) watchReadyFd(child, config.readyFd, () => dispatch({ type: 'appReport', ready: true }));
    } else {
      reapedApp = pid;
      // Nothing of libuv's watches this child: without a handle of its own, Node would find
      // its event loop empty and exit 0 while the app still runs.
      appHold = setInterval(() => undefined, 2 ** 30);
      scheduleReap(); // an app that exited before this line sent its SIGCHLD already
    }
    options.afterSpawn();
    dispatch({ type: 'spawned', pid });
    notify?.appStarted();
    checks?.start();
  }

  function finish(code: number): void {
    clearInterval(groupPoll);
    for (const timer of timers.values()) clearTimeout(timer);
    checks?.stop();
    notify?.close();
    reloadWatcher?.stop();
    killEverythingLeft();
    reap();
    process.exitCode = code;
    process.exit(code);
  }

  /**
   * What usher leaves must not outlive it: a check or init script still running (each in a
   * group of its own), and, when usher is not PID 1 (whose exit takes the whole namespace),
   * orphans it adopted that are still alive, such as daemons that left the app's group.
   */
  function killEverythingLeft(): void {
    for (const pid of options.ownChildren) {
      sendSignal(-pid, SIG.KILL);
      sendSignal(pid, SIG.KILL);
    }
    if (!reaper || process.pid === 1) return;
    for (const pid of listChildren()) if (!options.ownChildren.has(pid)) sendSignal(pid, SIG.KILL);
  }

  options.signals.listen((signal) => {
    if (handoverSignals.delete(signal)) return log.debug({ signal: signalName(signal) }, 'terminal handed to the app');
    dispatch({ type: 'signal', signal });
  });
  if (reaper) process.on('SIGCHLD', scheduleReap);
  const supervisor: Supervisor = {
    state: () => state,
    snapshot,
    metrics: () => renderMetrics({ state: snapshot(), counters: { signalsForwarded: signalsSent, orphansReaped, appRestarts: 0 }, now: Date.now() }),
    killApp: () => {
      if (state.phase === 'exited') return;
      if (state.appPid !== null) sendSignal(config.singleChild ? state.appPid : -state.appPid, SIG.KILL);
      killEverythingLeft();
    },
  };
  // Known to the caller before the app starts, so that a failure from here on can still kill it.
  options.started(supervisor);
  dispatch({ type: 'start' });
  return supervisor;
}

/** A waitpid status as Node reports a child's end: an exit code, or the signal that killed it. */
function decodeWaitStatus(status: number): { code: number | null; signal: number | null } {
  const signal = status & 0x7f;
  return signal === 0 ? { code: (status >> 8) & 0xff, signal: null } : { code: null, signal };
}
