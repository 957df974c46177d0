import type { Config, HttpAddress } from './config.js';
import { parseDuration } from './duration.js';
import { ConfigError, parseAt } from './errors.js';
import { OPTIONS, optionFlag, type OptionSpec } from './options.js';
import { detectPlatform } from './platform.js';
import { parseRewrite, parseSignal, SIG } from './signals.js';
import { LOG_FORMATS, LOG_LEVELS, parseChoice } from '../log/levels.js';
import { parseCommand, parseCount, parseHttpTarget, parseTcpTarget, type CheckSpec } from '../checks/check-spec.js';
import path from 'node:path';

/** What the command line gave, by option name: the strings of value/list options, true for booleans. */
export type CliValues = ReadonlyMap<string, readonly string[] | true>;

interface Raw {
  /** The flag or variable the value came from, for error messages. */
  readonly where: string;
  readonly values: readonly string[];
  readonly source: 'flag' | 'env';
}

function spec(name: string): OptionSpec {
  const found = OPTIONS.find((option) => option.name === name);
  if (!found) throw new Error(`no option named ${name}`);
  return found;
}

/** Flags win over the environment; a list flag replaces the whole list from the environment. */
function raw(name: string, cli: CliValues, env: NodeJS.ProcessEnv): Raw | undefined {
  const option = spec(name);
  const given = cli.get(name);
  if (given === true) return { where: optionFlag(option), values: ['true'], source: 'flag' };
  if (given) return { where: optionFlag(option), values: given, source: 'flag' };
  const text = option.env ? env[option.env] : undefined;
  if (text === undefined || text.trim() === '') return undefined;
  const separator = option.envSeparator === 'newline' ? '\n' : ',';
  const values = option.kind === 'list' ? text.split(separator).map((part) => part.trim()).filter(Boolean) : [text];
  return { where: option.env!, values, source: 'env' };
}

const parseBoolean = (text: string): boolean => {
  const value = text.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  throw new Error(`invalid boolean ${JSON.stringify(text)} (expected 1/0, true/false, yes/no or on/off)`);
};

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

/** A check every 0 ms would spin: these durations must be more than 0. */
function parsePositiveDuration(text: string): number {
  const ms = parseDuration(text);
  if (ms === 0) throw new Error(`invalid duration ${JSON.stringify(text)} (must be more than 0)`);
  return ms;
}

function parseReadyFd(text: string): number {
  if (!/^\s*\d+\s*$/.test(text) || Number(text) < 3 || Number(text) > 1023) {
    throw new Error(`invalid file descriptor ${JSON.stringify(text)} (expected 3 to 1023: 0, 1 and 2 are the app's stdio)`);
  }
  return Number(text);
}

