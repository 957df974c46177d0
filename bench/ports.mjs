// Port readiness and --drain-idle: what usher's port polls cost, and how exactly a drain ends
// when the traffic does. usher only (tini and dumb-init have neither). Called by run.mjs, which
// passes its process and statistics helpers in `ctx`, so every process started here is tracked
// (and killed, by pid, whatever happens) like the others.
//
// 1. CPU per readiness poll, 0 and 10,000 established connections on the port. The real
//    src/ports/listeners.ts, bundled with esbuild as scripts/build.mjs bundles usher, is required
//    by a child process (poll-child.mjs) that calls ListenerFinder.find([port]) on two servers
//    (conn-peer.mjs) at once: one with no connection, one with 10,000 from a separate client
//    process; the two alternate, round by round.
// 2. Idle CPU of a ready usher watching one port, beside one with --ready-port none: two ushers
//    running the same HTTP app (port-app.mjs), read over the same windows.
// 3. --drain-idle error: when the app gets its TERM, against when the client stopped sending
//    plus the idle time.
//
// All of it runs in a network namespace of its own (unshare --net, loopback up; every process
// entered into it with nsenter), as usher runs in a pod's: the connections and accepts of other
// work on this machine would otherwise be in every dump and every PassiveOpens count. Where that
// is not possible (not root), or with BENCH_PORTS_NETNS=shared, it runs in the bench's own
// namespace, and the report says so.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(HERE);
const ESBUILD = path.join(ROOT, 'node_modules', '.bin', 'esbuild');
const PEER = path.join(HERE, 'conn-peer.mjs');
const POLL_CHILD = path.join(HERE, 'poll-child.mjs');
const PORT_APP = path.join(HERE, 'port-app.mjs');
const TRICKLE = path.join(HERE, 'trickle-client.mjs');

export const PORTS_SAMPLES = {
  connections: 10_000,
  connectBatch: 500,
  polls: 1000, // reused finder, per server
  spacedPolls: 50, // reused finder, spacedGapMs apart, per server
  spacedGapMs: 100,
  coldPolls: 100, // new finder per poll, per server: one at 10,000 connections reads 10,000 fd links
  drainPolls: 50, // --drain-idle poll, per server and variant
  floorPolls: 1000,
  idleWindows: 6,
  idleWindowMs: 10_000,
  drainIdle: 12,
};
export const PORTS_TARGET = { pollUs: 200, watchMsPerMinute: 5, drainIdleErrorMs: 50 };
const DRAIN = { limit: '30s', idle: '1s', idleMs: 1000, trickleMs: 50, beforeTermMs: 200, afterTermMs: 500, phaseBudgetMs: 90_000 };
// `ulimit -n` for the two ends of the connections: 30,000 if the hard limit allows, else the hard limit.
const ULIMIT = 'ulimit -n 30000 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"';

