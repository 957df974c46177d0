import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UID_INSIDE, unshareArgs } from '../helpers/namespaces.js';
import { eventually, processExists, ROOT, USHER } from '../helpers/usher.js';
import type { ProbeCode, ProbeKind, StateFile } from '../../src/state/schema.js';
import { createStateWriter } from '../../src/state/writer.js';

const USHER_PROBE = path.join(ROOT, 'bin/usher-probe');
const KINDS: readonly ProbeKind[] = ['startup', 'ready', 'live'];
/** The shells bin/usher-probe must run under: Debian's and Alpine's. Each must be installed (.ci/run installs them). */
const SHELLS: readonly (readonly string[])[] = [['dash'], ['busybox', 'sh']];
for (const shell of SHELLS) {
  if (spawnSync(shell[0]!, [...shell.slice(1), '-c', 'exit 0']).status !== 0) throw new Error(`${shell.join(' ')} is needed for these tests: apt-get install dash busybox`);
}

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Outcome {
  const result = spawnSync(file, args, { encoding: 'utf8', env: { ...process.env, USHER_STATE_DIR: '', ...env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const usherProbe = (args: readonly string[], env?: NodeJS.ProcessEnv): Outcome => run(USHER, ['probe', ...args], env);
const shProbe = (args: readonly string[], env?: NodeJS.ProcessEnv, shell: readonly string[] = []): Outcome =>
  shell.length ? run(shell[0]!, [...shell.slice(1), USHER_PROBE, ...args], env) : run(USHER_PROBE, args, env);

/** Durations in a line as seconds, so that two runs on either side of a second's edge compare. */
function seconds(line: string): { text: string; values: number[] } {
  const values: number[] = [];
  const text = line.replace(/\b(?:(\d+)h(\d+)m|(\d+)m(\d+)s|(\d+)s)\b/g, (_m, h?: string, hm?: string, m?: string, ms?: string, s?: string) => {
    values.push(h ? Number(h) * 3600 + Number(hm) * 60 : m ? Number(m) * 60 + Number(ms) : Number(s));
    return '<duration>';
  });
  return { text, values };
}

/** The same code and the same line; a duration may differ by the one second that passed between. */
function expectSame(a: Outcome, b: Outcome): void {
  expect(b.code).toBe(a.code);
  const [left, right] = [seconds(a.stderr), seconds(b.stderr)];
  expect(right.text).toBe(left.text);
  right.values.forEach((value, i) => expect(Math.abs(value - left.values[i]!)).toBeLessThanOrEqual(1));
}

let root: string;
let sleeper: ChildProcess;
let livePid: number;
let deadPid: number;

beforeAll(async () => {
  if (!existsSync(path.join(ROOT, 'dist/usher-probe.cjs'))) throw new Error('run `npm run build` first: dist/usher-probe.cjs is missing');
  sleeper = spawn('sleep', ['1000'], { stdio: 'ignore' });
  livePid = sleeper.pid!;
  const gone = spawn('true');
  deadPid = gone.pid!;
  await new Promise((resolve) => gone.on('exit', resolve));
  await eventually(() => !processExists(deadPid), 'the dead pid to be gone');
});
afterAll(() => {
  sleeper.kill('SIGKILL');
});
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'usher-probe-'));
  return () => rmSync(root, { recursive: true, force: true });
});

const NOW = (): number => Date.now();

function sample(overrides: Partial<StateFile> = {}): StateFile {
  const now = NOW();
  return {
    version: 1, usherPid: livePid, heartbeatAt: 0, heartbeatMs: 0, staleAfterMs: 0,
    startupCode: 0, readyCode: 0, liveCode: 0, startupReason: '', readyReason: '', liveReason: '', startupDetail: '', readyDetail: '', liveDetail: '', reasonSince: 0,
    phase: 'running', appPid: 4321, startedAt: now - 300_000, exitCode: -1,
    timeline: [{ phase: 'initializing', at: now - 300_000 }, { phase: 'running', at: now - 45_000 }],
    init: [], checks: [], lastReload: null, appStatus: '', appMainPid: 0, readiness: [], readinessHeldBy: '', readyPorts: [],
    ...overrides,
  };
}

