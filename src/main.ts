import { writeSync } from 'node:fs';
import { openDescriptors, procMounted } from './sys/proc.js';
import { parseRun } from './cli/parse-run.js';
import type { Config, HttpAddress, HttpConfig } from './config/config.js';
import { formatDuration } from './config/duration.js';
import { ConfigError } from './config/errors.js';
import { SIG, signalName } from './config/signals.js';
import { listInitScripts, type InitScript } from './init/init-scripts.js';
import { createLogger, resolveLogFormat, type Logger } from './log/logger.js';
import { output } from './log/output.js';
import { guardStdio } from './log/stdio-guard.js';
import { nodeOptionsAppliedToUsher } from './process/app-env.js';
import type { SignalIntake } from './process/signal-intake.js';
import { checkStopBudget } from './platform/stop-budget.js';
import { resolveSignalScope, type ScopeChoice } from './process/signal-scope.js';
import { prepareTtyHandover, type TtyHandover } from './process/tty.js';
import { checkReloadPaths } from './reload/watcher.js';
import { statePublisher } from './supervisor/state-publisher.js';
import { supervise, type Supervisor } from './supervisor/supervise.js';
import { STALE_NAME, USHER_NAME } from './state/schema.js';
import { loadLibc, type Libc } from './sys/libc.js';
import { closeDescriptor } from './sys/fd.js';
import { listenTcp } from './sys/listen.js';

declare const USHER_VERSION: string;

/**
 * usher, top to bottom: parse, prepare the process (subreaper, descriptors, terminal), spawn and
 * supervise, then log what the app need not wait for. Before the app starts usher may bail out
 * (exit 2, or 126/127); after it starts usher must never die and leave the app alone.
 * 1. Signal handlers are already in place: entry.ts installed them before loading this file.
 */
export function main(argv: readonly string[], env: NodeJS.ProcessEnv, signals: SignalIntake): void {
  // Node's own stdout and stderr streams would switch the app's shared descriptors to non-blocking.
  guardStdio();
  // 2. Configuration: flags, then USHER_* variables. A bad value stops usher here, with exit 2.
  const config = parseOrExit(argv, env);
  //    libc first: it tells whether stderr is a terminal, which picks the log format.
  const libc = loadLibc();
  let appHoldsTerminal = false;
  const log = createLogger(config.logLevel, resolveLogFormat(config.logFormat, () => !(libc instanceof Error) && libc.isTerminal(2)), () => appHoldsTerminal);
  const initScripts = listInitScriptsOrExit(config, log);
  checkReloadPathsOrExit(config);
  const scopeChoice = resolveSignalScope(config.signals, config.signalsWhere, config.command, env.PATH, process.cwd());

  // 3. The process: child subreaper unless PID 1, nothing inherited that could leak into the app,
  //    the terminal handed over when interactive, the HTTP server's socket bound (a port in use
  //    stops usher here, exit 2). All need libc; without it, carry on.
  const { tty, httpFd } = libc instanceof Error ? { tty: undefined, httpFd: undefined } : prepareProcess(libc, config, log, env);

  // 4. Spawn and supervise: from here on, every failure of usher's own must take the app down with it.
  const cwd = process.cwd();
  let supervisor: Supervisor | undefined;
  process.on('uncaughtException', (error) => {
    log.fatal({ err: error }, 'usher failed: killing the app');
    supervisor?.killApp();
    process.exit(config.exitMap.get(1) ?? 1); // --exit-map covers this code too
  });
  // A plain 'exit' hook, not signal-exit: that library takes SIGPOLL for a signal nobody
  // handles (usher listens to it as SIGIO), runs its hooks and re-raises it, killing the app.
  process.on('exit', () => supervisor?.killApp());
  // usher's process name tells readers whether its state file is current (state/schema.ts, STALE_NAME).
  const publish = statePublisher(config.stateDir, log, libc instanceof Error ? undefined : (stale) => libc.setProcessName(stale ? STALE_NAME : USHER_NAME), tty !== undefined);
  // 5. What the app need not wait for: the start-up log line and the HTTP server. They come
  //    first with init scripts, since probes must answer during the scripts, and with a
  //    terminal handed to the app, whose prompt must not be followed by a line of usher's.
  //    Otherwise the app's start is the start line.
  let servicesStarted = false;
  const startServices = (appPid?: number): void => {
    servicesStarted = true;
    logStart(log, { config, libc, tty, initScripts, scopeChoice, appPid });
    if (config.http) startHttp(config.http, httpFd, log, { state: () => supervisor!.state(), stateFile: () => supervisor!.stateFile(), metrics: () => supervisor!.metrics() });
  };
  supervise({
    config, log, libc: libc instanceof Error ? undefined : libc, tty, signalScope: scopeChoice.scope, initScripts, cwd, env, signals, publish,
    started: (running) => {
      supervisor = running;
      if (initScripts.length > 0 || tty) startServices();
    },
    terminalHeld: (held) => (appHoldsTerminal = held),
    afterSpawn: (pid) => {
      process.chdir('/'); // keep no directory of the app's busy (umounts, volume swaps)
      if (servicesStarted) log.info({ pid }, 'app started');
      else startServices(pid);
      // Once the app runs, whatever came before it: under systemd this asks systemctl, which the app need not wait for.
      checkStopBudget({ platform: config.platform, drainMs: config.drainMs, graceMs: config.graceMs, log, envPath: env.PATH, runOwn: supervisor!.runOwn });
    },
  });
}

