import type { Config } from '../config/config.js';
import { SIG, signalName } from '../config/signals.js';
import { createChecks } from '../checks/checks.js';
import { renderMetrics } from '../http/metrics.js';
import { createInitRunner } from '../init/init-runner.js';
import type { InitScript } from '../init/init-scripts.js';
import { initialState, transition } from '../lifecycle/machine.js';
import type { Effect, Event, MachineConfig, State, Unstamped } from '../lifecycle/types.js';
import type { Logger } from '../log/logger.js';
import { openNotifyProtocol, type NotifyProtocol } from '../notify/notify-protocol.js';
import { appEnvironment } from '../process/app-env.js';
import { sendSignal } from '../process/group.js';
import type { SignalIntake } from '../process/signal-intake.js';
import { spawnApp, type AppHandle } from '../process/spawn-app.js';
import type { TtyHandover } from '../process/tty.js';
import { Reaper } from '../reaper/reaper.js';
import { startReloadWatcher } from '../reload/watcher.js';
import type { StateFile } from '../state/schema.js';
import { buildStateFile } from '../state/state-file.js';
import type { Libc } from '../sys/libc.js';
import { signalRange } from '../sys/sigset.js';
import { killEverythingLeft } from './cleanup.js';
import { Counters } from './counters.js';
import { GroupWatch } from './group-watch.js';
import { createReapSchedule } from './reap-schedule.js';
import type { Publish } from './state-publisher.js';
import { Timers } from './timers.js';

export interface SuperviseOptions {
  readonly config: Config;
  readonly log: Logger;
  /** libc through koffi, when it loaded: orphans are reaped and the app is spawned with posix_spawn. */
  readonly libc: Libc | undefined;
  readonly tty: TtyHandover | undefined;
  readonly initScripts: readonly InitScript[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly signals: SignalIntake;
  /** Called with the supervisor before anything starts. */
  readonly started: (supervisor: Supervisor) => void;
  /** Called once the app runs: the place to load what the app need not wait for. */
  readonly afterSpawn: () => void;
  /** Receives every new state file (state files, metrics), and the last one before exit. */
  readonly publish: Publish;
}

export interface Supervisor {
  readonly state: () => State;
  readonly stateFile: () => StateFile;
  /** Prometheus text for /metrics. */
  readonly metrics: () => string;
  /** Last resort when usher itself failed: SIGKILL whatever of the app is left. */
  readonly killApp: () => void;
}

/** Signals the app gets back at their default disposition when usher spawns it with posix_spawn. */
const APP_DEFAULT_SIGNALS = signalRange(31);

/** What the lifecycle machine needs of the configuration. */
export function machineConfig(config: Config, initScripts: readonly InitScript[]): MachineConfig {
  return {
    rewrite: config.rewrite, drainMs: config.drainMs, graceMs: config.graceMs, stopSignal: config.stopSignal,
    singleChild: config.singleChild, exitMap: config.exitMap, platformSignalsApp: config.platform.signalsEveryProcess,
    init: { present: initScripts.length > 0, mode: config.init.mode, onFailure: config.init.onFailure, only: config.init.only },
    onUnhealthy: config.onUnhealthy,
    reloadSignal: config.reload.signal,
    appReadyVia: config.readyFd !== undefined ? `ready fd ${config.readyFd}` : config.notify.socket ? 'NOTIFY_SOCKET' : null,
  };
}

/**
 * Runs the lifecycle machine against the real world: the adapters turn signals, timers, child
 * exits, init scripts, checks and reaps into events; this carries out the effects the machine
 * returns. Events are handled one at a time, in the order they were reported: one reported
 * while an effect is carried out waits for the effects before it.
 */
export function supervise(options: SuperviseOptions): Supervisor {
  const { config, log } = options;
  const machine = machineConfig(config, options.initScripts);
  const appEnv = appEnvironment(options.env);
  /** Pids usher started itself (init scripts, checks, the app): the orphan reaper leaves them alone. */
  const ownChildren = new Set<number>();
  let state = initialState;
  let app: AppHandle | undefined;

  const queue: Event[] = [];
  let dispatching = false;
  const dispatch = (event: Unstamped): void => {
    queue.push({ ...event, at: Date.now() } as Event);
    if (dispatching) return;
    dispatching = true;
    try {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const step = transition(state, next, machine);
        state = step.state;
        for (const effect of step.effects) perform(effect);
      }
    } finally {
      dispatching = false;
    }
  };

