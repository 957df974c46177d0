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
import { detectPlatform } from './platform.js';
import { parseRewrite, parseSignal } from './signals.js';

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

export function parseHttpAddress(text: string): HttpAddress {
  const match = /^(?:\[([^\]]+)\]:|([^:]*):)?(\d+)$/.exec(text.trim());
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new Error(`invalid address ${JSON.stringify(text)} (expected PORT or HOST:PORT, e.g. 8081 or 127.0.0.1:8081)`);
  return { host: match[1] ?? (match[2] || '0.0.0.0'), port };
}

/** The stop: signals, drain, grace, stop signal, the platform's budget and the exit code. */
function stopConfig(read: OptionReader): Pick<Config, 'singleChild' | 'rewrite' | 'drainMs' | 'drainSource' | 'graceMs' | 'stopSignal' | 'exitMap' | 'platform' | 'onUnhealthy'> {
  const kubernetes = Boolean(read.env.KUBERNETES_SERVICE_HOST);
  const drain = read.one('drain', parseDuration);
  const platform = detectPlatform(read.env);
  const stopBudget = read.one('stop-budget', parseDuration);
  return {
    singleChild: read.one('single-child', parseBoolean)?.value ?? false,
    rewrite: new Map(read.list('rewrite', parseRewrite)),
    drainMs: drain?.value ?? (kubernetes ? 5000 : 0),
    drainSource: drain?.source ?? (kubernetes ? 'kubernetes' : 'default'),
    graceMs: read.one('grace', parseDuration)?.value ?? 10_000,
    stopSignal: read.one('stop-signal', (text) => parseSignal(text))?.value,
    exitMap: new Map<number, number>([
      ...read.list('exit-map', parseExitMapping),
      ...read.list('expect-exit', parseExitCode).map((code): [number, number] => [code, 0]),
    ]),
    platform: stopBudget ? { ...platform, stopBudgetMs: stopBudget.value } : platform,
    onUnhealthy: read.one('on-unhealthy', parseChoice(['report', 'exit'] as const))?.value ?? 'report',
  };
}

/** COMMAND, the command-line values and the environment -> the configuration; a bad value throws a ConfigError. */
export function buildConfig(command: readonly string[], cli: CliValues, env: NodeJS.ProcessEnv, cwd = process.cwd()): Config {
  const read = optionReader(cli, env, cwd);
  const init = initConfig(read);
  if (command.length === 0 && !init.only) throw new ConfigError('no COMMAND given (usage: usher [options] [--] COMMAND [ARGS...])');
  const stop = stopConfig(read);
  return {
    command,
    ...stop,
    ...portsConfig(read, stop.drainMs),
    http: read.one('http', parseHttpAddress)?.value,
    logLevel: read.one('log-level', parseChoice(LOG_LEVELS))?.value ?? 'info',
    logFormat: read.one('log-format', parseChoice(LOG_FORMATS))?.value ?? 'json',
    init,
    ...checksConfig(read),
    reload: reloadConfig(read),
    ...appReportConfig(read),
    stateDir: read.one('state-dir', parsePath(cwd, 'directory'))?.value,
  };
}