/** A state dir with state.json and markers written by the real writer; `age` makes the heartbeat old. */
function craft(state: StateFile, { age = 0, name = 'state' }: { age?: number; name?: string } = {}): string {
  const dir = path.join(root, name);
  mkdirSync(dir, { recursive: true });
  const writer = createStateWriter({ dir, log: { info: () => undefined, warn: () => undefined, error: (_o, msg) => { throw new Error(msg); } }, now: () => Date.now() - age });
  writer.write(state);
  writer.stop();
  return dir;
}

function withCode(kind: ProbeKind, code: ProbeCode, reason: string): StateFile {
  const field = { startup: 'startup', ready: 'ready', live: 'live' }[kind];
  return sample({ [`${field}Code`]: code, [`${field}Reason`]: code === 0 ? '' : reason, reasonSince: code === 0 ? 0 : NOW() - 252_000 });
}

describe('usher probe and bin/usher-probe agree', () => {
  const codes: ProbeCode[] = [0, 1, 2, 3, 4, 5, 6];
  for (const kind of KINDS) {
    it.each(codes)(`${kind}: code %i from the state`, (code) => {
      const dir = craft(withCode(kind, code, 'init script 10-migrate.sh running'));
      const node = usherProbe([kind, '--state-dir', dir]);
      expect(node.code).toBe(code);
      const label = { startup: 'started', ready: 'ready', live: 'live' }[kind];
      if (code === 0) expect(node.stderr).toBe('');
      else {
        expect(seconds(node.stderr).text).toBe(`not ${label}: init script 10-migrate.sh running for <duration>\n`);
        expect([252, 253]).toContain(seconds(node.stderr).values[0]); // 4m12s, or 4m13s past a second's edge
      }
      expectSame(node, shProbe([kind, dir]));
      for (const shell of SHELLS) expectSame(node, shProbe([kind, dir], {}, shell));
    });
  }

  const tricky = [
    'check "ready-cmd-1" failing: exit 3 \\ C:\\x\\ * ? %s $HOME `id` $(id)',
    'ends in a backslash \\',
    '\\"',
    'a", "readyCode": 0, b: "c',
    '  padded\tand\nsplit  ',
    'ünïcödé ✓ 日本 \ud83d\ude80',
    '-n',
  ];
  it.each(KINDS.flatMap((kind) => tricky.map((reason) => [kind, reason] as const)))('%s: the reason %j reads the same', (kind, reason) => {
    const dir = craft(withCode(kind, 3, reason));
    const node = usherProbe([kind, '--state-dir', dir]);
    const label = { startup: 'started', ready: 'ready', live: 'live' }[kind];
    const shown = reason.replace(/[\t\n]+/g, ' ').trim();
    expect(node.stderr).toMatch(new RegExp(`^not ${label}: ${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} for 4m1[23]s\n$`));
    expectSame(node, shProbe([kind, dir]));
    for (const shell of SHELLS) expectSame(node, shProbe([kind, dir], {}, shell));
  });

  it.each(KINDS.flatMap((kind) => tricky.map((detail) => [kind, detail] as const)))('%s: a failing check\'s detail %j follows the reason, the same for both', (kind, detail) => {
    const dir = craft({ ...withCode(kind, 3, `${kind} check failing: exit 17`), [`${kind}Detail`]: `output: ${detail}` });
    const node = usherProbe([kind, '--state-dir', dir]);
    const label = { startup: 'started', ready: 'ready', live: 'live' }[kind];
    const shown = `output: ${detail}`.replace(/[\t\n]+/g, ' ').trim();
    expect(node.stderr).toMatch(new RegExp(`^not ${label}: ${kind} check failing: exit 17 for 4m1[23]s; ${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n$`));
    expectSame(node, shProbe([kind, dir]));
    for (const shell of SHELLS) expectSame(node, shProbe([kind, dir], {}, shell));
  });

  it('the detail is read from the flat fields; the state file of an older usher, without them, reads as before', () => {
    const current = craft({ ...withCode('ready', 3, 'readiness check ready-cmd-1 failing: exit 17'), readyDetail: 'output: db replica lag 42s' });
    const node = usherProbe(['ready', '--state-dir', current]);
    expect(node.stderr).toMatch(/^not ready: readiness check ready-cmd-1 failing: exit 17 for 4m1[23]s; output: db replica lag 42s\n$/);
    expectSame(node, shProbe(['ready', current]));
    const older = JSON.parse(readFileSync(path.join(current, 'state.json'), 'utf8')) as Record<string, unknown>;
    for (const key of ['startupDetail', 'readyDetail', 'liveDetail']) delete older[key];
    const dir = craftRaw(JSON.stringify(older, null, 2));
    const old = usherProbe(['ready', '--state-dir', dir]);
    expect(old.code).toBe(3);
    expect(old.stderr).toMatch(/^not ready: readiness check ready-cmd-1 failing: exit 17 for 4m1[23]s\n$/);
    expectSame(old, shProbe(['ready', dir]));
  });

  it('a detail that is not a JSON string is not valid usher state, for both', () => {
    const text = readFileSync(path.join(craft(withCode('ready', 3, 'x')), 'state.json'), 'utf8').replace('"readyDetail": ""', '"readyDetail": 7');
    const dir = craftRaw(text);
    const node = usherProbe(['ready', '--state-dir', dir]);
    expect(node).toMatchObject({ code: 6, stderr: expect.stringContaining('is not valid usher state') });
    expectSame(node, shProbe(['ready', dir]));
  });

  it.each(KINDS)('%s: a stale heartbeat is 6', (kind) => {
    const dir = craft(sample(), { age: 42_000 });
    const node = usherProbe([kind, '--state-dir', dir]);
    expect(node.code).toBe(6);
    expect(seconds(node.stderr).text).toBe(`not ${kind === 'startup' ? 'started' : kind}: no usher running (state in ${dir} is stale: heartbeat <duration> ago)\n`);
    expectSame(node, shProbe([kind, dir]));
    for (const shell of SHELLS) expectSame(node, shProbe([kind, dir], {}, shell));
  });

  it('a heartbeat just inside staleAfterMs is fresh for both', () => {
    const dir = craft(sample(), { age: 7000 });
    expect(usherProbe(['ready', '--state-dir', dir]).code).toBe(0);
    expect(shProbe(['ready', dir]).code).toBe(0);
  });

  it.each(KINDS)('%s: a dead usher pid is 6, even with the markers there', (kind) => {
    const dir = craft(sample({ usherPid: deadPid }));
    expect(existsSync(path.join(dir, 'ready'))).toBe(true);
    const node = usherProbe([kind, '--state-dir', dir]);
    expect(node.code).toBe(6);
    expect(node.stderr).toContain(`state in ${dir} is left over: usher pid ${deadPid} is gone`);
    expectSame(node, shProbe([kind, dir]));
  });

  it.each([
    ['a missing dir', (): string => path.join(root, 'nowhere'), 'no state.json in DIR'],
    ['an empty dir', (): string => craftRaw(null), 'no state.json in DIR'],
    ['a file that is not JSON', (): string => craftRaw('garbage\n'), 'state.json in DIR is not valid usher state'],
    ['another version', (): string => craftRaw(JSON.stringify({ ...sample(), version: 2 }, null, 2)), 'state.json in DIR has version 2, this usher reads version 1'],
    ['a number that is not one', (): string => craftRaw(JSON.stringify({ ...sample(), usherPid: 'x' }, null, 2).replace('"x"', `${livePid}a`)), 'state.json in DIR is not valid usher state'],
    ['a field missing', (): string => craftRaw(JSON.stringify({ ...sample(), heartbeatAt: undefined }, null, 2)), 'state.json in DIR is not valid usher state'],
    ['a code out of range', (): string => craftRaw(JSON.stringify({ ...sample(), readyCode: 9, startupCode: 9, liveCode: 9 }, null, 2)), 'state.json in DIR is not valid usher state'],
  ])('%s is 6', (_what, make, reason) => {
    const dir = make();
    for (const kind of KINDS) {
      const node = usherProbe([kind, '--state-dir', dir]);
      expect(node.code).toBe(6);
      expect(node.stderr).toContain(`no usher running (${reason.replace('DIR', dir)})`);
      expectSame(node, shProbe([kind, dir]));
      for (const shell of SHELLS) expectSame(node, shProbe([kind, dir], {}, shell));
    }
  });

  it('both take the directory from USHER_STATE_DIR', () => {
    const dir = craft(withCode('ready', 1, 'app starting'));
    const env = { USHER_STATE_DIR: dir };
    const node = usherProbe(['ready'], env);
    expect(node.code).toBe(1);
    expectSame(node, shProbe(['ready'], env));
  });

  // Both look in /run/usher first: these run in a mount namespace with an empty /run of its own,
  // so whatever this machine has in /run/usher neither matters nor changes.
  const isolated = (copyFrom: string | null, file: string, args: readonly string[], env: NodeJS.ProcessEnv): Outcome => {
    const copy = copyFrom === null ? '' : ' && cp "$1/state.json" /run/usher/';
    const script = `mount -t tmpfs tmpfs /run && mkdir /run/usher${copy} && shift && exec "$@"`;
    const [unshare, ...flags] = unshareArgs('--mount', '--propagation', 'private');
    return run(unshare!, [...flags, 'sh', '-c', script, 'sh', copyFrom ?? '', file, ...args], env);
  };

  it('both fall back to ${TMPDIR}/usher-UID when /run/usher has no state.json', () => {
    const tmp = path.join(root, 'tmp');
    craft(withCode('live', 4, 'draining'), { name: `tmp/usher-${UID_INSIDE}` });
    const env = { TMPDIR: `${tmp}/` };
    const node = isolated(null, USHER, ['probe', 'live'], env);
    expect(node.code).toBe(4);
    expect(node.stderr).toMatch(/^not live: draining for /);
    expectSame(node, isolated(null, USHER_PROBE, ['live'], env));
  });

  it('both prefer /run/usher when it holds a state.json', () => {
    const tmp = path.join(root, 'tmp');
    craft(withCode('live', 4, 'draining'), { name: `tmp/usher-${UID_INSIDE}` });
    const run = craft(withCode('live', 2, 'init script 10-a.sh failed'), { name: 'run' });
    const env = { TMPDIR: tmp };
    const node = isolated(run, USHER, ['probe', 'live'], env);
    expect(node.code).toBe(2);
    expect(node.stderr).toContain('not live: init script 10-a.sh failed for ');
    expectSame(node, isolated(run, USHER_PROBE, ['live'], env));
  });

  it.each([
    [[], /needs a kind/],
    [['bogus'], /unknown probe kind "bogus"/],
    [['ready', 'extra-1', 'extra-2'], /./],
  ])('bad arguments %j exit 64 for both', (args, message) => {
    const node = usherProbe(args);
    expect(node.code).toBe(64);
    expect(node.stderr).toMatch(message);
    const sh = shProbe(args);
    expect(sh.code).toBe(64);
    expect(sh.stderr).toMatch(message);
  });

  it('usher probe names a bad option or a missing value', () => {
    expect(usherProbe(['ready', '--jsn'])).toMatchObject({ code: 64, stderr: expect.stringContaining('unknown option "--jsn" for usher probe') });
    expect(usherProbe(['ready', '--state-dir'])).toMatchObject({ code: 64, stderr: expect.stringContaining('--state-dir needs a directory') });
    expect(run(USHER, ['status', 'now'])).toMatchObject({ code: 64, stderr: expect.stringContaining('usher status takes no argument, got "now"') });
    expect(usherProbe(['--help'])).toMatchObject({ code: 0, stdout: expect.stringContaining('usage: usher probe startup|ready|live') });
  });

  function craftRaw(content: string | null): string {
    const dir = path.join(root, 'raw');
    mkdirSync(dir);
    if (content !== null) writeFileSync(path.join(dir, 'state.json'), content);
    return dir;
  }
});