  const counters = new Counters();
  const timers = new Timers((name) => dispatch({ type: 'timer', name }));
  const groupWatch = new GroupWatch((live) => dispatch({ type: 'groupChecked', live }));
  const reaps = createReapSchedule({
    reaper: options.libc && new Reaper(options.libc, (pid) => ownChildren.has(pid)),
    app: () => app,
    onOrphans: (reaped) => {
      const total = counters.orphansReaped(reaped.length);
      log.info({ count: reaped.length, pids: reaped.slice(0, 10).map((entry) => entry.pid), total }, 'orphans reaped');
    },
    afterPass: () => groupWatch.check(),
  });
  const initRunner = options.initScripts.length === 0 ? undefined : createInitRunner({
    scripts: options.initScripts, timeoutMs: config.init.timeoutMs, graceMs: config.graceMs, cwd: options.cwd, env: appEnv,
    log, ownChildren, dispatch, changed: () => publish(),
  });
  const checks = config.checks.length === 0 ? undefined : createChecks({
    specs: config.checks, timing: config.checkTiming, context: { cwd: options.cwd, env: appEnv, ownChildren },
    log, report: dispatch, changed: () => publish(),
  });
  const notify = openNotify(config, log, dispatch);
  // --reload-on: watched from the start, so a change is noticed whenever it comes; the machine
  // decides whether it becomes a signal (never during init, drain or stop).
  const reloadWatcher = config.reload.paths.length === 0 ? undefined : startReloadWatcher({
    paths: config.reload.paths, optional: config.reload.optional, debounceMs: config.reload.debounceMs, log,
    onChange: (change) => dispatch({ type: 'reloadRequested', path: change.path, detail: change.detail }),
  });

  const stateFile = (): StateFile => buildStateFile({ state, init: initRunner?.records() ?? [], checks: checks?.records() ?? [] });
  const publish = (): void => options.publish(stateFile(), state.phase === 'exited');

  function perform(effect: Effect): void {
    switch (effect.type) {
      case 'spawnApp':
        return startApp();
      case 'signalApp':
        if (sendSignal(effect.scope === 'group' ? -effect.pid : effect.pid, effect.signal)) counters.signalSent(signalName(effect.signal));
        else log.debug({ signal: signalName(effect.signal) }, 'nothing left to signal');
        return reaps.soon();
      case 'stopSelf':
        return void process.kill(process.pid, 'SIGSTOP');
      case 'setTimer':
        return timers.set(effect.name, effect.ms);
      case 'clearTimer':
        return timers.clear(effect.name);
      case 'checkGroup':
        reaps.now(); // collect what already exited, so the first count is current
        return groupWatch.start(effect.pgid);
      case 'runInit':
        return initRunner?.run();
      case 'signalInit':
        return initRunner?.signal(effect.signal);
      case 'publish':
        return publish();
      case 'log':
        return log[effect.level](effect.fields ?? {}, effect.msg);
      case 'exit':
        return finish(effect.code);
    }
  }

  function startApp(): void {
    const spawned = spawnApp({
      command: config.command, singleChild: config.singleChild, tty: options.tty, cwd: options.cwd,
      env: notify ? { ...options.env, ...notify.env } : options.env, readyFd: config.readyFd, libc: options.libc,
      onReady: () => dispatch({ type: 'appReport', ready: true }), defaultSignals: APP_DEFAULT_SIGNALS,
    });
    if (!spawned.ok) return dispatch({ type: 'spawnFailed', code: spawned.code, message: spawned.message });
    const started = spawned.app;
    app = started;
    ownChildren.add(started.pid);
    counters.appStarted();
    started.onExit((exit) => {
      ownChildren.delete(started.pid);
      dispatch({ type: 'appExited', ...exit });
    });
    reaps.soon(); // an app that exited before this line sent its SIGCHLD already
    options.afterSpawn();
    dispatch({ type: 'spawned', pid: started.pid });
    notify?.appStarted();
    checks?.start();
  }

  function finish(code: number): void {
    groupWatch.stop();
    timers.clearAll();
    reaps.stop();
    checks?.stop();
    notify?.close();
    reloadWatcher?.stop();
    killEverythingLeft(ownChildren, options.libc !== undefined);
    reaps.now();
    process.exitCode = code;
    process.exit(code);
  }

  // Giving the terminal to the app makes the kernel send usher one SIGHUP and one SIGCONT.
  const handoverSignals = new Set<number>(options.tty?.expectHangup ? [SIG.HUP, SIG.CONT] : []);
  options.signals.listen((signal) => {
    if (handoverSignals.delete(signal)) return log.debug({ signal: signalName(signal) }, 'terminal handed to the app');
    dispatch({ type: 'signal', signal });
  });
  if (options.libc) process.on('SIGCHLD', reaps.soon);
  const supervisor: Supervisor = {
    state: () => state,
    stateFile,
    metrics: () => renderMetrics({ state: stateFile(), counters: counters.read(), now: Date.now() }),
    killApp: () => {
      if (state.phase === 'exited') return;
      if (state.appPid !== null) sendSignal(config.singleChild ? state.appPid : -state.appPid, SIG.KILL);
      killEverythingLeft(ownChildren, options.libc !== undefined);
    },
  };
  // Known to the caller before the app starts, so that a failure from here on can still kill it.
  options.started(supervisor);
  dispatch({ type: 'start' });
  return supervisor;
}

/** sd_notify: opened before the app starts, since the app gets its path in NOTIFY_SOCKET. */
function openNotify(config: Config, log: Logger, dispatch: (event: Unstamped) => void): NotifyProtocol | undefined {
  if (!config.notify.socket) return undefined;
  try {
    return openNotifyProtocol({ watchdogMs: config.notify.watchdogMs, log, dispatch });
  } catch (error) {
    log.error({ err: error }, `--notify-socket: ${(error as Error).message}; the app will never be reported ready`);
    return undefined;
  }
}
