/**
 * The one table of usher's options. It feeds the command-line parser (cli/parse-run.ts), the
 * USHER_* environment mapping and the value checks (config/build-config.ts), `--help`, and
 * every option table of the README (config/options-doc.ts, written by `npm run docs`), so they
 * cannot drift.
 */
export type OptionKind = 'boolean' | 'value' | 'list';

export interface OptionSpec {
  /** Long flag without dashes; also the key of the raw value. */
  readonly name: string;
  readonly short?: string;
  /** Placeholder shown in help for value and list options. */
  readonly value?: string;
  readonly kind: OptionKind;
  /** The environment twin; lists take a comma-separated value there. */
  readonly env?: string;
  readonly default: string;
  readonly help: string;
  /** Accepted for compatibility with tini or dumb-init; documented, not a knob of its own. */
  readonly compat?: string;
  /** How a list is split in the environment: commas, or newlines for shell commands (which hold commas). */
  readonly envSeparator?: 'comma' | 'newline';
  /**
   * A flag that means another option set to a value (`-v` is `--log-level debug`). Precedence,
   * highest first: that option's own flag, this flag, that option's variable, its default.
   */
  readonly alias?: { readonly of: string; readonly value: string };
  /** The README table it is listed in besides the main one. */
  readonly section?: 'checks';
}