describe('--docker: 0 or 1 only (Docker reserves 2), the line on stdout', () => {
  const codes: ProbeCode[] = [0, 1, 2, 3, 4, 5, 6];
  for (const kind of KINDS) {
    it.each(codes)(`${kind}: code %i`, (code) => {
      const dir = craft(withCode(kind, code, 'readiness check ready-cmd-1 failing: exit 17'));
      const plain = usherProbe([kind, '--state-dir', dir]);
      expect(plain.code).toBe(code);
      const answers = [usherProbe(['--docker', kind, '--state-dir', dir]), shProbe(['--docker', kind, dir]), ...SHELLS.map((shell) => shProbe(['--docker', kind, dir], {}, shell))];
      for (const docker of answers) {
        expect(docker.code).toBe(code === 0 ? 0 : 1);
        expect(docker.stderr).toBe('');
        // The same line the full codes print on stderr, a second's edge aside.
        expectSame({ ...plain, code: docker.code }, { ...docker, stderr: docker.stdout });
      }
    });
  }

  it('no usher at all is 1', () => {
    const dir = path.join(root, 'nowhere');
    for (const docker of [usherProbe(['--docker', 'ready', '--state-dir', dir]), shProbe(['--docker', 'ready', dir])]) {
      expect(docker).toEqual({ code: 1, stdout: `not ready: no usher running (no state.json in ${dir})\n`, stderr: '' });
    }
  });

  it.each([
    [['--docker'], /needs a kind/],
    [['--docker', 'bogus'], /unknown probe kind "bogus"/],
    [['--docker', 'ready', 'a', 'b'], /./],
  ])('a usage error %j is 1 too, its message on stdout', (args, message) => {
    for (const docker of [usherProbe(args), shProbe(args)]) {
      expect(docker).toMatchObject({ code: 1, stderr: '' });
      expect(docker.stdout).toMatch(message);
    }
  });

  it('with --json: the JSON keeps the full code, the exit is 1', () => {
    const dir = craft(withCode('ready', 3, 'readiness check ready-cmd-1 failing: exit 17'));
    const out = usherProbe(['ready', '--docker', '--json', '--state-dir', dir]);
    expect(out).toMatchObject({ code: 1, stderr: '' });
    expect(JSON.parse(out.stdout)).toMatchObject({ probe: 'ready', code: 3 });
  });
});

