import type { OptionReader } from '../config/option-reader.js';
import { formatDuration, parseDuration } from '../config/duration.js';

/** Where the readiness ports came from, for the start-up log. */
export type PortsSource = 'flag' | 'env' | 'PORT' | 'off' | 'none';

export interface PortsConfig {
  /** The TCP ports the app's tree must listen on to be ready. */
  readonly readyPorts: readonly number[];
  readonly readyPortsSource: PortsSource;
  /** PORT held something that is not a port number: logged once at start, then ignored. */
  readonly ignoredPort: string | undefined;
  /** --drain-idle: the quiet time that ends the drain early; undefined without it. */
  readonly drainIdleMs: number | undefined;
}

function parsePort(text: string): number {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed) || Number(trimmed) < 1 || Number(trimmed) > 65535) {
    throw new Error(`invalid port ${JSON.stringify(text)} (expected 1 to 65535, or none)`);
  }
  return Number(trimmed);
}

/** $PORT as a readiness port, when it holds a port number. */
function portFromEnv(env: NodeJS.ProcessEnv): { port: number } | { ignored: string } | undefined {
  const text = env.PORT;
  if (text === undefined || text.trim() === '') return undefined;
  return /^\s*\d+\s*$/.test(text) && Number(text) >= 1 && Number(text) <= 65535 ? { port: Number(text) } : { ignored: text };
}

/**
 * --ready-port / USHER_READY_PORT, else $PORT when it holds a port number (the Heroku, Cloud
 * Run, Render, Dokku and Knative convention); `none` turns port readiness off. --drain-idle
 * needs a port to watch and a drain to shorten.
 */
export function portsConfig(read: OptionReader, drainMs: number): PortsConfig {
  const flag = read.one('ready-port', String);
  const given = read.list('ready-port', (text) => (text.trim().toLowerCase() === 'none' ? 'none' : parsePort(text)));
  let readyPorts: number[] = [];
  let source: PortsSource = 'none';
  let ignoredPort: string | undefined;
  if (given.includes('none')) {
    if (given.length > 1) read.fail(`${flag!.where}: none turns port readiness off and cannot be given with ports (${given.join(', ')})`);
    source = 'off';
  } else if (given.length > 0) {
    readyPorts = [...new Set(given as number[])];
    source = flag!.source;
  } else {
    const fromEnv = portFromEnv(read.env);
    if (fromEnv && 'port' in fromEnv) [readyPorts, source] = [[fromEnv.port], 'PORT'];
    else ignoredPort = fromEnv?.ignored;
  }
  const drainIdle = read.one('drain-idle', parseDuration);
  if (drainIdle) {
    const off = source === 'off' ? ' (--ready-port none turned port readiness off)' : '';
    if (drainIdle.value === 0) read.fail(`${drainIdle.where}: must be more than 0`);
    if (readyPorts.length === 0) read.fail(`${drainIdle.where} ${formatDuration(drainIdle.value)} needs a readiness port to watch: give --ready-port PORT (USHER_READY_PORT) or set PORT${off}`);
    if (drainMs === 0) read.fail(`${drainIdle.where} ${formatDuration(drainIdle.value)} needs --drain DURATION (USHER_DRAIN), the longest the drain may last: it is 0`);
  }
  return { readyPorts, readyPortsSource: source, ignoredPort, drainIdleMs: drainIdle?.value };
}