/** Results of one run, kept for the report. */
export async function benchPorts(base) {
  const results = { loadavg: { start: os.loadavg() } };
  const ns = await networkNamespace(base);
  const ctx = { ...base, ns };
  results.netns = ns.mode === 'private' ? 'private' : `shared (${ns.why})`;
  console.log(`  port sections: ${ns.mode === 'private' ? 'in a network namespace of their own' : `in the bench's network namespace: ${ns.why}`}`);
  try {
    results.poll = await ctx.phase(
      `readiness poll CPU (${PORTS_SAMPLES.polls} polls, 0 and ${PORTS_SAMPLES.connections} connections)`,
      () => benchPoll(ctx),
    );
    results.idle = await ctx.phase(
      `idle CPU, usher watching a port vs --ready-port none (${(PORTS_SAMPLES.idleWindows * PORTS_SAMPLES.idleWindowMs) / 1000} s)`,
      () => benchIdle(ctx),
    );
    results.drainIdle = await ctx.phase(`--drain-idle error (${PORTS_SAMPLES.drainIdle} samples)`, () => benchDrainIdle(ctx));
  } finally {
    await ns.close();
  }
  results.loadavg.end = os.loadavg();
  results.at = new Date().toISOString();
  return results;
}

/**
 * A new network namespace with its loopback up, held by a `sleep` we started; `wrap(argv)` runs
 * argv in it (nsenter execs, so the pid stays the command's). Falls back to the bench's own.
 */
async function networkNamespace(ctx) {
  const shared = (why) => ({ mode: 'shared', why, wrap: (argv) => argv, procNet: '/proc/self/net', close: async () => {} });
  if (process.env.BENCH_PORTS_NETNS === 'shared') return shared('BENCH_PORTS_NETNS=shared');
  const holder = new ctx.Proc(['unshare', '--net', 'sh', '-c', 'ip link set lo up && echo up && exec sleep 900']);
  try {
    await holder.line('stdout', (l) => l === 'up', 5000, '`unshare --net` with `ip link set lo up`');
    const wrap = (argv) => ['nsenter', `--net=/proc/${holder.pid}/ns/net`, ...argv];
    const probe = spawnSync(wrap(['true'])[0], wrap(['true']).slice(1), { encoding: 'utf8', timeout: 5000 });
    if (probe.status !== 0) throw new Error(`nsenter: ${(probe.stderr || probe.error?.message || `exit ${probe.status}`).trim()}`);
    return { mode: 'private', wrap, procNet: `/proc/${holder.pid}/net`, close: () => holder.stop() };
  } catch (error) {
    await holder.stop();
    return shared(`no network namespace of its own: ${error.message}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers

/** The bench's environment without what would configure usher or the app behind our back. */
function cleanEnv(extra = {}) {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'PORT' && k !== 'APP_PORT' && !k.startsWith('USHER_')));
  return { ...env, ...extra };
}

/** A loopback port free right now (the kernel picks it; we close it again at once). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function tempDir(ctx, prefix) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  ctx.tempDirs.add(dir);
  return dir;
}

function removeDir(ctx, dir) {
  rmSync(dir, { recursive: true, force: true });
  ctx.tempDirs.delete(dir);
}

/** The rest of the next stdout line of `proc` that starts with `prefix`; an "error …" line throws. */
async function lineAfter(proc, prefix, timeoutMs, what) {
  const line = await proc.line('stdout', (l) => l.startsWith(prefix) || l.startsWith('error'), timeoutMs, what);
  if (line.startsWith('error')) throw new Error(`${what}: ${line}`);
  return line.slice(prefix.length);
}

/** The number after `prefix` in the next stdout line of `proc` that starts with it. */
const announced = async (proc, prefix, timeoutMs, what) => Number(await lineAfter(proc, prefix, timeoutMs, what));

function maxOpenFiles(pid) {
  try {
    return /^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'utf8'))?.[1] ?? '?';
  } catch {
    return '?';
  }
}

/** Tcp PassiveOpens of the measured network namespace (connections accepted by any listener in it). */
function passiveOpens(ns) {
  const [names, values] = readFileSync(`${ns.procNet}/snmp`, 'latin1').split('\n').filter((l) => l.startsWith('Tcp:'));
  return Number(values.split(' ')[names.split(' ').indexOf('PassiveOpens')]);
}

/**
 * The TCP line of /proc/net/sockstat of the bench's own namespace ("inuse N orphan N tw N …"):
 * the kernel's established hash, which dumps walk, is one for every namespace of the machine
 * (unless net.ipv4.tcp_child_ehash_entries gave one its own), so other work's sockets cost our
 * dumps even from a namespace of our own.
 */
function machineSockets() {
  try {
    return /^TCP: (.*)$/m.exec(readFileSync('/proc/self/net/sockstat', 'latin1'))?.[1];
  } catch {
    return undefined;
  }
}

function childEhash() {
  try {
    return readFileSync('/proc/sys/net/ipv4/tcp_child_ehash_entries', 'latin1').trim();
  } catch {
    return undefined;
  }
}

/** TCP sockets of the measured namespace by state, from `ss -tan` (for the notes; undefined without ss). */
function socketSummary(ns) {
  const argv = ns.wrap(['ss', '-tanH']);
  const run = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 10_000, maxBuffer: 256 * 1024 * 1024 });
  if (run.status !== 0) return undefined;
  const states = new Map();
  for (const line of run.stdout.split('\n')) {
    const state = line.split(/\s+/)[0];
    if (state) states.set(state, (states.get(state) ?? 0) + 1);
  }
  const total = [...states.values()].reduce((a, b) => a + b, 0);
  return `${total} TCP sockets (${[...states].sort((a, b) => b[1] - a[1]).map(([state, count]) => `${count} ${state}`).join(', ')})`;
}

// ---------------------------------------------------------------------------------------------
// 1. CPU per readiness poll

/** esbuild bundle of src/ports/listeners.ts (and the two sys modules the drain row calls), koffi left out as in scripts/build.mjs. */
function bundle(dir) {
  const entry = path.join(dir, 'entry.ts');
  const outfile = path.join(dir, 'ports-bundle.cjs');
  const src = (file) => JSON.stringify(path.join(ROOT, 'src', file));
  writeFileSync(entry, [
    `export { ListenerFinder } from ${src('ports/listeners.ts')};`,
    `export { connections, listeningSockets } from ${src('sys/sock-diag.ts')};`,
    `export { tcpPassiveOpens } from ${src('sys/proc.ts')};`,
    '',
  ].join('\n'));
  const run = spawnSync(ESBUILD, [entry, '--bundle', '--platform=node', '--format=cjs', '--target=node20', '--external:koffi', `--outfile=${outfile}`, '--log-level=warning'], { encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) throw new Error(`esbuild: ${(run.stderr || run.error?.message || `exit ${run.status}`).trim()}`);
  return outfile;
}

async function benchPoll(ctx) {
  const dir = tempDir(ctx, 'usher-bench-ports-');
  const procs = [];
  const start = (argv, options) => {
    const proc = new ctx.Proc(argv, options);
    procs.push(proc);
    return proc;
  };
  try {
    const bundleFile = bundle(dir);
    const idle = start(ctx.ns.wrap(['sh', '-c', ULIMIT, ctx.NODE, PEER, 'server']));
    const busy = start(ctx.ns.wrap(['sh', '-c', ULIMIT, ctx.NODE, PEER, 'server']));
    const idlePort = await announced(idle, 'listening ', 10_000, 'idle server');
    const busyPort = await announced(busy, 'listening ', 10_000, 'busy server');
    const { connections, connectBatch } = PORTS_SAMPLES;
    const setUp = ctx.nowNs();
    const client = start(ctx.ns.wrap(['sh', '-c', ULIMIT, ctx.NODE, PEER, 'client', String(busyPort), String(connections), String(connectBatch)]));
    await client.line('stdout', (l) => l === `connected ${connections}` || l.startsWith('error'), 60_000, 'client: connections').then((l) => {
      if (l.startsWith('error')) throw new Error(`client: ${l}`);
    });
    await announced(busy, `accepted ${connections}`, 30_000, 'busy server: accepts');
    const setUpMs = ctx.elapsedMs(setUp);
    const servers = [
      { name: 'idle', pid: idle.pid, port: idlePort, connections: 0 },
      { name: 'busy', pid: busy.pid, port: busyPort, connections },
    ];
    const options = { bundle: bundleFile, servers, ...PORTS_SAMPLES };
    const child = start(ctx.ns.wrap([ctx.NODE, POLL_CHILD, JSON.stringify(options)]), { env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') } });
    const line = await child.line('stdout', (l) => l.startsWith('{'), 180_000, 'poll child');
    await child.waitExit(5000, 'poll child');
    const result = JSON.parse(line);
    if (result.error) throw new Error(`poll child: ${result.error.split('\n')[0]}`);
    for (const proc of [idle, busy, client]) if (proc.exitCode !== undefined) throw new Error(`conn-peer ${proc.argv.find((a) => a === 'server' || a === 'client')} exited (${proc.exitCode}) during the polls`);
    return { ...result, servers, setUpMs, sockets: socketSummary(ctx.ns), machine: machineSockets(), childEhash: childEhash(), maxOpenFiles: maxOpenFiles(client.pid), loadavg: os.loadavg()[0] };
  } finally {
    // The client first: its 10,000 closes then reach a server that is still there to answer them.
    for (const proc of procs.reverse()) await proc.stop();
    removeDir(ctx, dir);
  }
}

// ---------------------------------------------------------------------------------------------
// 2. Idle CPU: an usher watching one port, and one with --ready-port none, side by side

/** utime+stime of `pid` in clock ticks (/proc/PID/stat fields 14 and 15), and its threads' scheduler runtime in ns (/proc/PID/task/*\/schedstat). */
function cpuOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  let runNs = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      runNs += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended between readdir and read
    }
  }
  return { ticks: Number(fields[14 - 3]) + Number(fields[15 - 3]), runNs };
}

async function startIdleUsher(ctx, name, initArgs, env) {
  const stateDir = tempDir(ctx, `usher-bench-${name}-`);
  const proc = new ctx.Proc(ctx.ns.wrap([ctx.USHER, ...initArgs, '--state-dir', stateDir, '--', ctx.NODE, PORT_APP, 'http']), { env: cleanEnv(env) });
  return { name, proc, stateDir, port: Number(env.PORT ?? env.APP_PORT) };
}

async function benchIdle(ctx) {
  const [watchPort, plainPort] = [await freePort(), await freePort()];
  const ushers = [
    await startIdleUsher(ctx, 'watching', [], { PORT: String(watchPort) }),
    await startIdleUsher(ctx, 'plain', ['--ready-port', 'none'], { APP_PORT: String(plainPort) }),
  ];
  try {
    for (const u of ushers) {
      await announced(u.proc, 'listening ', 10_000, `${u.name}: app listening`);
      await ctx.waitUntil(() => existsSync(path.join(u.stateDir, 'ready')), 5000, `${u.name}: ready marker`);
    }
    // Whatever an usher does once after start-up (the first heartbeats, lazy compiles) is not idle.
    await ctx.sleep(3000);
    const alive = () => {
      for (const u of ushers) if (u.proc.exitCode !== undefined) throw new Error(`${u.name} usher exited (${u.proc.exitCode})`);
    };
    const loadBefore = os.loadavg()[0];
    const readings = [];
    for (let w = 0; w <= PORTS_SAMPLES.idleWindows; w++) {
      if (w > 0) await ctx.sleep(PORTS_SAMPLES.idleWindowMs);
      alive();
      // Rotated: neither is always read first.
      const order = w % 2 ? [...ushers].reverse() : ushers;
      const reading = { atNs: ctx.nowNs() };
      for (const u of order) reading[u.name] = cpuOf(u.proc.pid);
      readings.push(reading);
    }
    const stillReady = existsSync(path.join(ushers[0].stateDir, 'ready'));
    if (!stillReady) throw new Error('the watching usher is not ready any more');
    return { readings, ports: { watching: watchPort, plain: plainPort }, loadavg: [loadBefore, os.loadavg()[0]] };
  } finally {
    for (const u of ushers) {
      await u.proc.stop();
      removeDir(ctx, u.stateDir);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 3. --drain-idle error

async function drainIdleOnce(ctx) {
  const port = await freePort();
  const stateDir = tempDir(ctx, 'usher-bench-drain-idle-');
  const proc = new ctx.Proc(
    ctx.ns.wrap([ctx.USHER, '--drain', DRAIN.limit, '--drain-idle', DRAIN.idle, '--state-dir', stateDir, '--', ctx.NODE, PORT_APP, 'sink']),
    { env: cleanEnv({ PORT: String(port) }) },
  );
  let client;
  try {
    await announced(proc, 'listening ', 10_000, 'drain-idle app: listening');
    await ctx.waitUntil(() => existsSync(path.join(stateDir, 'ready')), 5000, 'drain-idle usher: ready marker');
    // Waiters first: the lines they wait for come while the client runs.
    const ended = proc.line('stderr', (l) => l.includes('"msg":"drain ended'), 40_000, 'usher: drain ended');
    const term = proc.line('stdout', (l) => l.startsWith('SIGTERM '), 40_000, 'drain-idle app: TERM');
    for (const waiting of [ended, term]) waiting.catch(() => undefined); // awaited below; no unhandled rejection meanwhile
    const { trickleMs, beforeTermMs, afterTermMs } = DRAIN;
    client = new ctx.Proc(ctx.ns.wrap([ctx.NODE, TRICKLE, String(port), String(proc.pid), String(trickleMs), String(beforeTermMs), String(afterTermMs)]));
    await lineAfter(client, 'connected', 5000, 'trickle client: connect');
    const termNs = BigInt(await lineAfter(client, 'term ', 5000, 'trickle client: TERM sent'));
    const lastNs = BigInt(await lineAfter(client, 'last ', 5000, 'trickle client: last byte'));
    const opensAfterLast = passiveOpens(ctx.ns);
    const appTermNs = BigInt((await term).split(' ')[2]);
    const foreignOpens = passiveOpens(ctx.ns) - opensAfterLast; // nothing of ours connects after the last byte
    const endedLine = JSON.parse(await ended);
    const machine = /inuse (\d+) .*tw (\d+)/.exec(machineSockets() ?? '');
    await proc.waitExit(15_000, 'drain-idle usher: exit');
    return {
      errorMs: Number(appTermNs - lastNs) / 1e6 - DRAIN.idleMs,
      drainMs: Number(appTermNs - termNs) / 1e6,
      byQuiet: endedLine.msg.includes('no traffic'),
      quietMs: endedLine.quietMs,
      foreignOpens,
      machineSockets: machine ? Number(machine[1]) + Number(machine[2]) : NaN,
    };
  } finally {
    await client?.stop();
    await proc.stop();
    removeDir(ctx, stateDir);
  }
}

async function benchDrainIdle(ctx) {
  const samples = [];
  const errors = [];
  const began = ctx.nowNs();
  for (let i = 0; i < PORTS_SAMPLES.drainIdle; i++) {
    // A drain that traffic keeps going lasts up to its 30 s limit: the phase stops taking samples at its budget.
    if (ctx.elapsedMs(began) > DRAIN.phaseBudgetMs) break;
    try {
      samples.push(await drainIdleOnce(ctx));
    } catch (error) {
      errors.push(error.message);
    }
    await ctx.sleep(50);
  }
  if (samples.length === 0) throw new Error(`every sample failed; first: ${errors[0]}`);
  return { samples, errors, sockets: socketSummary(ctx.ns), machine: machineSockets() };
}

// ---------------------------------------------------------------------------------------------
// Report

export function portsSection(r, { percentile, median, clkTck }) {
  const fmt = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '—');
  const verdict = (ok) => (ok === undefined ? 'n/a' : ok ? 'yes' : '**NO**');
  const p90 = (values) => percentile(values, 90);
  const lines = [`## port readiness and --drain-idle (usher only) — ${r.at}`, ''];

  // 1. Polls
  const poll = r.poll;
  const series = (kind, server) => poll?.[kind]?.[server];
  const cell = (kind, server, stat) => {
    const s = series(kind, server);
    return s?.cpuUs.length ? `${fmt(stat(s.cpuUs), 0)} µs` : 'failed';
  };
  const n = (kind) => (series(kind, 'busy')?.cpuUs.length ?? 0);
  const pollRow = (label, kind, target) => {
    const busyMedian = series(kind, 'busy')?.cpuUs.length ? median(series(kind, 'busy').cpuUs) : NaN;
    const wall = series(kind, 'busy')?.wallUs.length ? `${fmt(median(series(kind, 'busy').wallUs), 0)} µs` : '—';
    const met = target ? verdict(Number.isFinite(busyMedian) ? busyMedian < PORTS_TARGET.pollUs : undefined) : '';
    return `| ${label} | ${cell(kind, 'idle', median)} | ${cell(kind, 'idle', p90)} | ${cell(kind, 'busy', median)} | ${cell(kind, 'busy', p90)} | ${wall} | ${n(kind)} | ${target ? `< ${PORTS_TARGET.pollUs} µs at ${PORTS_SAMPLES.connections.toLocaleString('en')} (median)` : ''} | ${met} |`;
  };
  const k = PORTS_SAMPLES.connections.toLocaleString('en');
  lines.push(
    `| CPU per call (user+system) | 0 connections, p50 | p90 | ${k} connections, p50 | p90 | wall p50, ${k} | n | target | met |`,
    '|---|---|---|---|---|---|---|---|---|',
    pollRow('readiness poll, reused `ListenerFinder` (as usher polls after its first), polls 1 ms apart', 'warm', true),
    pollRow(`the same, polls ${PORTS_SAMPLES.spacedGapMs} ms apart (caches cold, as in usher\'s 1 s polls once ready)`, 'spaced', true),
    pollRow('readiness poll, `new ListenerFinder(roots, onFallback).find([port])` each time (nothing remembered: usher\'s first poll of a listener, and every re-scan)', 'cold', true),
    pollRow('`--drain-idle` poll: `connections([port])` (IPv4 and IPv6, as drain-traffic.ts asks) + `listeningSockets([port])` + PassiveOpens', 'drain'),
    pollRow('the same `connections([port], [4])`, IPv4 only', 'drainV4'),
    '',
  );

  // 2. Idle CPU
  const idle = r.idle;
  const idleTable = ['| ready usher, idle, app = the same HTTP server | CPU per minute (utime+stime) | CPU per minute (schedstat) | per 10 s window, min–max (schedstat) | window | target | met |', '|---|---|---|---|---|---|---|'];
  if (idle) {
    const first = idle.readings[0];
    const last = idle.readings.at(-1);
    const minutes = Number(last.atNs - first.atNs) / 60e9;
    const perMinute = (name, key) => ((last[name][key] - first[name][key]) * (key === 'ticks' ? 1000 / clkTck : 1e-6)) / minutes;
    const windows = (f) => idle.readings.slice(1).map((reading, i) => f(reading, idle.readings[i], Number(reading.atNs - idle.readings[i].atNs) / 60e9));
    const windowRate = (name) => (now, before, min) => ((now[name].runNs - before[name].runNs) / 1e6) / min;
    const range = (values) => `${fmt(Math.min(...values), 1)}–${fmt(Math.max(...values), 1)} ms`;
    const watchW = windows(windowRate('watching'));
    const plainW = windows(windowRate('plain'));
    const diffTicks = perMinute('watching', 'ticks') - perMinute('plain', 'ticks');
    const diffRun = perMinute('watching', 'runNs') - perMinute('plain', 'runNs');
    const windowLabel = `${fmt(minutes * 60, 1)} s, both read together every ${PORTS_SAMPLES.idleWindowMs / 1000} s`;
    idleTable.push(
      `| watching :${idle.ports.watching} (\`PORT=${idle.ports.watching}\`) | ${fmt(perMinute('watching', 'ticks'), 1)} ms | ${fmt(perMinute('watching', 'runNs'), 1)} ms | ${range(watchW)} | ${windowLabel} | | |`,
      `| \`--ready-port none\` (app on :${idle.ports.plain} through APP_PORT) | ${fmt(perMinute('plain', 'ticks'), 1)} ms | ${fmt(perMinute('plain', 'runNs'), 1)} ms | ${range(plainW)} | same | | |`,
      `| difference: what watching the port adds | ${fmt(diffTicks, 1)} ms | ${fmt(diffRun, 1)} ms | ${range(watchW.map((w, i) => w - plainW[i]))} | same | < ${PORTS_TARGET.watchMsPerMinute} ms/min | ${verdict(diffTicks < PORTS_TARGET.watchMsPerMinute)} (ticks), ${verdict(diffRun < PORTS_TARGET.watchMsPerMinute)} (schedstat) |`,
    );
  } else {
    idleTable.push('| idle CPU | failed | | | | | |');
  }
  lines.push(...idleTable, '');

  // 3. Drain-idle
  const drain = r.drainIdle;
  const drainTable = ['| `--drain 30s --drain-idle 1s`, a byte every 50 ms until T | median | p90 | max | min | n | target | met |', '|---|---|---|---|---|---|---|---|'];
  if (drain) {
    const errs = drain.samples.map((s) => s.errorMs);
    const worst = Math.max(...errs.map(Math.abs));
    const allQuiet = drain.samples.every((s) => s.byQuiet);
    const short = errs.length + drain.errors.length < PORTS_SAMPLES.drainIdle ? ` of ${PORTS_SAMPLES.drainIdle} (phase budget ran out)` : '';
    const nCell = `${errs.length}${drain.errors.length ? ` (+${drain.errors.length} failed)` : ''}${short}`;
    const row = (label, values, target, met) => `| ${label} | ${fmt(median(values), 1)} ms | ${fmt(p90(values), 1)} ms | ${fmt(Math.max(...values), 1)} ms | ${fmt(Math.min(...values), 1)} ms | ${nCell} | ${target} | ${met} |`;
    drainTable.push(
      row('error: app TERM − (T + 1000 ms)', errs, `every sample within ±${PORTS_TARGET.drainIdleErrorMs} ms`, verdict(drain.errors.length === 0 && !short && allQuiet && worst <= PORTS_TARGET.drainIdleErrorMs)),
      row('usher\'s own view: its logged quietMs − 1000 ms', drain.samples.map((s) => s.quietMs - DRAIN.idleMs), '', ''),
      row('drain: SIGTERM to usher → app TERM', drain.samples.map((s) => s.drainMs), '', ''),
    );
  } else {
    drainTable.push('| --drain-idle | failed | | | | | | |');
  }
  lines.push(...drainTable, '');

  // Notes
  const notes = [];
  notes.push(r.netns === 'private'
    ? '- Network namespace: every process of this section (servers, clients, poll child, ushers, apps) ran in one of its own (`unshare --net`, loopback up, entered with `nsenter --net`), as in a pod: no other work\'s sockets in the dumps, no other work\'s accepts in PassiveOpens.'
    : `- Network namespace: **the bench's own, shared with everything else on this machine** (${r.netns.replace(/^shared \(|\)$/g, '')}): other work's sockets are in every dump and its accepts count as traffic for --drain-idle.`);
  if (poll) {
    const floorMedian = median(poll.floor);
    notes.push(
      `- Readiness poll: the real \`src/ports/listeners.ts\` bundled by \`node_modules/.bin/esbuild --bundle --platform=node --format=cjs --external:koffi\` into a temp file and required by bench/poll-child.mjs. Two servers (bench/conn-peer.mjs, each its own Node process on 127.0.0.1, \`roots\` = its pid): one with no connection, one holding ${k} established connections opened by a third process in batches of ${PORTS_SAMPLES.connectBatch} (set up in ${fmt(poll.setUpMs / 1000, 1)} s; max open files ${poll.maxOpenFiles}). Polls of the two alternate, 1 ms apart (the spaced row: ${PORTS_SAMPLES.spacedGapMs} ms); CPU = \`process.cpuUsage()\` delta, user+system, of the polling process (the measurement's own floor: ${fmt(floorMedian, 0)} µs median). ` +
        `Reused finder: one per server, its first (walking) call and 50 more left out as warm-up — as usher's port watch, which keeps one finder (src/supervisor/adapters.ts) and then pays a LISTEN dump per family and one readlink per poll. New finder: every call walks /proc/PID/fd of the tree (a readlink per descriptor, ${k} of them at ${k} connections); usher pays that for a listener it has not seen yet and, every 5 s, for a listener on the port held by no process of the tree (STRANGER_MS).` +
        (poll.fallbacks.length ? ` **sock_diag failed (${poll.fallbacks[0]}): these are /proc/net/tcp polls.**` : ' sock_diag answered every call (no fallback to /proc/net/tcp).'),
      `- \`--drain-idle\` poll: the three calls drain-traffic.ts makes each poll, timed together (bench calls, not usher's timer). A connections dump walks the kernel's whole established hash once per family, filtering by namespace, state and port as it goes; that hash is one for the whole machine (unless net.ipv4.tcp_child_ehash_entries gives a new namespace its own; ${poll.childEhash ?? '?'} here), so the cost follows every TCP socket of the machine, TIME_WAIT included, in any namespace — not the port's connections, and not only the namespace's. Sockets of the measured namespace at the end of the polls: ${poll.sockets ?? 'unknown'} (\`ss -tan\`); of the bench's own namespace: ${poll.machine ?? 'unknown'} (/proc/net/sockstat).`,
    );
    for (const kind of ['warm', 'spaced', 'cold', 'drain', 'drainV4']) {
      for (const [name, s] of Object.entries(poll[kind] ?? {})) if (s.failures) notes.push(`- ${kind} polls of the ${name} server: ${s.failures} wrong answers; first: ${s.firstFailure}`);
    }
  }
  if (idle) {
    notes.push(`- Idle CPU: two \`usher [--ready-port none] --state-dir D -- node bench/port-app.mjs http\`, started together, both ready (the watching one once :${idle.ports.watching} was seen listening), 3 s settling, then read together ${PORTS_SAMPLES.idleWindows} times ${PORTS_SAMPLES.idleWindowMs / 1000} s apart (order alternating), no request sent. CPU of the usher process only (its Node, all threads; the app is its child, not counted): utime+stime from /proc/PID/stat in clock ticks (${clkTck}/s, so each figure is ±${fmt(1000 / clkTck, 0)} ms over the window, ±${fmt((1000 / clkTck) / ((PORTS_SAMPLES.idleWindows * PORTS_SAMPLES.idleWindowMs) / 60_000), 0)} ms/min), and the sum of its threads' scheduler runtime from /proc/PID/task/*/schedstat (ns), which resolves what ticks cannot. Load average (1 min) ${fmt(idle.loadavg[0], 2)} → ${fmt(idle.loadavg[1], 2)}.`);
  }
  if (drain) {
    const foreign = drain.samples.filter((s) => s.foreignOpens > 0);
    const notQuiet = drain.samples.filter((s) => !s.byQuiet);
    notes.push(
      `- \`--drain-idle\`: per sample a new \`PORT=P usher --drain 30s --drain-idle 1s --state-dir D -- node bench/port-app.mjs sink\` (a TCP server that reads and discards), ready; one client connection (bench/trickle-client.mjs, a process in the same namespace) sends a byte every ${DRAIN.trickleMs} ms; it sends SIGTERM to usher after ${DRAIN.beforeTermMs} ms of it; the first byte ${DRAIN.afterTermMs} ms or more after the TERM is the last, T = the end of its write; the app prints its TERM time (hrtime; CLOCK_MONOTONIC, the bench's clock too; Date.now() beside it). The connection stays open, idle, until the app's TERM. Error = app TERM − (T + ${DRAIN.idleMs} ms): usher's timer, its poll's own duration and the TERM's delivery, against the kernel's tcpi_last_data_recv (jiffies, CONFIG_HZ resolution).` +
        ` ${drain.samples.length - notQuiet.length} of ${drain.samples.length} drains ended on quiet ("no traffic for 1s")${notQuiet.length ? `, **${notQuiet.length} at the limit**` : ''}.` +
        (foreign.length ? ` In ${foreign.length} sample(s) another process of this network namespace accepted connections between T and the app's TERM (${foreign.map((s) => s.foreignOpens).join(', ')}): usher counts any accepted connection it did not make as traffic (drain-traffic.ts unseenOpens), which lengthens those drains.` : ' No other connection was accepted in the namespace between T and any app TERM.') +
        ` "usher's own view": the quietMs of its "drain ended" log line, the quiet time usher believed it had seen when it decided (drain-traffic.ts reads Date.now() before its dumps and subtracts the kernel's "ms since" values, which are as of the dump, later: so quietMs runs ahead of the truth by up to one dump's duration, and a drain can end that much early); what follows the decision (the rest of that poll, the stop, the TERM's way to the app) is in the error only. Sockets of the measured namespace at the end: ${drain.sockets ?? 'unknown'}; of the bench's own: ${drain.machine ?? 'unknown'}. TCP sockets (in use + TIME_WAIT) of the bench's own namespace at each app TERM, every one of them in the hash each of usher's dumps walks: ${fmt(Math.min(...drain.samples.map((x) => x.machineSockets)), 0)} to ${fmt(Math.max(...drain.samples.map((x) => x.machineSockets)), 0)}.`,
    );
    if (drain.errors.length) notes.push(`- --drain-idle: ${drain.errors.length} failed sample(s); first: ${drain.errors[0]}`);
  }
  const busy = Math.max(...r.loadavg.start, ...r.loadavg.end) > 2;
  notes.push(`- Load average (1, 5, 15 min): ${r.loadavg.start.map((l) => fmt(l, 2)).join(' ')} at the start of this section, ${r.loadavg.end.map((l) => fmt(l, 2)).join(' ')} at its end (nproc ${os.availableParallelism()}).` +
    (busy ? ' **Above 2: other work was running on this machine; absolute numbers are inflated.**' : ''));
  lines.push(...notes);
  return lines.join('\n');
}
