import type { Config } from '../config/config.js';
import { SIG, signalName } from '../config/signals.js';
import { renderMetrics } from '../http/metrics.js';
import type { InitScript } from '../init/init-scripts.js';
import { initialState } from '../lifecycle/machine.js';
import type { Effect, MachineConfig, SignalScope, State } from '../lifecycle/types.js';
import type { Logger } from '../log/logger.js';
import { appEnvironment } from '../process/app-env.js';
import { sendSignal } from '../process/group.js';
import type { SignalIntake } from '../process/signal-intake.js';
import { startGuardian, type Guardian } from '../process/guardian.js';
import { spawnInGroup } from '../process/process-group-child.js';
import type { RunOwn } from '../platform/stop-budget.js';
import { spawnApp, type AppHandle } from '../process/spawn-app.js';
import type { TtyHandover } from '../process/tty.js';
import type { StateFile } from '../state/schema.js';
import { buildStateFile } from '../state/state-file.js';
import type { Libc } from '../sys/libc.js';
import { LAST_SIGNAL, signalRange } from '../sys/sigset.js';
import { createAdapters, stopAdapters, type Adapters } from './adapters.js';
import { killEverythingLeft } from './cleanup.js';
import { createEventQueue } from './event-queue.js';
import type { Publish } from './state-publisher.js';

export interface SuperviseOptions {
  readonly config: Config;
  readonly log: Logger;
  /** libc through koffi, when it loaded: orphans are reaped and the app is spawned with posix_spawn. */
  readonly libc: Libc | undefined;
  readonly tty: TtyHandover | undefined;
  /** --signals resolved against COMMAND. */
  readonly signalScope: SignalScope;
  readonly initScripts: readonly InitScript[];
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly signals: SignalIntake;
  /** Called with the supervisor before anything starts. */
  readonly started: (supervisor: Supervisor) => void;
  /** Called once the app runs, with its pid: the place to load what the app need not wait for. */
  readonly afterSpawn: (pid: number) => void;
  /** The app holds the terminal usher handed it (from its spawn to its exit): usher's info lines keep quiet meanwhile. */
  readonly terminalHeld: (held: boolean) => void;
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
  /** Starts a child of usher's own (systemctl, say): libuv reaps it, the orphan reaper leaves it alone. */
  readonly runOwn: RunOwn;
}

/** Signals the app gets back at their default disposition when usher spawns it with posix_spawn. */
const APP_DEFAULT_SIGNALS = signalRange(LAST_SIGNAL);

/** What the lifecycle machine needs of the configuration. */
export function machineConfig(config: Config, initScripts: readonly InitScript[], signalScope: SignalScope): MachineConfig {
  return {
    signalScope,
    rewrite: config.rewrite, drainMs: config.drainMs, drainIdleMs: config.drainIdleMs, graceMs: config.graceMs, stopSignal: config.stopSignal,
    readyPorts: config.readyPorts,
    singleChild: config.singleChild, exitMap: config.exitMap, platformSignalsApp: config.platform.signalsEveryProcess,
    init: { present: initScripts.length > 0, mode: config.init.mode, onFailure: config.init.onFailure, only: config.init.only },
    onUnhealthy: config.onUnhealthy,
    reloadSignal: config.reload.signal,
    appReadyVia: config.readyFd !== undefined ? 'ready-fd' : config.notify.socket ? 'notify-socket' : null,
  };
}

/**
 * Runs the lifecycle machine against the real world: the adapters turn signals, timers, child
 * exits, init scripts, checks and reaps into events; this carries out the effects the machine
 * returns, one event at a time (event-queue.ts).
 */