describe('usher probe --json', () => {
  it('prints the probe, the code and the line on stdout', () => {
    const dir = craft(withCode('ready', 3, 'check ready-http-1 failing'));
    const out = usherProbe(['ready', '--json', '--state-dir', dir]);
    expect(out.code).toBe(3);
    expect(JSON.parse(out.stdout)).toEqual({ probe: 'ready', code: 3, reason: expect.stringMatching(/^not ready: check ready-http-1 failing for 4m1[23]s$/) });
    const ok = usherProbe(['live', '--json', '--state-dir', dir]);
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(ok.stdout)).toEqual({ probe: 'live', code: 0, reason: 'live: app running (pid 4321)' });
  });
});

describe('usher probe stays light', () => {
  it('loads none of commander, pino, koffi, execa or the main bundle', () => {
    const hook = path.join(root, 'hook.cjs');
    writeFileSync(hook, `
      const Module = require('module');
      const load = Module._load;
      Module._load = function (request, ...rest) { process.stderr.write('load ' + request + '\\n'); return load.call(this, request, ...rest); };
    `);
    const dir = craft(sample());
    const result = spawnSync(process.execPath, ['--require', hook, path.join(ROOT, 'dist/usher.cjs'), 'probe', 'ready', '--state-dir', dir], { encoding: 'utf8' });
    expect(result.status).toBe(0);
    const loaded = result.stderr.split('\n').filter((line) => line.startsWith('load ')).map((line) => line.slice(5));
    expect(loaded.some((request) => request.endsWith('usher-probe.cjs'))).toBe(true);
    expect(loaded.filter((request) => /commander|pino|koffi|execa|usher-main/.test(request))).toEqual([]);
    expect(loaded.filter((request) => !request.startsWith('node:') && !request.endsWith('usher.cjs') && !request.endsWith('usher-probe.cjs'))).toEqual([]);
  });
});

