import { checksConfig } from '../checks/check-config.js';
import { initConfig } from '../init/init-config.js';
import { LOG_FORMATS, LOG_LEVELS } from '../log/levels.js';
import { appReportConfig } from '../notify/notify-config.js';
import { portsConfig } from '../ports/port-config.js';
import { reloadConfig } from '../reload/reload-config.js';
import type { Config, HttpAddress } from './config.js';
import { parseDuration } from './duration.js';
import { ConfigError } from './errors.js';
import { optionReader, type CliValues, type OptionReader } from './option-reader.js';
import { parseBoolean, parseChoice, parsePath } from './parsers.js';
import { detectPlatform, machineProbe, type Platform } from '../platform/platform.js';
import { parseRequestSignal, parseRewrite, parseSignal } from './signals.js';
import { ipVersion } from '../sys/ip.js';

export type { CliValues };

function parseExitCode(text: string): number {
  if (!/^\s*\d+\s*$/.test(text) || Number(text) > 255) {
    throw new Error(`invalid exit code ${JSON.stringify(text)} (expected 0 to 255)`);
  }
  return Number(text);
}

function parseExitMapping(text: string): [number, number] {
  const parts = text.split(':');
  if (parts.length !== 2) throw new Error(`invalid exit mapping ${JSON.stringify(text)} (expected FROM:TO, e.g. 143:0)`);
  return [parseExitCode(parts[0]!), parseExitCode(parts[1]!)];
}

/** [HOST:]PORT, HOST an IP address or `localhost` (127.0.0.1): usher never resolves a name. */
export function parseHttpAddress(text: string): HttpAddress {
  const match = /^(?:\[([^\]]+)\]:|([^:]*):)?(\d+)$/.exec(text.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new Error(`invalid address ${JSON.stringify(text)} (expected PORT or HOST:PORT, e.g. 8081 or 127.0.0.1:8081)`);
  const host = match[1] ?? (match[2] || '0.0.0.0');
  if (host === 'localhost') return { host: '127.0.0.1', port };
  // fe80::1%eth0 is an IP to Node, but the socket usher binds at start takes no zone.
  if (host.includes('%')) throw new Error(`invalid address ${JSON.stringify(text)}: an IPv6 zone (%${host.split('%')[1]}) is not supported; bind [::] or a global address`);
  if (ipVersion(host) === 0) throw new Error(`invalid address ${JSON.stringify(text)}: the host must be an IP address or localhost (usher does not resolve names)`);
  return { host, port };
}

/** tini's and dumb-init's knobs that usher takes but that change nothing: each said once at debug. */
function compatNotes(read: OptionReader): string[] {
  const notes: string[] = [];
  if (read.one('subreaper', parseBoolean) || read.env.TINI_SUBREAPER) notes.push('tini\'s -s / TINI_SUBREAPER accepted: usher always becomes a child subreaper when it is not PID 1');
  if (read.env.DUMB_INIT_SETSID?.trim() === '0') notes.push('DUMB_INIT_SETSID=0 read as --single-child: no session of its own, signals to the app alone');
  return notes;
}

/** tini's TINI_VERBOSITY (0 to 4), read when USHER_LOG_LEVEL is not set. */
function tiniVerbosity(env: NodeJS.ProcessEnv): 'error' | 'warn' | 'info' | 'debug' | 'trace' | undefined {
  const levels = ['error', 'warn', 'info', 'debug', 'trace'] as const;
  const text = env.TINI_VERBOSITY?.trim();
  if (!text) return undefined;
  // tini reads it with atoi: any integer, below 0 as 0, above 4 as 4; words are a slip, said so.
  if (!/^[-+]?\d+$/.test(text)) throw new ConfigError(`TINI_VERBOSITY: invalid value ${JSON.stringify(env.TINI_VERBOSITY)} (expected a number, 0 to 4, as tini reads it)`);
  return levels[Math.max(0, Math.min(Number(text), levels.length - 1))];
}

/** Where --signals came from, with its value when it was given as such: `--signals app`, `USHER_SIGNALS=group`, `--group`. */
function signalsWhere(signals: { value: string; where: string } | undefined): string {
  if (!signals) return 'default';
  if (signals.where === '--signals') return `--signals ${signals.value}`;
  if (signals.where === 'USHER_SIGNALS') return `USHER_SIGNALS=${signals.value}`;
  return signals.where; // an alias: --group (for -g too), TINI_KILL_PROCESS_GROUP
}