export function supervise(options: SuperviseOptions): Supervisor {
  const { config, log } = options;
  const ownChildren = new Set<number>();
  let app: AppHandle | undefined;
  const guardian = guardianSlot(options, ownChildren, log);
  const queue = createEventQueue(initialState, machineConfig(config, options.initScripts, options.signalScope), (effect) => perform(effect));
  const adapters: Adapters = createAdapters({
    config, log, libc: options.libc, initScripts: options.initScripts, cwd: options.cwd, appEnv: appEnvironment(options.env),
    ownChildren, app: () => app, guardian: guardian.spawned, dispatch: queue.dispatch, changed: () => publish(),
  });
  const { counters, timers, leftovers, reaps } = adapters;
  const stateFile = (): StateFile => buildStateFile({ state: queue.state(), init: adapters.initRunner?.records() ?? [], checks: adapters.checks?.records() ?? [] });
  const publish = (): void => options.publish(stateFile(), queue.state().phase === 'exited');

  function perform(effect: Effect): void {
    switch (effect.type) {
      case 'spawnApp':
        app = startApp(options, adapters, ownChildren, queue.dispatch, guardian.start);
        if (!app) return;
        adapters.ports?.start(); // after `app` is set: the ports belong to its tree
        return;
      case 'signalApp':
      case 'signalOrphans':
      case 'signalLeftovers':
        // After a signal sent, what it ended can be reaped (and a pass counts the leftovers again:
        // not after none, or a leftover that outlives its SIGKILL would loop here).
        if (sendSignals(effect, adapters, log)) reaps.soon();
        return;
      case 'stopSelf':
        return void process.kill(process.pid, 'SIGSTOP');
      case 'setTimer':
        return timers.set(effect.name, effect.ms);
      case 'clearTimer':
        return timers.clear(effect.name);
      case 'watchLeftovers':
        reaps.now(); // collect what already exited, so the first count is current
        return leftovers.start(effect.pgid);
      case 'runInit':
        return adapters.initRunner?.run();
      case 'signalInit':
        return adapters.initRunner?.signal(effect.signal);
      case 'watchDrainTraffic':
        return adapters.drainTraffic?.watch(effect.since, effect.idleMs);
      case 'unwatchDrainTraffic':
        return adapters.drainTraffic?.stop();
      case 'publish':
        return publish();
      case 'log':
        return log[effect.level](effect.fields ?? {}, effect.msg);
      case 'exit':
        return finish(effect.code);
    }
  }

  function finish(code: number): never {
    stopAdapters(adapters);
    guardian.release();
    killEverythingLeft(ownChildren, options.libc !== undefined);
    reaps.now();
    adapters.orphanLog.flush(); // the orphans not yet counted in a line
    process.exitCode = code;
    process.exit(code);
  }

  listenToSignals(options, queue.dispatch, log);
  if (options.libc) process.on('SIGCHLD', reaps.soon);
  const supervisor: Supervisor = {
    state: queue.state,
    stateFile,
    metrics: () => renderMetrics({ state: stateFile(), counters: counters.read(), now: Date.now() }),
    killApp: () => killApp(queue.state(), options, ownChildren),
    runOwn: (file, args, spawnOptions) => spawnInGroup(file, args, spawnOptions, ownChildren),
  };
  // Known to the caller before the app starts, so that a failure from here on can still kill it.
  options.started(supervisor);
  queue.dispatch({ type: 'start' });
  return supervisor;
}

/** SIGKILL to the app's group and whatever usher started, unless usher is done already. */
function killApp(state: State, options: SuperviseOptions, ownChildren: ReadonlySet<number>): void {
  if (state.phase === 'exited') return;
  if (state.appPid !== null) sendSignal(options.config.singleChild ? state.appPid : -state.appPid, SIG.KILL);
  killEverythingLeft(ownChildren, options.libc !== undefined);
}

/**
 * The app's guardian, when usher is not PID 1 (whose death ends the namespace): it makes the app
 * die with usher, even by SIGKILL. Reaped with usher's other children, released at usher's exit.
 * One that died (killed by someone) leaves the app unguarded: that is said, and its pid is no
 * longer usher's own (the reaper and the leftover watch would pass over whoever reuses it).
 */