/** Step 3, with libc: what the process needs before the app starts. */
function prepareProcess(libc: Libc, config: Config, log: Logger, env: NodeJS.ProcessEnv): { tty: TtyHandover | undefined; httpFd: number | undefined } {
  // Before anything starts: a port in use stops usher now, not after the app is up.
  const httpFd = config.http ? bindHttpOrExit(config.http) : undefined;
  if (process.pid !== 1 && !libc.setChildSubreaper()) log.warn('could not become a child subreaper: orphans will go to PID 1');
  libc.setProcessName(USHER_NAME); // top and ps -o comm say usher, not node
  if (config.parentDeathSignal !== undefined && !libc.setParentDeathSignal(config.parentDeathSignal)) log.warn('could not set the parent-death signal (-p)');
  closeInheritedDescriptors(libc);
  // A write of usher's own to a closed pipe (its stderr when the log reader went away, a probe
  // client that hung up) raises SIGPIPE in the writing thread: usher's main thread. Blocked
  // there, it stays usher's own EPIPE and is never forwarded to the app (or looped on, when
  // the log line saying so hits the same pipe). A SIGPIPE sent to usher from outside is
  // process-directed, lands on another thread, and is forwarded as ever. The app starts with
  // an empty signal mask.
  libc.blockInThisThread(SIG.PIPE);
  // On Node >= 22.14 bin/usher passes --disable-sigusr1, so that a SIGUSR1 during Node's
  // bootstrap cannot open the inspector. Node then leaves SIGUSR1 blocked in every thread (it
  // unblocks it only as it starts the inspector's signal handling, which the flag disables), and
  // usher's listener would never fire. Unblocked in this thread, a process-directed SIGUSR1 has
  // one thread to land on, and one that came during the bootstrap (held pending by the kernel)
  // is delivered now and forwarded. Without the flag this changes nothing; the app's mask is set
  // empty at spawn either way.
  libc.unblockInThisThread(SIG.USR1);
  // What usher's parent left ignored must not reach the app (SigIgn 0 on every spawn path).
  libc.defaultIgnoredRealtimeSignals();
  return { tty: config.singleChild ? undefined : prepareTtyHandover(libc, env.PATH), httpFd };
}

function bindHttpOrExit(http: HttpConfig): number {
  try {
    return listenTcp(http.host, http.port);
  } catch (error) {
    bail(`${http.where}: cannot listen on ${http.host}:${http.port}: ${(error as Error).message}`);
  }
}

/** After the app started, a failure to serve probes is logged, never fatal. */
function startHttp(address: HttpAddress, fd: number | undefined, log: Logger, source: Pick<Supervisor, 'state' | 'stateFile' | 'metrics'>): void {
  const failed = (error: unknown): void => log.error({ err: error, address: `${address.host}:${address.port}` }, 'HTTP server could not start; the app keeps running');
  import('./http/server.js').then(
    ({ startHttpServer }) => startHttpServer({ address, fd, ...source, log }).catch(failed),
    (error: unknown) => {
      // Nothing took the bound socket: closed, so that probes are refused rather than left hanging in its backlog.
      if (fd !== undefined) closeDescriptor(fd);
      failed(error);
    },
  );
}

function checkReloadPathsOrExit(config: Config): void {
  if (config.reload.paths.length === 0) return;
  try {
    checkReloadPaths(config.reload.paths, config.reload.optional);
  } catch (error) {
    bail(`--reload-on/USHER_RELOAD_ON: ${(error as Error).message}${config.reload.optional ? '' : ' (or pass --reload-optional)'}`);
  }
}

function listInitScriptsOrExit(config: Config, log: Logger): InitScript[] {
  try {
    const scripts = listInitScripts(config.init.paths, (message) => log.warn(message));
    if (config.init.only && scripts.length === 0) throw new Error(`--init-only, but no executable init script in ${config.init.paths.join(', ')}`);
    return scripts;
  } catch (error) {
    bail(`--init/USHER_INIT: ${(error as Error).message}`);
  }
}

function parseOrExit(argv: readonly string[], env: NodeJS.ProcessEnv): Config {
  try {
    const parsed = parseRun(argv, env, USHER_VERSION, (text) => writeSync(1, text));
    if (parsed.kind === 'printed') process.exit(0);
    return parsed.config;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    bail(error.message);
  }
}

