import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatDuration } from '../config/duration.js';
import type { Unstamped } from '../lifecycle/types.js';
import type { Logger } from '../log/logger.js';
import { openNotifySocket, type NotifyMessage, type NotifySocket } from './notify-socket.js';

export interface NotifyProtocol {
  /** What the app's environment gains: NOTIFY_SOCKET, and WATCHDOG_USEC with --watchdog. */
  readonly env: Readonly<Record<string, string>>;
  /** Starts the watchdog clock: call once the app runs. */
  appStarted(): void;
  close(): void;
}

/**
 * systemd's sd_notify, for an app that already speaks it (Puma, many daemons): usher listens on
 * a socket in a private temporary directory and turns the messages into lifecycle events.
 * WATCHDOG_PID is not set: the app's pid is not known before it starts, and clients treat an
 * unset WATCHDOG_PID as "the watchdog is meant for me".
 */
export function openNotifyProtocol(options: { watchdogMs: number | undefined; log: Logger; dispatch: (event: Unstamped) => void }): NotifyProtocol {
  const { log, dispatch, watchdogMs } = options;
  const dir = mkdtempSync(path.join(tmpdir(), 'usher-notify-'));
  let watchdog: NodeJS.Timeout | undefined;
  let watchdogFailing = false;

  const arm = (): void => {
    if (watchdogMs === undefined) return;
    clearTimeout(watchdog);
    watchdog = setTimeout(() => {
      watchdogFailing = true;
      dispatch({ type: 'watchdog', failing: `watchdog: no WATCHDOG=1 for ${formatDuration(watchdogMs)}` });
    }, watchdogMs);
  };

  const onMessage = ({ fields }: NotifyMessage): void => {
    const mainPid = Number(fields.get('MAINPID'));
    const report: Unstamped<'appReport'> = {
      type: 'appReport',
      ...(fields.get('READY') === '1' ? { ready: true as const } : {}),
      ...(fields.get('STOPPING') === '1' ? { stopping: true as const } : {}),
      ...(fields.has('STATUS') ? { status: fields.get('STATUS')! } : {}),
      ...(Number.isInteger(mainPid) && mainPid > 0 ? { mainPid } : {}),
    };
    if (Object.keys(report).length > 1) dispatch(report);
    const ping = fields.get('WATCHDOG');
    if (ping === 'trigger') {
      watchdogFailing = true;
      clearTimeout(watchdog);
      dispatch({ type: 'watchdog', failing: 'watchdog: the app sent WATCHDOG=trigger' });
    } else if (ping === '1' && watchdogMs !== undefined) {
      if (watchdogFailing) dispatch({ type: 'watchdog', failing: null });
      watchdogFailing = false;
      arm();
    }
  };

  let socket: NotifySocket;
  try {
    socket = openNotifySocket({
      path: path.join(dir, 'notify.sock'),
      onMessage,
      onError: (error) => log.error({ err: error }, 'sd_notify socket'),
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const env: Record<string, string> = { NOTIFY_SOCKET: socket.path };
  if (watchdogMs !== undefined) env.WATCHDOG_USEC = String(watchdogMs * 1000);
  return {
    env,
    appStarted: arm,
    close() {
      clearTimeout(watchdog);
      socket.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
