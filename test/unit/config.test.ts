import { describe, expect, it } from 'vitest';
import { parseRun } from '../../src/cli/parse-run.js';
import type { Config } from '../../src/config/config.js';
import { formatDuration, parseDuration } from '../../src/config/duration.js';
import { ConfigError } from '../../src/config/errors.js';
import { OPTIONS } from '../../src/config/options.js';
import { parseHttpAddress } from '../../src/config/build-config.js';
import { parseRewrite, parseSignal, SIG } from '../../src/config/signals.js';

function config(argv: string[], env: NodeJS.ProcessEnv = {}): Config {
  const result = parseRun(argv, env, '0.0.0', () => undefined);
  if (result.kind !== 'run') throw new Error('expected a run');
  return result.config;
}

function error(argv: string[], env: NodeJS.ProcessEnv = {}): string {
  try {
    config(argv, env);
  } catch (caught) {
    expect(caught).toBeInstanceOf(ConfigError);
    return (caught as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('durations', () => {
  it.each([['250ms', 250], ['5s', 5000], ['2m', 120_000], ['30', 30_000], ['1.5s', 1500], ['1h', 3_600_000], ['0', 0]])('%s is %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  it.each(['', 'soon', '-1', '5x', '1e3', '25 days'])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/duration/);
  });
  it('formats back', () => {
    expect([0, 250, 5000, 120_000].map(formatDuration)).toEqual(['0s', '250ms', '5s', '2m']);
  });
});

describe('signals', () => {
  it('accepts names with or without SIG, any case, and numbers', () => {
    expect([parseSignal('TERM'), parseSignal('SIGTERM'), parseSignal('term'), parseSignal('15')]).toEqual([15, 15, 15, 15]);
  });
  it('rejects unknown names and numbers, and 0 unless allowed', () => {
    expect(() => parseSignal('NOPE')).toThrow(/unknown signal "NOPE"/);
    expect(() => parseSignal('99')).toThrow(/unknown signal number/);
    expect(() => parseSignal('0')).toThrow();
    expect(parseSignal('0', { allowZero: true })).toBe(0);
  });
  it('parses rewrites, refusing malformed ones and signals usher never gets as requests', () => {
    expect(parseRewrite('TERM:QUIT')).toEqual([SIG.TERM, SIG.QUIT]);
    expect(parseRewrite('15:0')).toEqual([15, 0]);
    expect(() => parseRewrite('TERM')).toThrow(/FROM:TO/);
    expect(() => parseRewrite('KILL:TERM')).toThrow(/SIGKILL/);
  });
});

describe('configuration from flags and USHER_* variables', () => {
  it('has defaults', () => {
    const c = config(['--', 'app']);
    expect(c).toMatchObject({ command: ['app'], singleChild: false, drainMs: 0, drainSource: 'default', graceMs: 10_000, stopSignal: undefined, logLevel: 'info', logFormat: 'auto' });
  });

  it('reads every variable of the table', () => {
    const c = config(['app'], {
      USHER_SINGLE_CHILD: 'yes', USHER_REWRITE: '15:3, HUP:USR1', USHER_DRAIN: '3s', USHER_GRACE: '250ms',
      USHER_STOP_SIGNAL: 'QUIT', USHER_STOP_BUDGET: '60s', USHER_EXIT_MAP: '143:0', USHER_HTTP: '127.0.0.1:8081',
      USHER_LOG_LEVEL: 'debug', USHER_LOG_FORMAT: 'text',
    });
    expect(c).toMatchObject({ singleChild: true, drainMs: 3000, drainSource: 'env', graceMs: 250, stopSignal: SIG.QUIT, logLevel: 'debug', logFormat: 'text' });
    expect([...c.rewrite]).toEqual([[15, 3], [SIG.HUP, SIG.USR1]]);
    expect([...c.exitMap]).toEqual([[143, 0]]);
    expect(c.http).toEqual({ host: '127.0.0.1', port: 8081, where: 'USHER_HTTP' });
    expect(c.platform.stopBudgetMs).toBe(60_000);
  });

  it('lets flags win over variables, a list flag replacing the whole list', () => {
    const c = config(['--drain', '1s', '-r', 'USR1:USR2', 'app'], { USHER_DRAIN: '9s', USHER_REWRITE: 'HUP:0,INT:TERM' });
    expect(c.drainMs).toBe(1000);
    expect(c.drainSource).toBe('flag');
    expect([...c.rewrite]).toEqual([[SIG.USR1, SIG.USR2]]);
  });

  it('defaults the drain to 5s under Kubernetes, and knows its stop budget', () => {
    const c = config(['app'], { KUBERNETES_SERVICE_HOST: '10.0.0.1' });
    expect(c).toMatchObject({ drainMs: 5000, drainSource: 'kubernetes' });
    expect(c.platform).toMatchObject({ name: 'kubernetes', stopBudgetMs: 30_000 });
    expect(config(['--drain', '0', 'app'], { KUBERNETES_SERVICE_HOST: '10.0.0.1' }).drainMs).toBe(0);
  });

  it('knows Heroku signals every process', () => {
    expect(config(['app'], { DYNO: 'web.1' }).platform).toMatchObject({ name: 'heroku', signalsEveryProcess: true, stopBudgetMs: 30_000 });
  });

  it('accepts the compatibility flags of tini and dumb-init', () => {
    const c = config(['-s', '-g', '-v', '-e', '143', '-c', '--', 'app']);
    expect(c).toMatchObject({ singleChild: true, logLevel: 'debug' });
    expect([...c.exitMap]).toEqual([[143, 0]]);
  });

  it('names the flag or variable and the bad value in every error', () => {
    expect(error(['--drain', 'x', 'app'])).toBe('--drain: invalid duration "x" (expected e.g. 250ms, 5s, 2m or bare seconds)');
    expect(error(['app'], { USHER_GRACE: 'forever' })).toMatch(/^USHER_GRACE: invalid duration "forever"/);
    expect(error(['app'], { USHER_SINGLE_CHILD: 'maybe' })).toMatch(/^USHER_SINGLE_CHILD: invalid boolean "maybe"/);
    expect(error(['--stop-signal', 'BOGUS', 'app'])).toMatch(/^--stop-signal: unknown signal "BOGUS"/);
    expect(error(['--exit-map', '143', 'app'])).toMatch(/^--exit-map: invalid exit mapping "143"/);
    expect(error(['--exit-map', '300:0', 'app'])).toMatch(/^--exit-map: invalid exit code "300"/);
    expect(error(['app'], { USHER_HTTP: 'localhost' })).toMatch(/^USHER_HTTP: invalid address "localhost"/);
    expect(error(['app'], { USHER_LOG_LEVEL: 'loud' })).toMatch(/^USHER_LOG_LEVEL: invalid value "loud"/);
    expect(error(['--bogus', 'app'])).toContain('--bogus');
    expect(error(['--check-interval', '0', 'app'])).toMatch(/^--check-interval: invalid duration "0" \(must be more than 0\)/);
    expect(error(['--ready-tcp', 'localhost', 'app'])).toMatch(/^--ready-tcp: invalid address "localhost"/);
    expect(error(['--ready-http', 'ftp://x/', 'app'])).toMatch(/^--ready-http: invalid URL "ftp:\/\/x\/"/);
    expect(error(['--check-failures', '0', 'app'])).toMatch(/^--check-failures: invalid count "0"/);
    expect(error(['--init-mode', 'later', 'app'])).toMatch(/^--init-mode: invalid value "later"/);
    expect(error(['app'], { USHER_ON_UNHEALTHY: 'panic' })).toMatch(/^USHER_ON_UNHEALTHY: invalid value "panic"/);
    expect(error(['--init-only'])).toMatch(/--init-only needs at least one --init/);
    expect(error([])).toContain('no COMMAND');
  });

  it('parses HTTP addresses', () => {
    expect(parseHttpAddress('8081')).toEqual({ host: '0.0.0.0', port: 8081 });
    expect(parseHttpAddress('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(() => parseHttpAddress('70000')).toThrow();
    expect(error(['--http', '[fe80::1%eth0]:8081', 'app'])).toBe('--http: invalid address "[fe80::1%eth0]:8081": an IPv6 zone (%eth0) is not supported; bind [::] or a global address');
  });

  it('splits command lists in the environment on newlines, other lists on commas', () => {
    const c = config(['app'], { USHER_READY_CMD: 'curl -f a,b || exit 1\npg_isready', USHER_READY_TCP: '127.0.0.1:1,127.0.0.1:2' });
    expect(c.checks.map((check) => [check.id, check.target])).toEqual([
      ['ready-cmd-1', 'curl -f a,b || exit 1'], ['ready-cmd-2', 'pg_isready'], ['ready-tcp-1', '127.0.0.1:1'], ['ready-tcp-2', '127.0.0.1:2'],
    ]);
  });

  it('gives every knob an environment twin named after its flag', () => {
    for (const option of OPTIONS) {
      if (option.compat) continue;
      expect(option.env).toBe(`USHER_${option.name.toUpperCase().replace(/-/g, '_')}`);
    }
  });
});

describe('a flag beats its variable, for every option', () => {
  /** For each option with a variable: a flag value, a different variable value, and what the config holds. */
  const SAMPLES: Record<string, { flag: string | true; env: string; pick: (c: Config) => unknown; extra?: string[] }> = {
    'single-child': { flag: true, env: '0', pick: (c) => c.singleChild },
    signals: { flag: 'app', env: 'group', pick: (c) => c.signals },
    rewrite: { flag: 'HUP:USR1', env: 'HUP:USR2', pick: (c) => c.rewrite.get(SIG.HUP) },
    drain: { flag: '1s', env: '2s', pick: (c) => c.drainMs },
    'drain-idle': { flag: '1s', env: '2s', pick: (c) => c.drainIdleMs, extra: ['--drain', '5s', '--ready-port', '80'] },
    'ready-port': { flag: '80', env: '81', pick: (c) => c.readyPorts },
    grace: { flag: '1s', env: '2s', pick: (c) => c.graceMs },
    'stop-signal': { flag: 'QUIT', env: 'INT', pick: (c) => c.stopSignal },
    'stop-budget': { flag: '5s', env: '6s', pick: (c) => c.platform.stopBudgetMs },
    'exit-map': { flag: '1:2', env: '1:3', pick: (c) => c.exitMap.get(1) },
    http: { flag: '127.0.0.1:1', env: '127.0.0.1:2', pick: (c) => c.http?.port },
    init: { flag: '/a', env: '/b', pick: (c) => c.init.paths },
    'init-mode': { flag: 'parallel', env: 'before', pick: (c) => c.init.mode },
    'init-timeout': { flag: '1s', env: '2s', pick: (c) => c.init.timeoutMs },
    'on-init-failure': { flag: 'unready', env: 'exit', pick: (c) => c.init.onFailure },
    'init-only': { flag: true, env: '0', pick: (c) => c.init.only, extra: ['--init', '/a'] },
    'ready-cmd': { flag: 'a', env: 'b', pick: (c) => c.checks.map((check) => check.target) },
    'ready-http': { flag: 'http://127.0.0.1:1/', env: 'http://127.0.0.1:2/', pick: (c) => c.checks.map((check) => check.target) },
    'ready-tcp': { flag: '127.0.0.1:1', env: '127.0.0.1:2', pick: (c) => c.checks.map((check) => check.target) },
    'live-cmd': { flag: 'a', env: 'b', pick: (c) => c.checks.map((check) => check.target) },
    'live-http': { flag: 'http://127.0.0.1:1/', env: 'http://127.0.0.1:2/', pick: (c) => c.checks.map((check) => check.target) },
    'live-tcp': { flag: '127.0.0.1:1', env: '127.0.0.1:2', pick: (c) => c.checks.map((check) => check.target) },
    'ready-fd': { flag: '3', env: '4', pick: (c) => c.readyFd },
    'notify-socket': { flag: true, env: '0', pick: (c) => c.notify.socket },
    watchdog: { flag: '1s', env: '2s', pick: (c) => c.notify.watchdogMs, extra: ['--notify-socket'] },
    'check-interval': { flag: '1s', env: '2s', pick: (c) => c.checkTiming.intervalMs },
    'check-timeout': { flag: '1s', env: '2s', pick: (c) => c.checkTiming.timeoutMs },
    'check-failures': { flag: '4', env: '5', pick: (c) => c.checkTiming.failures },
    'check-successes': { flag: '4', env: '5', pick: (c) => c.checkTiming.successes },
    'check-start-period': { flag: '1s', env: '2s', pick: (c) => c.checkTiming.startPeriodMs },
    'on-unhealthy': { flag: 'exit', env: 'report', pick: (c) => c.onUnhealthy },
    'reload-on': { flag: '/a', env: '/b', pick: (c) => c.reload.paths },
    'reload-signal': { flag: 'USR1', env: 'USR2', pick: (c) => c.reload.signal },
    'reload-debounce': { flag: '1s', env: '2s', pick: (c) => c.reload.debounceMs },
    'reload-optional': { flag: true, env: '0', pick: (c) => c.reload.optional },
    'state-dir': { flag: '/a', env: '/b', pick: (c) => c.stateDir },
    'log-level': { flag: 'warn', env: 'error', pick: (c) => c.logLevel },
    'log-format': { flag: 'text', env: 'json', pick: (c) => c.logFormat },
  };

  it('has a sample for every option that has a variable', () => {
    expect(Object.keys(SAMPLES).sort()).toEqual(OPTIONS.filter((option) => option.env).map((option) => option.name).sort());
  });

  it.each(OPTIONS.filter((option) => option.env).map((option) => [option.name, option] as const))('--%s beats its variable', (name, option) => {
    const sample = SAMPLES[name]!;
    const flag = sample.flag === true ? [`--${name}`] : [`--${name}`, sample.flag];
    const env = { [option.env!]: sample.env };
    const both = sample.pick(config([...(sample.extra ?? []), ...flag, '--', 'app'], env));
    const flagOnly = sample.pick(config([...(sample.extra ?? []), ...flag, '--', 'app']));
    const envOnly = sample.pick(config([...(sample.extra ?? []), '--', 'app'], env));
    expect(both).toEqual(flagOnly);
    expect(both).not.toEqual(envOnly);
  });

  it('-v beats USHER_LOG_LEVEL; --log-level beats -v', () => {
    expect(config(['-v', 'app'], { USHER_LOG_LEVEL: 'error' }).logLevel).toBe('debug');
    expect(config(['-v', '--log-level', 'warn', 'app']).logLevel).toBe('warn');
    expect(config(['app'], { USHER_LOG_LEVEL: 'error' }).logLevel).toBe('error');
  });

  it('checks every value given, not only the last one', () => {
    expect(error(['--drain', 'bad', '--drain', '1s', 'app'])).toMatch(/^--drain: invalid duration "bad"/);
  });
});
