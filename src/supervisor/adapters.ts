import type { Config } from '../config/config.js';
import { createChecks, type Checks } from '../checks/checks.js';
import { createInitRunner, type InitRunner } from '../init/init-runner.js';
import type { InitScript } from '../init/init-scripts.js';
import type { TimerName, Unstamped } from '../lifecycle/types.js';
import type { Logger } from '../log/logger.js';
import { openNotifyProtocol, type NotifyProtocol } from '../notify/notify-protocol.js';
import { createDrainTraffic, type DrainTraffic } from '../ports/drain-traffic.js';
import { ListenerFinder } from '../ports/listeners.js';
import { createPortWatch, type PortWatch } from '../ports/port-watch.js';
import type { AppHandle } from '../process/spawn-app.js';
import { Reaper } from '../reaper/reaper.js';
import { startReloadWatcher, type ReloadWatcher } from '../reload/watcher.js';
import type { Libc } from '../sys/libc.js';
import { Counters } from './counters.js';
import { adoptedOrphans, LeftoverWatch } from './leftover-watch.js';
import { createOrphanLog, type OrphanLog } from './orphan-log.js';
import { createReapSchedule, type ReapSchedule } from './reap-schedule.js';
import { Timers } from './timers.js';

/** Everything that turns the world into events, and carries out effects, for one usher. */
export interface Adapters {
  readonly counters: Counters;
  readonly timers: Timers;
  readonly leftovers: LeftoverWatch;
  readonly reaps: ReapSchedule;
  readonly orphanLog: OrphanLog;
  readonly initRunner: InitRunner | undefined;
  readonly checks: Checks | undefined;
  readonly notify: NotifyProtocol | undefined;
  readonly reloadWatcher: ReloadWatcher | undefined;
  /** Port readiness, started once the app runs; undefined without readiness ports. */
  readonly ports: PortWatch | undefined;
  /** --drain-idle's watch of the readiness ports' traffic. */
  readonly drainTraffic: DrainTraffic | undefined;
}

export interface AdapterContext {
  readonly config: Config;
  readonly log: Logger;
  readonly libc: Libc | undefined;
  readonly initScripts: readonly InitScript[];
  readonly cwd: string;
  /** The app's environment: init scripts and command checks get the same. */
  readonly appEnv: NodeJS.ProcessEnv;
  /** Pids usher started itself (init scripts, checks, the app): the orphan reaper leaves them alone. */
  readonly ownChildren: Set<number>;
  readonly app: () => AppHandle | undefined;
  /** What usher reaps by pid besides the app (its guardian). */
  readonly guardian: () => readonly { collect(): unknown }[];
  readonly dispatch: (event: Unstamped) => void;
  /** A record of a script or check changed: the state file follows. */
  readonly changed: () => void;
}

export function createAdapters(context: AdapterContext): Adapters {
  const { config, log, dispatch, ownChildren, changed } = context;
  const counters = new Counters();
  const leftovers = new LeftoverWatch(ownChildren, (live) => dispatch({ type: 'leftoversCounted', live }));
  const { ports, drainTraffic } = portAdapters(context);
  const orphanLog = createOrphanLog(log, config.warnOnReap ? 'warn' : 'info', (count) => counters.orphansReaped(count));
  return {
    counters,
    leftovers,
    orphanLog,
    ports,
    drainTraffic,
    timers: new Timers((name: TimerName) => dispatch({ type: 'timer', name })),
    reaps: createReapSchedule({
      reaper: context.libc && new Reaper(context.libc, (pid) => ownChildren.has(pid)),
      reapedByPid: () => [...[context.app()].filter((app) => app !== undefined), ...context.guardian()],
      leftGroup: () => {
        const app = context.app();
        return app && !config.singleChild && app.collect() ? app.pid : undefined;
      },
      onOrphans: (reaped) => orphanLog.reaped(reaped),
      afterPass: () => leftovers.check(),
      everySecond: () => ports?.tick(),
    }),
    initRunner: context.initScripts.length === 0 ? undefined : createInitRunner({
      scripts: context.initScripts, timeoutMs: config.init.timeoutMs, graceMs: config.graceMs, cwd: context.cwd, env: context.appEnv,
      log, ownChildren, dispatch, changed,
    }),
    checks: config.checks.length === 0 ? undefined : createChecks({
      specs: config.checks, timing: config.checkTiming, context: { cwd: context.cwd, env: context.appEnv, ownChildren },
      log, report: dispatch, changed,
    }),
    notify: openNotify(config, log, dispatch),
    // --reload-on: watched from the start, so a change is noticed whenever it comes; the machine
    // decides whether it becomes a signal (never during init, drain or stop).
    reloadWatcher: config.reload.paths.length === 0 ? undefined : startReloadWatcher({
      paths: config.reload.paths, optional: config.reload.optional, debounceMs: config.reload.debounceMs, log,
      onChange: (change) => dispatch({ type: 'reloadRequested', path: change.path, detail: change.detail }),
    }),
  };
}

/** Port readiness and the drain's traffic watch, on the readiness ports. */
function portAdapters({ config, log, dispatch, app, ownChildren }: AdapterContext): Pick<Adapters, 'ports' | 'drainTraffic'> {
  if (config.readyPorts.length === 0) return { ports: undefined, drainTraffic: undefined };
  // The app's tree: the app, and the orphans usher adopted from it (daemons that double-forked).
  const roots = (): number[] => {
    const running = app();
    const adopted = adoptedOrphans(ownChildren);
    return running ? [running.pid, ...adopted] : adopted;
  };
  const finder = new ListenerFinder(roots, (why) => log.warn({ why }, 'sock_diag is not available: reading listeners from /proc/net/tcp instead'));
  return {
    ports: createPortWatch({
      ports: config.readyPorts, finder, log, report: dispatch,
      warnLoopback: process.pid === 1 || Boolean(process.env.KUBERNETES_SERVICE_HOST),
    }),
    drainTraffic: config.drainIdleMs === undefined ? undefined : createDrainTraffic({ ports: config.readyPorts, finder, log, report: dispatch }),
  };
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

/** At exit: every adapter stops, so nothing of usher's fires any more. */
export function stopAdapters(adapters: Adapters): void {
  adapters.leftovers.stop();
  adapters.timers.clearAll();
  adapters.reaps.stop();
  adapters.checks?.stop();
  adapters.notify?.close();
  adapters.reloadWatcher?.stop();
  adapters.ports?.stop();
  adapters.drainTraffic?.stop();
}