function guardianSlot(options: SuperviseOptions, ownChildren: Set<number>, log: Logger) {
  let guardian: Guardian | undefined;
  const start = (app: AppHandle): void => {
    if (process.pid === 1 || !options.libc) return;
    guardian = startGuardian(options.libc, app.pid, !options.config.singleChild, options.env.PATH);
    if (!guardian) return log.warn('could not start the guardian: if usher is SIGKILLed, the app keeps running unsupervised');
    ownChildren.add(guardian.pid);
    log.debug({ pid: guardian.pid }, 'guardian started: the app dies with usher, even if usher is SIGKILLed');
  };
  const collect = (): void => {
    if (!guardian?.collect()) return;
    ownChildren.delete(guardian.pid);
    log.warn({ pid: guardian.pid }, 'the guardian exited: if usher is SIGKILLed now, the app keeps running unsupervised');
    guardian = undefined;
  };
  return {
    start,
    spawned: (): readonly { collect(): void }[] => (guardian ? [{ collect }] : []),
    release: (): void => guardian?.release(),
  };
}

/** Signals to usher become events; the two the kernel sends when usher hands the terminal over do not. */
function listenToSignals(options: SuperviseOptions, dispatch: ReturnType<typeof createEventQueue>['dispatch'], log: Logger): void {
  const handoverSignals = new Set<number>(options.tty?.expectHangup ? [SIG.HUP, SIG.CONT] : []);
  options.signals.listen((signal) => {
    if (handoverSignals.delete(signal)) return log.debug({ signal: signalName(signal) }, 'terminal handed to the app');
    dispatch({ type: 'signal', signal });
  });
}

/** The spawnApp effect: the app started and watched, or the spawn's failure reported. */
function startApp(options: SuperviseOptions, adapters: Adapters, ownChildren: Set<number>, dispatch: ReturnType<typeof createEventQueue>['dispatch'], guard: (app: AppHandle) => void): AppHandle | undefined {
  const { config } = options;
  const spawned = spawnApp({
    command: config.command, singleChild: config.singleChild, tty: options.tty, cwd: options.cwd,
    env: adapters.notify ? { ...options.env, ...adapters.notify.env } : options.env, readyFd: config.readyFd, libc: options.libc,
    onReady: () => dispatch({ type: 'appReport', ready: true }), defaultSignals: APP_DEFAULT_SIGNALS,
  });
  if (!spawned.ok) {
    dispatch({ type: 'spawnFailed', code: spawned.code, message: spawned.message });
    return undefined;
  }
  const { app } = spawned;
  ownChildren.add(app.pid);
  // Before anything says the app runs: from the first word of it on, the app dies with usher.
  guard(app);
  adapters.counters.appStarted();
  if (options.tty) options.terminalHeld(true);
  app.onExit((exit) => {
    ownChildren.delete(app.pid);
    options.terminalHeld(false); // the terminal is usher's to write to again, starting with "app exited"
    dispatch({ type: 'appExited', ...exit });
  });
  adapters.reaps.soon(); // an app that exited before this line sent its SIGCHLD already
  options.afterSpawn(app.pid);
  dispatch({ type: 'spawned', pid: app.pid });
  adapters.notify?.appStarted();
  adapters.checks?.start();
  return app;
}

type SignalEffect = Extract<Effect, { type: 'signalApp' | 'signalOrphans' | 'signalLeftovers' }>;

/** The three ways a signal goes out: to the app (its pid or its group), to adopted orphans, to every leftover. Whether any went out. */
function sendSignals(effect: SignalEffect, adapters: Adapters, log: Logger): boolean {
  switch (effect.type) {
    case 'signalApp':
      if (sendSignal(effect.scope === 'group' ? -effect.pid : effect.pid, effect.signal)) {
        adapters.counters.signalSent(signalName(effect.signal));
        return true;
      }
      log.debug({ signal: signalName(effect.signal) }, 'nothing left to signal');
      return false;
    case 'signalOrphans':
      return adapters.leftovers.signalOrphans(effect.signal, effect.pgid ?? undefined);
    case 'signalLeftovers':
      return adapters.leftovers.signal(effect.signal, effect.pgid ?? undefined, effect.spareGroup);
  }
}