export function parseHttpAddress(text: string): HttpAddress {
  const match = /^(?:\[([^\]]+)\]:|([^:]*):)?(\d+)$/.exec(text.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new Error(`invalid address ${JSON.stringify(text)} (expected PORT or HOST:PORT, e.g. 8081 or 127.0.0.1:8081)`);
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

export function buildConfig(command: readonly string[], cli: CliValues, env: NodeJS.ProcessEnv, cwd = process.cwd()): Config {
  const one = <T>(name: string, parse: (text: string) => T): { value: T; source: 'flag' | 'env' } | undefined => {
    const given = raw(name, cli, env);
    if (!given) return undefined;
    const last = given.values[given.values.length - 1]!;
    return { value: parseAt(given.where, last, parse), source: given.source };
  };
  const list = <T>(name: string, parse: (text: string) => T): T[] => {
    const given = raw(name, cli, env);
    return given ? given.values.map((text) => parseAt(given.where, text, parse)) : [];
  };

  const initOnly = one('init-only', parseBoolean)?.value ?? false;
  const initPaths = list('init', (text) => path.resolve(cwd, text));
  if (initOnly && initPaths.length === 0) throw new ConfigError('--init-only needs at least one --init PATH (or USHER_INIT)');
  if (command.length === 0 && !initOnly) throw new ConfigError('no COMMAND given (usage: usher [options] [--] COMMAND [ARGS...])');
  const checks: CheckSpec[] = [];
  for (const kind of ['ready', 'live'] as const) {
    for (const [type, parse] of [['cmd', parseCommand], ['http', parseHttpTarget], ['tcp', parseTcpTarget]] as const) {
      list(`${kind}-${type}`, parse).forEach((target, index) => checks.push({ id: `${kind}-${type}-${index + 1}`, kind, type, target }));
    }
  }
  const notifySocket = one('notify-socket', parseBoolean)?.value ?? false;
  const watchdog = one('watchdog', parseDuration);
  if (watchdog && !notifySocket) throw new ConfigError(`${watchdog.source === 'flag' ? '--watchdog' : 'USHER_WATCHDOG'} needs --notify-socket (USHER_NOTIFY_SOCKET=1): the app pings over it`);
  if (watchdog?.value === 0) throw new ConfigError(`${watchdog.source === 'flag' ? '--watchdog' : 'USHER_WATCHDOG'}: must be more than 0`);
  const stateDir = one('state-dir', (text) => {
    if (text.trim() === '') throw new Error('empty directory');
    return path.resolve(cwd, text);
  })?.value;

  const drain = one('drain', parseDuration);
  const platform = detectPlatform(env);
  const stopBudget = one('stop-budget', parseDuration);
  const exitMap = new Map<number, number>([
    ...list('exit-map', parseExitMapping),
    ...list('expect-exit', parseExitCode).map((code): [number, number] => [code, 0]),
  ]);
  const verbose = one('verbose', parseBoolean)?.value ?? false;

  return {
    command,
    singleChild: one('single-child', parseBoolean)?.value ?? false,
    rewrite: new Map(list('rewrite', parseRewrite)),
    drainMs: drain?.value ?? (env.KUBERNETES_SERVICE_HOST ? 5000 : 0),
    drainSource: drain?.source ?? (env.KUBERNETES_SERVICE_HOST ? 'kubernetes' : 'default'),
    graceMs: one('grace', parseDuration)?.value ?? 10_000,
    stopSignal: one('stop-signal', (text) => parseSignal(text))?.value,
    exitMap,
    http: one('http', parseHttpAddress)?.value,
    logLevel: one('log-level', parseChoice(LOG_LEVELS))?.value ?? (verbose ? 'debug' : 'info'),
    logFormat: one('log-format', parseChoice(LOG_FORMATS))?.value ?? 'json',
    platform: stopBudget ? { ...platform, stopBudgetMs: stopBudget.value } : platform,
    init: {
      paths: initPaths,
      mode: one('init-mode', parseChoice(['before', 'parallel'] as const))?.value ?? 'before',
      timeoutMs: one('init-timeout', parseDuration)?.value,
      onFailure: one('on-init-failure', parseChoice(['exit', 'unready'] as const))?.value ?? 'exit',
      only: initOnly,
    },
    checks,
    checkTiming: {
      intervalMs: one('check-interval', parsePositiveDuration)?.value ?? 10_000,
      timeoutMs: one('check-timeout', parsePositiveDuration)?.value ?? 1000,
      failures: one('check-failures', parseCount)?.value ?? 3,
      successes: one('check-successes', parseCount)?.value ?? 1,
      startPeriodMs: one('check-start-period', parseDuration)?.value ?? 0,
    },
    reload: {
      paths: list('reload-on', (text) => path.resolve(cwd, text)),
      signal: one('reload-signal', (text) => parseSignal(text))?.value ?? SIG.HUP,
      debounceMs: one('reload-debounce', parsePositiveDuration)?.value ?? 1000,
      optional: one('reload-optional', parseBoolean)?.value ?? false,
    },
    readyFd: one('ready-fd', parseReadyFd)?.value,
    notify: { socket: notifySocket, watchdogMs: watchdog?.value },
    onUnhealthy: one('on-unhealthy', parseChoice(['report', 'exit'] as const))?.value ?? 'report',
    stateDir,
  };
}
