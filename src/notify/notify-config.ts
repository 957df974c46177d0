import type { Config } from '../config/config.js';
import type { OptionReader } from '../config/option-reader.js';
import { parseDuration } from '../config/duration.js';
import { parseBoolean } from '../config/parsers.js';

/** How the app may say it is ready: --ready-fd, --notify-socket and its --watchdog. */
export function appReportConfig(read: OptionReader): Pick<Config, 'readyFd' | 'notify'> {
  const socket = read.one('notify-socket', parseBoolean)?.value ?? false;
  const watchdog = read.one('watchdog', parseDuration);
  if (watchdog && !socket) read.fail(`${watchdog.where} needs --notify-socket (USHER_NOTIFY_SOCKET=1): the app pings over it`);
  if (watchdog?.value === 0) read.fail(`${watchdog.where}: must be more than 0`);
  return { readyFd: read.one('ready-fd', parseReadyFd)?.value, notify: { socket, watchdogMs: watchdog?.value } };
}

function parseReadyFd(text: string): number {
  if (!/^\s*\d+\s*$/.test(text) || Number(text) < 3 || Number(text) > 1023) {
    throw new Error(`invalid file descriptor ${JSON.stringify(text)} (expected 3 to 1023: 0, 1 and 2 are the app's stdio)`);
  }
  return Number(text);
}