export const OPTIONS: readonly OptionSpec[] = [
  { name: 'single-child', short: 'c', kind: 'boolean', env: 'USHER_SINGLE_CHILD', default: 'off',
    help: 'signals go to the app only, not its process group; the app is not put in a session of its own' },
  { name: 'signals', value: 'WHO', kind: 'value', env: 'USHER_SIGNALS', default: 'auto',
    help: 'who gets forwarded signals and the stop signal: app (its process alone), group (its process group), or auto: the group when COMMAND is a shell or a shell script, the app alone otherwise; SIGKILL at the grace end always reaches everything' },
  { name: 'rewrite', short: 'r', value: 'FROM:TO', kind: 'list', env: 'USHER_REWRITE', default: 'none',
    help: 'rewrite a received signal before forwarding it (names or numbers; TO = 0 drops it); repeatable' },
  { name: 'drain', value: 'DURATION', kind: 'value', env: 'USHER_DRAIN', default: '0 (5s when KUBERNETES_SERVICE_HOST is set)',
    help: 'after TERM/INT: time usher reports not-ready while the app still serves, before the stop signal' },
  { name: 'drain-idle', value: 'DURATION', kind: 'value', env: 'USHER_DRAIN_IDLE', default: 'off',
    help: 'end the drain early, once the readiness ports have had no new connection and no inbound bytes for DURATION after the unready report; --drain is then the longest the drain may last' },
  { name: 'grace', value: 'DURATION', kind: 'value', env: 'USHER_GRACE', default: '10s',
    help: 'after the stop signal (or the app\'s own exit), time before SIGKILL of everything left (the app\'s tree and what usher adopted)' },
  { name: 'stop-signal', value: 'SIG', kind: 'value', env: 'USHER_STOP_SIGNAL', default: 'the received one, rewritten',
    help: 'signal that starts the app\'s graceful stop' },
  { name: 'stop-budget', value: 'DURATION', kind: 'value', env: 'USHER_STOP_BUDGET', default: 'the platform\'s (Kubernetes 30s, Heroku 30s, podman and Docker 10s, foreman, honcho and overmind 5s, systemd the unit\'s TimeoutStopSec or 90s)',
    help: 'time the platform allows between its stop signal and its SIGKILL; usher warns when drain + grace exceed it' },
  { name: 'exit-map', value: 'FROM:TO', kind: 'list', env: 'USHER_EXIT_MAP', default: 'none',
    help: 'remap usher\'s exit code, e.g. 143:0 so a clean stop counts as success; repeatable' },
  { name: 'expect-exit', short: 'e', value: 'CODE', kind: 'list', default: 'none', compat: 'tini -e',
    help: 'same as --exit-map CODE:0' },
  { name: 'http', value: '[HOST:]PORT', kind: 'value', env: 'USHER_HTTP', default: 'off',
    help: 'serve probes over HTTP: /livez, /readyz, /startupz, /status, /metrics (PORT alone binds every interface; 0 picks a free port)' },
  { name: 'init', value: 'PATH', kind: 'list', env: 'USHER_INIT', default: 'none',
    help: 'init script, or directory whose executables run in name order, before the app is ready; repeatable' },
  { name: 'init-mode', value: 'MODE', kind: 'value', env: 'USHER_INIT_MODE', default: 'before',
    help: 'before: the app starts after the init scripts; parallel: the app starts at once and readiness waits for them' },
  { name: 'init-timeout', value: 'DURATION', kind: 'value', env: 'USHER_INIT_TIMEOUT', default: 'none',
    help: 'time limit per init script; past it the script\'s process group gets TERM, then KILL after --grace' },
  { name: 'on-init-failure', value: 'POLICY', kind: 'value', env: 'USHER_ON_INIT_FAILURE', default: 'exit',
    help: 'exit: usher exits with the failed script\'s code; unready: the app runs but is never ready' },
  { name: 'init-only', kind: 'boolean', env: 'USHER_INIT_ONLY', default: 'off',
    help: 'run the init scripts and exit with their result, no app (Kubernetes initContainer, Helm hook Job)' },
  { name: 'ready-port', value: 'PORT', kind: 'list', env: 'USHER_READY_PORT', default: '$PORT when it is a number',
    help: 'ready once a process of the app\'s tree listens on this TCP port, IPv4 or IPv6 (usher never connects to it); unready when the listener goes; none turns it off; repeatable' },
  { name: 'ready-cmd', value: 'CMD', kind: 'list', env: 'USHER_READY_CMD', default: 'none', envSeparator: 'newline',
    help: 'readiness check: shell command (sh -c) that passes on exit 0; repeatable; newline-separated in the environment' },
  { name: 'ready-http', value: 'URL', kind: 'list', env: 'USHER_READY_HTTP', default: 'none',
    help: 'readiness check: HTTP GET that passes on 2xx or 3xx; repeatable' },
  { name: 'ready-tcp', value: 'HOST:PORT', kind: 'list', env: 'USHER_READY_TCP', default: 'none',
    help: 'readiness check: TCP connect; repeatable' },
  { name: 'live-cmd', value: 'CMD', kind: 'list', env: 'USHER_LIVE_CMD', default: 'none', envSeparator: 'newline',
    help: 'liveness check: shell command (sh -c) that passes on exit 0; repeatable; newline-separated in the environment' },
  { name: 'live-http', value: 'URL', kind: 'list', env: 'USHER_LIVE_HTTP', default: 'none',
    help: 'liveness check: HTTP GET that passes on 2xx or 3xx; repeatable' },
  { name: 'live-tcp', value: 'HOST:PORT', kind: 'list', env: 'USHER_LIVE_TCP', default: 'none',
    help: 'liveness check: TCP connect; repeatable' },
  { name: 'ready-fd', value: 'N', kind: 'value', env: 'USHER_READY_FD', default: 'none',
    help: 'usher opens fd N (3 or more) in the app, which writes a newline to it when ready (s6 notification-fd); readiness waits for it' },
  { name: 'notify-socket', kind: 'boolean', env: 'USHER_NOTIFY_SOCKET', default: 'off',
    help: 'pass the app NOTIFY_SOCKET and speak systemd\'s sd_notify: READY=1, STOPPING=1, STATUS=, WATCHDOG=1, MAINPID=; readiness waits for READY=1' },
  { name: 'watchdog', value: 'DURATION', kind: 'value', env: 'USHER_WATCHDOG', default: 'off',
    help: 'with --notify-socket: the app must send WATCHDOG=1 at least this often (it gets WATCHDOG_USEC), or liveness fails' },
  { name: 'check-interval', section: 'checks', value: 'DURATION', kind: 'value', env: 'USHER_CHECK_INTERVAL', default: '10s',
    help: 'time from the end of one run of a check to the start of the next, so a check never overlaps itself; until a check first passes or fails for good, it runs every second if the interval is longer' },
  { name: 'check-timeout', section: 'checks', value: 'DURATION', kind: 'value', env: 'USHER_CHECK_TIMEOUT', default: '1s',
    help: 'a run still going after this fails; a command check\'s whole process group is killed, so it leaves nothing behind' },
  { name: 'check-failures', section: 'checks', value: 'N', kind: 'value', env: 'USHER_CHECK_FAILURES', default: '3',
    help: 'consecutive failures before a check counts as failing' },
  { name: 'check-successes', section: 'checks', value: 'N', kind: 'value', env: 'USHER_CHECK_SUCCESSES', default: '1',
    help: 'consecutive successes before a check counts as passing' },
  { name: 'check-start-period', section: 'checks', value: 'DURATION', kind: 'value', env: 'USHER_CHECK_START_PERIOD', default: '0',
    help: 'failures in this period after the app starts do not count (successes do)' },
  { name: 'on-unhealthy', value: 'POLICY', kind: 'value', env: 'USHER_ON_UNHEALTHY', default: 'report',
    help: 'report: probes say so and the orchestrator decides; exit: stop the app and exit non-zero (plain Docker)' },
  { name: 'reload-on', value: 'PATH', kind: 'list', env: 'USHER_RELOAD_ON', default: 'none',
    help: 'file or directory (a mounted Secret or ConfigMap) whose content change sends the app the reload signal; repeatable' },
  { name: 'reload-signal', value: 'SIG', kind: 'value', env: 'USHER_RELOAD_SIGNAL', default: 'HUP',
    help: 'signal sent to the app (as --signals says: its process or its group) when a --reload-on path changes' },
  { name: 'reload-debounce', value: 'DURATION', kind: 'value', env: 'USHER_RELOAD_DEBOUNCE', default: '1s',
    help: 'quiet time after the last change before the content is compared and the signal sent' },
  { name: 'reload-optional', kind: 'boolean', env: 'USHER_RELOAD_OPTIONAL', default: 'off',
    help: 'a --reload-on path missing at start is watched for, not an error' },
  { name: 'state-dir', value: 'DIR', kind: 'value', env: 'USHER_STATE_DIR', default: '/run/usher if writable, else a per-user temp dir',
    help: 'where state.json and the started/ready/live markers live' },
  { name: 'log-level', value: 'LEVEL', kind: 'value', env: 'USHER_LOG_LEVEL', default: 'info',
    help: 'trace, debug, info, warn, error, fatal or silent' },
  { name: 'verbose', short: 'v', kind: 'boolean', default: 'off', compat: 'dumb-init -v', alias: { of: 'log-level', value: 'debug' },
    help: 'same as --log-level debug' },
  { name: 'log-format', value: 'FORMAT', kind: 'value', env: 'USHER_LOG_FORMAT', default: 'text on a terminal, json otherwise',
    help: 'json (pino lines on stderr) or text (for people)' },
  { name: 'subreaper', short: 's', kind: 'boolean', default: 'automatic', compat: 'tini -s, TINI_SUBREAPER',
    help: 'accepted for tini compatibility: usher always becomes a child subreaper when it is not PID 1' },
  { name: 'parent-death-signal', short: 'p', value: 'SIG', kind: 'value', default: 'none', compat: 'tini -p',
    help: 'the signal usher gets when its own parent dies (prctl PR_SET_PDEATHSIG): TERM starts its graceful stop' },
  { name: 'warn-on-reap', short: 'w', kind: 'boolean', default: 'off', compat: 'tini -w',
    help: 'log the count of orphans usher reaps (one line a second at most) as a warning, not at info' },
  { name: 'license', short: 'l', kind: 'boolean', default: 'off', compat: 'tini -l',
    help: 'print usher\'s license (MIT) and exit' },
  { name: 'group', short: 'g', kind: 'boolean', default: 'off', compat: 'tini -g', alias: { of: 'signals', value: 'group' },
    help: 'same as --signals group' },
];

export function optionFlag(spec: OptionSpec): string {
  return `--${spec.name}`;
}