describe('usher status', () => {
  function richState(): StateFile {
    const t0 = NOW() - 300_000;
    return sample({
      startedAt: t0,
      phase: 'running',
      readyCode: 3,
      readyReason: 'check ready-http-1 failing',
      reasonSince: NOW() - 12_000,
      lastReload: { at: NOW() - 60_500, path: '/etc/app/config.yaml', signal: 'SIGHUP' },
      appStatus: 'serving 12 connections',
      appMainPid: 4400,
      timeline: [{ phase: 'initializing', at: t0 }, { phase: 'running', at: t0 + 255_000 }],
      init: [
        { name: '10-migrate.sh', path: '/init/10-migrate.sh', status: 'ok', startedAt: t0 + 100, endedAt: t0 + 100 + 252_000, exitCode: 0, signal: null },
        { name: '20-warm.sh', path: '/init/20-warm.sh', status: 'ok', startedAt: t0 + 252_200, endedAt: t0 + 254_600, exitCode: 0, signal: null },
      ],
      checks: [
        {
          id: 'ready-http-1', kind: 'ready', type: 'http', target: 'http://127.0.0.1:8080/healthz', status: 'failing',
          consecutiveFailures: 4, consecutiveSuccesses: 0, lastRunAt: NOW() - 2000, lastDurationMs: 12, lastResult: 'HTTP 500', output: '', lastDetail: '',
        },
        {
          id: 'live-cmd-1', kind: 'live', type: 'cmd', target: 'pg_isready -q', status: 'passing',
          consecutiveFailures: 0, consecutiveSuccesses: 30, lastRunAt: NOW() - 3000, lastDurationMs: 40, lastResult: 'ok', lastDetail: 'output: /var/run/postgresql:5432 - accepting connections',
          output: 'line one\nline two\nline three\n/var/run/postgresql:5432 - accepting connections\n',
        },
      ],
    });
  }

  it('summarises phase, app, probes, init scripts, checks and a timeline of bars', () => {
    const dir = craft(richState());
    const out = run(USHER, ['status', '--state-dir', dir], { LANG: 'C.UTF-8', LC_ALL: '' });
    expect(out.code).toBe(0);
    expect(out.stderr).toBe('');
    const text = out.stdout;
    expect(text).toMatch(new RegExp(`^usher pid ${livePid}, running, up 5m0s, state in ${dir}\n`));
    expect(text).toContain('app pid 4321 (main pid 4400, as the app said)\napp says: serving 12 connections\n');
    expect(text).toMatch(/last reload: SIGHUP 1m[01]s ago \(\/etc\/app\/config\.yaml changed\)/);
    expect(text).toMatch(/ready +3 +not ready: check ready-http-1 failing for 1[23]s/);
    expect(text).toMatch(/10-migrate\.sh +ok +4m12s +exit 0/);
    expect(text).toMatch(/20-warm\.sh +ok +2\.4s +exit 0/);
    expect(text).toMatch(/ready-http-1 +failing +HTTP 500 in 12ms, 2s ago, 4 failing in a row +\(http http:\/\/127\.0\.0\.1:8080\/healthz\)/);
    expect(text).toMatch(/live-cmd-1 +passing +ok in 40ms, 3s ago/);
    expect(text).toContain('> /var/run/postgresql:5432 - accepting connections');
    expect(text).not.toContain('line one'); // only the tail
    // The timeline: one row per phase and per script, bars 40 columns wide, scaled to durations.
    const bars = text.split('\n').filter((line) => line.includes('|'));
    expect(bars).toHaveLength(4);
    const width = (label: string): number => (bars.find((line) => line.includes(label))!.match(/█/g) ?? []).length;
    expect(bars.every((line) => /\|[ █]{40}\|/.test(line))).toBe(true);
    expect(width('initializing')).toBe(34); // 255 s of 300 s
    expect(width('running')).toBe(6);
    expect(width('10-migrate.sh')).toBe(34);
    expect(width('20-warm.sh')).toBe(1);
    expect(text).toMatch(/initializing +\|█+ +\| 4m15s/);
  });

  it('draws with # where the locale is not UTF-8', () => {
    const dir = craft(richState());
    const out = run(USHER, ['status', '--state-dir', dir], { LANG: 'C', LC_ALL: '', LC_CTYPE: '' });
    expect(out.stdout).toMatch(/initializing +\|#{34} {6}\|/);
  });

  it('--json prints the state file', () => {
    const dir = craft(richState());
    const out = run(USHER, ['status', '--json', '--state-dir', dir]);
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual(JSON.parse(readFileSync(path.join(dir, 'state.json'), 'utf8')));
  });

  it('a stale state: says no usher runs, shows what it last knew, exits 6', () => {
    const dir = craft(richState(), { age: 42_000 });
    const out = run(USHER, ['status', '--state-dir', dir]);
    expect(out.code).toBe(6);
    expect(out.stdout).toMatch(new RegExp(`^no usher running \\(state in ${dir} is stale: heartbeat 4[123]s ago\\)\nlast known state:\n`));
    expect(out.stdout).toContain('10-migrate.sh');
    const json = run(USHER, ['status', '--json', '--state-dir', dir]);
    expect(json.code).toBe(6);
    expect(JSON.parse(json.stdout)).toMatchObject({ phase: 'running' });
    expect(json.stderr).toContain('no usher running (state in');
  });

  it('no state at all: one line, exit 6', () => {
    const dir = path.join(root, 'none');
    expect(run(USHER, ['status', '--state-dir', dir])).toEqual({ code: 6, stdout: `no usher running (no state.json in ${dir})\n`, stderr: '' });
    expect(run(USHER, ['status', '--json', '--state-dir', dir])).toEqual({ code: 6, stdout: '', stderr: `no usher running (no state.json in ${dir})\n` });
  });
});