/** Before the app starts, a bad input ends usher: its message on stderr, exit 2. */
function bail(message: string): never {
  output(2).write(`usher: ${message}\n`);
  process.exit(2);
}

/**
 * Descriptors usher inherited without close-on-exec would otherwise reach the app: each open one
 * is marked, as /proc/self/fd lists them, or every number up to 1023 without /proc.
 */
function closeInheritedDescriptors(libc: Libc): void {
  const fds = openDescriptors() ?? Array.from({ length: 1021 }, (_, index) => index + 3);
  for (const fd of fds) if (fd > 2) libc.setCloseOnExec(fd);
}

/** Readiness that means no more than "spawned" is said once, in the start line, with the flags that fix it. */
function readinessAdvice(config: Config): string | undefined {
  const sources = config.readyPorts.length + config.checks.filter((check) => check.kind === 'ready').length + (config.readyFd === undefined ? 0 : 1) + (config.notify.socket ? 1 : 0);
  if (sources > 0 || config.init.only) return undefined;
  return 'the app runs, nothing says when it serves: set PORT or --ready-port to its port, or use --ready-http, --ready-tcp, --ready-cmd, --ready-fd or --notify-socket';
}

interface StartLine {
  readonly config: Config;
  readonly libc: Libc | Error;
  readonly tty: TtyHandover | undefined;
  readonly initScripts: readonly InitScript[];
  readonly scopeChoice: ScopeChoice;
  /** The app's pid when it runs already: the line is then "app started". */
  readonly appPid: number | undefined;
}

/**
 * One line at start: "app started" with the app's pid and usher's configuration, or "usher
 * started" when the app comes later (after init scripts; with a terminal handed to it). What
 * is at its default is left out; the full summary is for -v.
 */
function logStart(log: Logger, start: StartLine): void {
  const { config, libc } = start;
  if (config.ignoredPort !== undefined) log.warn({ PORT: config.ignoredPort }, `PORT=${JSON.stringify(config.ignoredPort)} is not a port number: not used for readiness`);
  log.info({ ...(start.appPid === undefined ? {} : { pid: start.appPid }), ...startSummary(start) }, start.appPid === undefined ? 'usher started' : 'app started');
  for (const note of config.compatNotes) log.debug(note);
  if (config.drainSource === 'kubernetes') log.info('KUBERNETES_SERVICE_HOST is set: drain defaults to 5s (set --drain or USHER_DRAIN to change it)');
  if (libc instanceof Error) {
    log.warn({ error: libc.message }, 'koffi could not load: usher runs degraded: no orphan reaping, no subreaper, no guardian (a SIGKILLed usher leaves the app running), no TTY hand-over, no state lock, and the --http port is bound only after the app started');
    if (config.parentDeathSignal !== undefined) log.warn(`-p/--parent-death-signal ${signalName(config.parentDeathSignal)} does nothing without koffi`);
  }
  if (!procMounted()) log.warn('/proc is not mounted: usher cannot reap orphans, tell whose a listening port is (any listener counts), nor find what the app left outside its process group; the app runs, and usher exits once its group is gone');
  if (nodeOptionsAppliedToUsher(process.env)) log.warn('NODE_OPTIONS also applied to usher\'s own Node: start usher through bin/usher so only the app gets it');
}

function startSummary({ config, tty, initScripts, scopeChoice }: StartLine): Record<string, unknown> {
  const readiness = readinessAdvice(config);
  return {
    version: USHER_VERSION,
    command: config.command[0] ?? null,
    args: config.command.length - 1,
    role: process.pid === 1 ? 'pid1' : 'subreaper',
    platform: config.platform.name,
    signals: `${scopeChoice.scope === 'app' ? 'app only' : 'process group'} (${scopeChoice.why})`,
    drain: formatDuration(config.drainMs),
    grace: formatDuration(config.graceMs),
    readyPorts: config.readyPorts.length > 0 ? `${config.readyPorts.map((port) => `:${port}`).join(', ')} (from ${config.readyPortsSource === 'PORT' ? '$PORT' : config.readyPortsSource === 'env' ? 'USHER_READY_PORT' : '--ready-port'})` : 'none',
    ...(readiness ? { readiness } : {}),
    ...(tty ? { terminal: 'handed to the app' } : {}),
    ...(config.rewrite.size > 0 ? { rewrite: Object.fromEntries([...config.rewrite].map(([from, to]) => [signalName(from), to === 0 ? 'drop' : signalName(to)])) } : {}),
    ...(config.stopSignal === undefined ? {} : { stopSignal: signalName(config.stopSignal) }),
    ...(config.drainIdleMs === undefined ? {} : { drainIdle: formatDuration(config.drainIdleMs) }),
    ...(initScripts.length > 0 || config.init.only ? { init: initScripts.map((script) => script.name), initMode: config.init.only ? 'only' : config.init.mode } : {}),
    ...(config.checks.length > 0 ? { checks: config.checks.map((check) => check.id) } : {}),
  };
}