/** What made usher single-child, for the start-up log. */
function singleChildWhere(read: OptionReader): string {
  return read.one('single-child', parseBoolean)?.where ?? 'DUMB_INIT_SETSID=0';
}

/** tini's TINI_KILL_PROCESS_GROUP, read as tini reads it (set and not empty), when USHER_SIGNALS is not set. */
function tiniGroup(env: NodeJS.ProcessEnv): { value: 'group'; where: string } | undefined {
  return env.TINI_KILL_PROCESS_GROUP ? { value: 'group', where: 'TINI_KILL_PROCESS_GROUP' } : undefined;
}

/** --stop-budget replaces what the platform's defaults say, and systemctl is not asked. */
function withBudget(platform: Platform, ms: number, where: string): Platform {
  const { systemdUnit: _asked, ...rest } = platform;
  return { ...rest, stopBudgetMs: ms, budgetFrom: where };
}

/** The stop: signals, drain, grace, stop signal, the platform's budget and the exit code. */
function stopConfig(read: OptionReader): Pick<Config, 'singleChild' | 'signals' | 'signalsWhere' | 'rewrite' | 'drainMs' | 'drainSource' | 'graceMs' | 'stopSignal' | 'exitMap' | 'platform' | 'onUnhealthy'> {
  const kubernetes = Boolean(read.env.KUBERNETES_SERVICE_HOST);
  const drain = read.one('drain', parseDuration);
  const platform = detectPlatform(machineProbe(read.env));
  const stopBudget = read.one('stop-budget', parseDuration);
  // dumb-init's DUMB_INIT_SETSID=0: no session of its own, signals to the app alone, as -c.
  const singleChild = read.one('single-child', parseBoolean)?.value ?? read.env.DUMB_INIT_SETSID?.trim() === '0';
  const signals = read.one('signals', parseChoice(['app', 'group', 'auto'] as const)) ?? tiniGroup(read.env);
  return {
    singleChild,
    // With --single-child the app stays in usher's own process group: only its pid can be signalled.
    signals: singleChild ? 'app' : (signals?.value ?? 'auto'),
    signalsWhere: singleChild ? singleChildWhere(read) : signalsWhere(signals),
    rewrite: new Map(read.list('rewrite', parseRewrite)),
    drainMs: drain?.value ?? (kubernetes ? 5000 : 0),
    drainSource: drain?.source ?? (kubernetes ? 'kubernetes' : 'default'),
    graceMs: read.one('grace', parseDuration)?.value ?? 10_000,
    stopSignal: read.one('stop-signal', parseRequestSignal('stop signal'))?.value,
    exitMap: new Map<number, number>([
      ...read.list('exit-map', parseExitMapping),
      ...read.list('expect-exit', parseExitCode).map((code): [number, number] => [code, 0]),
    ]),
    platform: stopBudget ? withBudget(platform, stopBudget.value, stopBudget.where) : platform,
    onUnhealthy: read.one('on-unhealthy', parseChoice(['report', 'exit'] as const))?.value ?? 'report',
  };
}

/** COMMAND, the command-line values and the environment -> the configuration; a bad value throws a ConfigError. */
export function buildConfig(command: readonly string[], cli: CliValues, env: NodeJS.ProcessEnv, cwd = process.cwd()): Config {
  const read = optionReader(cli, env, cwd);
  const init = initConfig(read);
  if (command.length === 0 && !init.only) throw new ConfigError('no COMMAND given (usage: usher [options] [--] COMMAND [ARGS...])');
  const stop = stopConfig(read);
  const http = read.one('http', parseHttpAddress);
  return {
    command,
    ...stop,
    ...portsConfig(read, stop.drainMs),
    http: http && { ...http.value, where: http.where },
    logLevel: read.one('log-level', parseChoice(LOG_LEVELS))?.value ?? tiniVerbosity(env) ?? 'info',
    logFormat: read.one('log-format', parseChoice(LOG_FORMATS))?.value ?? 'auto',
    init,
    ...checksConfig(read),
    reload: reloadConfig(read),
    ...appReportConfig(read),
    stateDir: read.one('state-dir', parsePath(cwd, 'directory'))?.value,
    parentDeathSignal: read.one('parent-death-signal', (text) => parseSignal(text))?.value,
    warnOnReap: read.one('warn-on-reap', parseBoolean)?.value ?? false,
    compatNotes: compatNotes(read),
  };
}
