// usher side by side with tini and dumb-init (start-up, signal forwarding, reaping, memory,
// drain), usher's HTTP server against exec probes, and what usher's port readiness and
// --drain-idle cost and how exact they are (bench/ports.mjs).
//
// Every measurement is interleaved: each round takes one sample of every contender, in a rotated
// order, so that a noisy neighbour, a CPU frequency change or a warm page cache hits all contenders
// alike instead of whichever happened to run during it. Medians, not means: one descheduling can
// cost more than the thing measured.
//
// Usage: npm run bench   (builds first; writes bench/results.md)
//        node bench/run.mjs --only SECTION   (after `npm run build`): one section alone, written in
//          place of that section of an existing bench/results.md, the rest left as it was:
//          ports: the port sections of bench/ports.mjs (readiness-poll CPU at 0 and 10,000
//            connections, idle CPU of a watching usher, --drain-idle error; 2 to 2.5 minutes).
//            They run in a network namespace of their own (unshare --net; root);
//            BENCH_PORTS_NETNS=shared runs them in the bench's own instead.
//          node-lines: start-up of `usher -- true` on Node 20, 22 and 24, beside tini and
//            dumb-init (bench/node-lines.mjs; about a minute, and a one-time fetch of each node
//            with npm).
//          probes [--baseline FILE]: only the exec-probe costs (section 7), printed, results.md
//            left as it is (about 20 s). With --baseline, FILE (a bin/usher-probe of another
//            checkout) runs interleaved with this one on the same states, for a before/after.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchNodeLines, nodeLinesSection } from './node-lines.mjs';
import { benchPorts, portsSection } from './ports.mjs';
import { createSpawner } from './spawn-rusage.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(HERE);
const USHER = path.join(ROOT, 'bin', 'usher');
const USHER_PROBE = path.join(ROOT, 'bin', 'usher-probe');
// The same Node for the floor, the apps and usher itself (bin/usher runs `node` from PATH).
const NODE = process.execPath;
const SIGNAL_APP = path.join(HERE, 'signal-app.mjs');
const BURST_APP = path.join(HERE, 'orphan-burst.mjs');
const RESULTS = path.join(HERE, 'results.md');

const SAMPLES = { startup: 50, signal: 300, burst: 5, rss: 5, drain: 10 };
const ORPHANS = 2000;
// HTTP server: an open-loop GET /readyz schedule, and interleaved exec-probe runs.
const PROBE_LOAD = { rate: 200, seconds: 10, warmupSeconds: 1, requestTimeoutMs: 2000 };
const EXEC_ROUNDS = 100;
const TARGET = { startupVsNode: 1.25, signalP90Ms: 1, burstVsTini: 2, rssMB: 60, drainMs: 1000, drainToleranceMs: 50 };
// The whole run must stay bounded even if something hangs in a way no single timeout catches.
const OVERALL_TIMEOUT_MS = 9 * 60_000;
// Each section that runs alone lies in results.md between markers, so that `--only NAME` can replace it alone.
const SECTIONS = ['ports', 'node-lines', 'probes'];
const sectionBegin = (name) => `<!-- ${name}:begin -->`;
const sectionEnd = (name) => `<!-- ${name}:end -->`;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const nowNs = () => process.hrtime.bigint();
const elapsedMs = (fromNs) => Number(nowNs() - fromNs) / 1e6;

// ---------------------------------------------------------------------------------------------
// Contenders

/** Each contender turns an app command line into the full command line under that init. */
const CONTENDERS = [
  { name: 'usher', bin: USHER, wrap: (cmd) => [USHER, '--', ...cmd] },
  // -s: not PID 1 outside the namespace benchmark, and tini warns without a subreaper.
  { name: 'tini', bin: '/usr/bin/tini', pkg: 'tini', wrap: (cmd) => ['/usr/bin/tini', '-s', '--', ...cmd] },
  { name: 'dumb-init', bin: '/usr/bin/dumb-init', pkg: 'dumb-init', wrap: (cmd) => ['/usr/bin/dumb-init', ...cmd] },
];

/** Installs the Debian packages that are missing; returns a skip reason per contender that stays missing. */
function ensureTools() {
  const missing = CONTENDERS.filter((c) => c.pkg && !existsSync(c.bin));
  const skipped = new Map();
  if (missing.length === 0) return skipped;
  const packages = missing.map((c) => c.pkg);
  if (process.getuid?.() !== 0) {
    for (const c of missing) skipped.set(c.name, `${c.bin} is missing and we are not root, so cannot apt-get install ${c.pkg}`);
    return skipped;
  }
  console.log(`installing ${packages.join(', ')} with apt-get …`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (args) => spawnSync('apt-get', args, { env, stdio: ['ignore', 'ignore', 'inherit'], timeout: 180_000 });
  // Try without an update first: a warm package list saves most of a minute.
  if (apt(['install', '-y', '--no-install-recommends', ...packages]).status !== 0) {
    apt(['update']);
    apt(['install', '-y', '--no-install-recommends', ...packages]);
  }
  for (const c of missing) if (!existsSync(c.bin)) skipped.set(c.name, `apt-get install ${c.pkg} did not provide ${c.bin}`);
  return skipped;
}

function versionOf(argv) {
  const run = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: 5000 });
  // dumb-init prints its version on stderr, tini on stdout.
  return `${run.stdout ?? ''}${run.stderr ?? ''}`.trim().split('\n')[0] || 'unknown';
}

function environment(available) {
  const usherVersion = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
  const lines = [
    `node ${process.version} (${NODE})`,
    `usher ${usherVersion} (bin/usher → dist/usher.cjs)`,
    ...available.filter((c) => c.pkg).map((c) => versionOf([c.bin, '--version'])),
    `nproc ${os.availableParallelism()} · ${os.cpus()[0]?.model ?? 'unknown CPU'} · Linux ${os.release()} · load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    `uid ${process.getuid?.()}`,
  ];
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Processes: every child is tracked so that nothing outlives the bench, whatever happens.

const running = new Set();

/** Pids of every descendant of `pid`, found through the children lists of all its threads. */
function descendants(pid) {
  const found = [];
  const visit = (parent) => {
    let tasks = [];
    try {
      tasks = readdirSync(`/proc/${parent}/task`);
    } catch {
      return; // already gone
    }
    for (const task of tasks) {
      let children = '';
      try {
        children = readFileSync(`/proc/${parent}/task/${task}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const child of children.split(' ').filter(Boolean).map(Number)) {
        found.push(child);
        visit(child);
      }
    }
  };
  visit(pid);
  return found;
}

/** SIGKILL a process and all it spawned. The inits put their apps in other process groups, so a group kill would miss them. */
function killTree(pid) {
  for (const victim of [pid, ...descendants(pid)]) {
    try {
      process.kill(victim, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * A started process whose stdout and stderr are read as lines. `line()` waits for the next line
 * that matches, consuming the ones before it, so a caller sees each line once and in order.
 */
class Proc {
  constructor(argv, { env } = {}) {
    this.argv = argv;
    this.child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
    this.pid = this.child.pid;
    this.exitCode = undefined;
    this.queues = { stdout: [], stderr: [] };
    this.waiters = { stdout: [], stderr: [] };
    this.stderrTail = [];
    running.add(this);
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exitCode = code ?? `signal ${signal}`;
        running.delete(this);
        this.flushWaiters();
        resolve(this.exitCode);
      });
      this.child.on('error', (error) => {
        this.exitCode = `spawn error: ${error.message}`;
        running.delete(this);
        this.flushWaiters();
        resolve(this.exitCode);
      });
    });
    for (const stream of ['stdout', 'stderr']) this.readLines(stream);
  }

  readLines(stream) {
    let partial = '';
    this.child[stream].setEncoding('utf8');
    this.child[stream].on('data', (chunk) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop();
      for (const line of lines) this.push(stream, line);
    });
  }

  push(stream, line) {
    if (stream === 'stderr') this.stderrTail = [...this.stderrTail.slice(-4), line];
    const queue = this.queues[stream];
    queue.push(line);
    if (queue.length > 10_000) queue.shift(); // a chatty process must not grow the bench without bound
    this.serve(stream);
  }

  serve(stream) {
    // A line that no current waiter wants is dropped: callers only ever wait for what comes next.
    const queue = this.queues[stream];
    while (queue.length > 0 && this.waiters[stream].length > 0) {
      const line = queue.shift();
      this.waiters[stream].find((waiter) => waiter.match(line))?.resolve(line);
    }
  }

  /** The next line on `stream` for which `match` holds; rejects after `timeoutMs` or when the process exits first. */
  line(stream, match, timeoutMs, what) {
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (line) => done(() => resolve(line)),
        reject: (why) => done(() => reject(new Error(`${what}: ${why}${this.stderrTail.length ? ` (stderr: ${this.stderrTail.join(' | ').slice(0, 400)})` : ''}`))),
      };
      const timer = setTimeout(() => waiter.reject(`no answer within ${timeoutMs} ms`), timeoutMs);
      const done = (settle) => {
        clearTimeout(timer);
        this.waiters[stream] = this.waiters[stream].filter((w) => w !== waiter);
        settle();
      };
      this.waiters[stream].push(waiter);
      this.serve(stream);
      if (this.exitCode !== undefined && this.waiters[stream].includes(waiter)) waiter.reject(`exited (${this.exitCode})`);
    });
  }

  flushWaiters() {
    // Lines may still be in the pipe when 'exit' fires: give 'data' one turn before giving up.
    setImmediate(() => {
      for (const stream of ['stdout', 'stderr']) {
        this.serve(stream);
        for (const waiter of [...this.waiters[stream]]) waiter.reject(`exited (${this.exitCode})`);
      }
    });
  }

  /** Resolves with the exit code, or kills the whole tree and throws after `timeoutMs`. */
  async waitExit(timeoutMs, what) {
    let timer;
    const timeout = new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs, 'timeout')));
    const result = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (result !== 'timeout') return result;
    killTree(this.pid);
    await this.exited;
    throw new Error(`${what}: did not exit within ${timeoutMs} ms; killed`);
  }

  /** Polite stop through the init (which forwards it to the app), then force after `timeoutMs`. */
  async stop(timeoutMs = 3000) {
    if (this.exitCode !== undefined) return this.exitCode;
    try {
      process.kill(this.pid, 'SIGTERM');
    } catch {
      // exited meanwhile
    }
    return this.waitExit(timeoutMs, `stopping ${this.argv[0]}`).catch(() => undefined);
  }
}

function killEverything() {
  for (const proc of running) killTree(proc.pid);
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}

// ---------------------------------------------------------------------------------------------
// Statistics

function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  // Nearest rank: always a value that was actually observed.
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
const median = (values) => percentile(values, 50);

/** Contender order for round `round`: rotated so that no one always goes first (or right after the floor). */
function rotation(items, round) {
  const shift = round % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

/** Runs `sample(contender)` round-robin; a failing sample is counted, not fatal, unless all fail. */
async function interleave(contenders, rounds, sample, { pauseMs = 0 } = {}) {
  const results = new Map(contenders.map((c) => [c.name, { values: [], errors: [] }]));
  for (let round = 0; round < rounds; round++) {
    for (const c of rotation(contenders, round)) {
      const result = results.get(c.name);
      try {
        result.values.push(await sample(c));
      } catch (error) {
        result.errors.push(error.message);
      }
      if (pauseMs) await sleep(pauseMs);
    }
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// 1. Start-up: wall time of `X true`, against the floor `node -e 0`.

function timeOnce(argv, env = process.env) {
  const start = nowNs();
  // spawnSync: no event loop between the fork and the wait, so nothing of the bench's own lands in the sample.
  const run = spawnSync(argv[0], argv.slice(1), { stdio: 'ignore', timeout: 10_000, env });
  const ms = elapsedMs(start);
  if (run.status !== 0) throw new Error(`${argv.join(' ')}: exit ${run.status ?? run.signal ?? run.error?.message}`);
  return ms;
}

async function benchStartup(available) {
  const floor = { name: 'node -e 0', wrap: () => [NODE, '-e', '0'] };
  const contenders = [floor, ...available];
  // One untimed round: the first start of each reads its files from disk, later ones from the page cache.
  for (const c of contenders) spawnSync(c.wrap(['true'])[0], c.wrap(['true']).slice(1), { stdio: 'ignore', timeout: 10_000 });
  return interleave(contenders, SAMPLES.startup, async (c) => timeOnce(c.wrap(['true'])));
}

// ---------------------------------------------------------------------------------------------
// 2. Signal forwarding latency: SIGUSR1 to the init, until the (same) app's handler runs.

async function startSignalApp(c, initArgs = []) {
  const argv = c.wrap([NODE, SIGNAL_APP]);
  const proc = new Proc(initArgs.length ? [argv[0], ...initArgs, ...argv.slice(1)] : argv);
  await proc.line('stdout', (l) => l === 'ready', 10_000, `${c.name}: app ready`);
  return proc;
}

async function signalOnce(c, proc) {
  const sent = nowNs();
  process.kill(proc.pid, 'SIGUSR1');
  // Event-driven: the next sample is sent only once this one arrived.
  const line = await proc.line('stdout', (l) => l.startsWith('SIGUSR1 '), 2000, `${c.name}: SIGUSR1 receipt`);
  return Number(BigInt(line.split(' ')[1]) - sent) / 1e6;
}

async function benchSignals(available) {
  // All three stay up for the whole test, idle between samples, so interleaving costs no restarts.
  const procs = new Map();
  try {
    for (const c of available) procs.set(c.name, await startSignalApp(c));
    // The short pause lets each init finish what a signal triggers (usher logs it) before the next one.
    return await interleave(available, SAMPLES.signal, (c) => signalOnce(c, procs.get(c.name)), { pauseMs: 2 });
  } finally {
    await Promise.all([...procs.values()].map((p) => p.stop()));
  }
}

// ---------------------------------------------------------------------------------------------
// 3. A burst of 2,000 orphans, each init as PID 1 of its own PID namespace.

// --kill-child: if the bench kills unshare, the namespace's PID 1 (and so everything in it) dies too.
const UNSHARE = ['unshare', '--pid', '--fork', '--mount-proc', '--kill-child'];

function namespaceSupport() {
  const probe = spawnSync(UNSHARE[0], [...UNSHARE.slice(1), 'true'], { encoding: 'utf8', timeout: 10_000 });
  if (probe.status === 0) return undefined;
  return `\`unshare --pid --fork --mount-proc true\` failed (${(probe.stderr || probe.error?.message || `exit ${probe.status}`).trim()}); it needs root`;
}

async function burstOnce(c) {
  const proc = new Proc([...UNSHARE, ...c.wrap([NODE, BURST_APP, String(ORPHANS)])]);
  const line = await proc.line('stdout', (l) => l.startsWith('{'), 60_000, `${c.name}: burst result`);
  await proc.waitExit(10_000, `${c.name}: burst init`);
  const result = JSON.parse(line);
  if (result.error) throw new Error(`${c.name}: ${result.error}`);
  return result.ms;
}

async function benchBurst(available) {
  return interleave(available, SAMPLES.burst, burstOnce);
}

// ---------------------------------------------------------------------------------------------
// 4. Idle RSS of the init itself while its app sleeps.

function appRunning(initPid, comm) {
  return descendants(initPid).some((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm;
    } catch {
      return false;
    }
  });
}

async function waitUntil(condition, timeoutMs, what) {
  const start = nowNs();
  while (!condition()) {
    if (elapsedMs(start) > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(10); // polling /proc: there is no event for "the child has exec'd"
  }
}

function vmRssKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

async function rssOnce(c) {
  const proc = new Proc(c.wrap(['sleep', '1000']));
  try {
    await waitUntil(() => appRunning(proc.pid, 'sleep'), 5000, `${c.name}: sleep running`);
    if (c.name === 'usher') {
      const started = (l) => l.includes('"msg":"app started"');
      await proc.line('stderr', started, 300, 'usher: app started').catch(() => undefined);
    }
    // Same settling time for all: whatever an init does just after the spawn belongs to its idle state.
    await sleep(200);
    // bin/usher is a shell script that execs node, so this pid is usher's Node process by now.
    return (vmRssKiB(proc.pid) * 1024) / 1e6;
  } finally {
    await proc.stop();
  }
}

async function benchRss(available) {
  return interleave(available, SAMPLES.rss, rssOnce);
}

// ---------------------------------------------------------------------------------------------
// 5. Drain: with --drain 1s, SIGTERM to usher until the app gets its TERM. usher only.

async function drainOnce() {
  const usher = CONTENDERS[0];
  const proc = await startSignalApp(usher, ['--drain', '1s']);
  try {
    const sent = nowNs();
    process.kill(proc.pid, 'SIGTERM');
    const line = await proc.line('stdout', (l) => l.startsWith('SIGTERM '), 5000, 'usher --drain 1s: app TERM');
    await proc.waitExit(5000, 'usher --drain 1s: exit');
    return Number(BigInt(line.split(' ')[1]) - sent) / 1e6;
  } finally {
    await proc.stop();
  }
}

async function benchDrain() {
  return interleave([CONTENDERS[0]], SAMPLES.drain, drainOnce, { pauseMs: 50 });
}

// ---------------------------------------------------------------------------------------------
// 6. HTTP server: GET /readyz at a steady rate from a loopback client, and the CPU usher
// spends on it beside its idle CPU over the same time. usher only (tini and dumb-init have none).

const tempDirs = new Set();

function clockTicksPerSecond() {
  const run = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 5000 });
  const ticks = Number(run.stdout?.trim());
  return Number.isInteger(ticks) && ticks > 0 ? ticks : 100;
}
let CLK_TCK = 100;

/** utime + stime of every thread of `pid`, in ms (/proc/PID/stat fields 14 and 15, in clock ticks). */
function cpuMsOf(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may hold spaces; field 3 is index 0.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[14 - 3]) + Number(fields[15 - 3])) * 1000) / CLK_TCK;
}

/** usher --http on a free loopback port, its state in a fresh directory, app `sleep 1000`; resolves once ready. */
async function startProbeUsher() {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'usher-bench-'));
  tempDirs.add(stateDir);
  const proc = new Proc([USHER, '--http', '127.0.0.1:0', '--state-dir', stateDir, '--', 'sleep', '1000']);
  try {
    const line = await proc.line('stderr', (l) => l.includes('"msg":"HTTP server listening"'), 10_000, 'usher --http: HTTP server listening');
    const port = Number(/:(\d+)$/.exec(JSON.parse(line).address ?? '')?.[1]);
    if (!port) throw new Error(`usher --http: no port in ${line}`);
    await waitUntil(() => existsSync(path.join(stateDir, 'ready')), 5000, 'usher --http: ready marker');
    return { proc, stateDir, port, url: `http://127.0.0.1:${port}/readyz` };
  } catch (error) {
    await proc.stop();
    throw error;
  }
}

async function stopProbeUsher(probe) {
  await probe.proc.stop();
  rmSync(probe.stateDir, { recursive: true, force: true });
  tempDirs.delete(probe.stateDir);
}

/**
 * One GET /readyz on a new connection with `Connection: close`, as kubelet's prober (keep-alive
 * off) does it. Timed from the request's start (connect included) to the end of the body.
 * Resolves with `{ ms, status }` or `{ ms, error }`; never rejects, never waits longer than the timeout.
 */
function getReadyz(port) {
  return new Promise((resolve) => {
    const start = nowNs();
    let timer;
    let settled = false;
    const settle = (result) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ms: elapsedMs(start), ...result });
    };
    const request = http.request({ host: '127.0.0.1', port, path: '/readyz', agent: false, headers: { Connection: 'close' } }, (response) => {
      response.resume();
      response.on('end', () => settle({ status: response.statusCode }));
      response.on('error', (error) => settle({ error: error.message }));
    });
    timer = setTimeout(() => {
      settle({ error: `no answer within ${PROBE_LOAD.requestTimeoutMs} ms` });
      request.destroy();
    }, PROBE_LOAD.requestTimeoutMs);
    request.on('error', (error) => settle({ error: error.message }));
    request.end();
  });
}

/** Open loop: request i goes out at i/rate s whether or not the earlier ones have been answered. */
async function openLoop(port, rate, seconds) {
  const intervalMs = 1000 / rate;
  const count = Math.round(rate * seconds);
  const answers = [];
  const lagsMs = [];
  const start = nowNs();
  for (let i = 0; i < count; i++) {
    const due = i * intervalMs;
    const wait = due - elapsedMs(start);
    if (wait >= 1) await sleep(wait);
    lagsMs.push(Math.max(0, elapsedMs(start) - due));
    answers.push(getReadyz(port));
  }
  const results = await Promise.all(answers);
  return { results, lagsMs, wallMs: elapsedMs(start) };
}

async function benchProbeServer(probe) {
  const { proc, port } = probe;
  const alive = () => {
    if (proc.exitCode !== undefined) throw new Error(`usher --http exited (${proc.exitCode})`);
  };
  // Warm-up, not recorded: the first requests compile the handler and load what is loaded lazily.
  await openLoop(port, PROBE_LOAD.rate, PROBE_LOAD.warmupSeconds);
  await sleep(1000);
  alive();
  const idleStart = nowNs();
  const idleCpuStart = cpuMsOf(proc.pid);
  await sleep(PROBE_LOAD.seconds * 1000);
  const idle = { cpuMs: cpuMsOf(proc.pid) - idleCpuStart, wallMs: elapsedMs(idleStart) };
  alive();
  const loadavgBefore = os.loadavg()[0];
  const cpuStart = cpuMsOf(proc.pid);
  const run = await openLoop(port, PROBE_LOAD.rate, PROBE_LOAD.seconds);
  const load = { cpuMs: cpuMsOf(proc.pid) - cpuStart, wallMs: run.wallMs };
  alive();
  const ok = run.results.filter((r) => r.status === 200);
  const failed = run.results.filter((r) => r.status !== 200);
  return {
    latencies: ok.map((r) => r.ms),
    requests: run.results.length,
    failures: failed.length,
    firstFailure: failed[0] && (failed[0].error ?? `HTTP ${failed[0].status}`),
    lagsMs: run.lagsMs,
    load,
    idle,
    loadavg: [loadavgBefore, os.loadavg()[0]],
  };
}

// ---------------------------------------------------------------------------------------------
// 7. Exec-probe cost, against the same running usher: wall and CPU of one probe process each,
// interleaved. CPU from wait4's rusage (see spawn-rusage.mjs for why not /usr/bin/time).

function execProbeKinds(probe, failing, baseline) {
  const marker = path.join(probe.stateDir, 'ready');
  const kinds = [
    { name: 'usher probe', label: '`usher probe ready --state-dir D`', argv: [USHER, 'probe', 'ready', '--state-dir', probe.stateDir], expect: 0 },
    { name: 'usher-probe', label: '`usher-probe ready D`', argv: [USHER_PROBE, 'ready', probe.stateDir], expect: 0 },
    { name: 'usher-probe --docker', label: '`usher-probe --docker ready D`', argv: [USHER_PROBE, '--docker', 'ready', probe.stateDir], expect: 0 },
    { name: 'test -f', label: '`/usr/bin/test -f D/ready` (exec\'d directly)', argv: ['/usr/bin/test', '-f', marker], expect: 0 },
    { name: 'sh -c test', label: '`/bin/sh -c \'test -f D/ready\'` (shell builtin)', argv: ['/bin/sh', '-c', `test -f '${marker}'`], expect: 0 },
    { name: 'curl', label: '`curl -sf -o /dev/null http://…/readyz` (client process only)', argv: ['/usr/bin/curl', '-sf', '-o', '/dev/null', '--max-time', '5', probe.url], expect: 0 },
  ];
  // Not ready because a check fails: the path that reads and prints the reason and the check's last line.
  if (failing) {
    kinds.push(
      { name: 'usher-probe, failing', label: '`usher-probe ready F` (F: a check failing, exit 3)', argv: [USHER_PROBE, 'ready', failing.stateDir], expect: 3 },
      { name: 'usher-probe --docker, failing', label: '`usher-probe --docker ready F` (exit 1)', argv: [USHER_PROBE, '--docker', 'ready', failing.stateDir], expect: 1 },
    );
  }
  if (baseline) {
    kinds.push({ name: 'baseline', label: `baseline \`${baseline} ready D\``, argv: [baseline, 'ready', probe.stateDir], expect: 0 });
    if (failing) kinds.push({ name: 'baseline, failing', label: `baseline \`${baseline} ready F\` (exit 3)`, argv: [baseline, 'ready', failing.stateDir], expect: 3 });
  }
  return kinds.filter((k) => existsSync(k.argv[0]));
}

/** usher whose readiness check fails (`db replica lag 42s`, exit 17); resolves once its state says so (code 3). */
async function startFailingUsher() {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'usher-bench-'));
  tempDirs.add(stateDir);
  const check = 'echo db replica lag 42s; exit 17';
  const proc = new Proc([USHER, '--state-dir', stateDir, '--ready-cmd', check, '--check-failures', '1', '--check-interval', '1s', '--', 'sleep', '1000']);
  const readyCode = () => {
    try {
      return JSON.parse(readFileSync(path.join(stateDir, 'state.json'), 'utf8')).readyCode;
    } catch {
      return undefined; // not written yet, or caught between two writes
    }
  };
  try {
    await waitUntil(() => readyCode() === 3, 10_000, 'usher with a failing check: ready code 3');
    return { proc, stateDir };
  } catch (error) {
    await proc.stop();
    throw error;
  }
}

async function benchExecProbes(probe, spawner, { failing, baseline } = {}) {
  const kinds = execProbeKinds(probe, failing, baseline);
  const runOnce = spawner instanceof Error
    ? (argv) => {
        const start = nowNs();
        const run = spawnSync(argv[0], argv.slice(1), { stdio: 'ignore', timeout: 10_000 });
        return { wallMs: elapsedMs(start), cpuMs: NaN, code: run.status ?? undefined, signal: run.signal ?? undefined };
      }
    : (argv) => spawner.run(argv);
  const sample = async (kind) => {
    const run = runOnce(kind.argv);
    if (run.code !== kind.expect) throw new Error(`${kind.name}: ${run.signal ? `signal ${run.signal}` : `exit ${run.code}`}, not ${kind.expect}`);
    return run;
  };
  // One untimed round: the first run of each reads its files from disk, later ones from the page cache.
  for (const kind of kinds) runOnce(kind.argv);
  const results = await interleave(kinds, EXEC_ROUNDS, sample);
  if (probe.proc.exitCode !== undefined) throw new Error(`usher --http exited (${probe.proc.exitCode})`);
  if (failing && failing.proc.exitCode !== undefined) throw new Error(`usher with a failing check exited (${failing.proc.exitCode})`);
  return { kinds, results, cpuMeasured: !(spawner instanceof Error), cpuWhyNot: spawner instanceof Error ? spawner.message : undefined };
}

// ---------------------------------------------------------------------------------------------
// Report

const fmt = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '—');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '—');
const verdict = (ok) => (ok === undefined ? 'n/a' : ok ? 'yes' : '**NO**');

/** One table row: a statistic of each contender's samples, the ratios, and the target check. */
function row(label, results, stat, { unit, digits, floor, target = '', met, usherOnly = false } = {}) {
  const value = (name) => {
    const r = results?.get(name);
    return r && r.values.length ? stat(r.values) : NaN;
  };
  const cell = (name) => {
    if (usherOnly && name !== 'usher') return 'n/a';
    if (!results?.has(name)) return 'skipped';
    const v = value(name);
    return Number.isFinite(v) ? `${fmt(v, digits)} ${unit}` : 'failed';
  };
  const u = value('usher');
  const floorCell = floor === undefined ? '' : Number.isFinite(floor) ? `${fmt(floor, digits)} ${unit}` : '—';
  return `| ${label} | ${cell('usher')} | ${cell('tini')} | ${cell('dumb-init')} | ${floorCell} | ${ratio(u, value('tini'))} | ${ratio(u, value('dumb-init'))} | ${target} | ${met ? verdict(met(u)) : ''} |`;
}

/** A row whose only value is usher's, already formatted (a measurement tini and dumb-init have no counterpart of). */
function usherRow(label, text, target = '', met = '') {
  return `| ${label} | ${text} | n/a | n/a |  | — | — | ${target} | ${met} |`;
}

function probeRows(load) {
  const latencies = load ? new Map([['usher', { values: load.latencies, errors: [] }]]) : undefined;
  const n = load ? load.latencies.length : PROBE_LOAD.rate * PROBE_LOAD.seconds;
  const what = `\`GET /readyz\` at ${PROBE_LOAD.rate} req/s, new connection each`;
  const cpu = (part) => (load ? part(load) : 'failed');
  const perSecond = ({ cpuMs, wallMs }) => `${fmt(cpuMs / (wallMs / 1000), 1)} ms/s = ${fmt((100 * cpuMs) / wallMs, 2)}% of a core`;
  return [
    row(`${what}, p50 (n=${n})`, latencies, median, { unit: 'ms', digits: 3, usherOnly: true }),
    row(`${what}, p90`, latencies, (v) => percentile(v, 90), { unit: 'ms', digits: 3, usherOnly: true }),
    row(`${what}, p99`, latencies, (v) => percentile(v, 99), { unit: 'ms', digits: 3, usherOnly: true }),
    usherRow(`usher CPU during those ${PROBE_LOAD.seconds} s`, cpu((l) => perSecond(l.load))),
    usherRow('usher CPU per `/readyz` request', cpu((l) => {
      const gross = l.load.cpuMs / l.requests;
      const net = (l.load.cpuMs - (l.idle.cpuMs * l.load.wallMs) / l.idle.wallMs) / l.requests;
      return `${fmt(gross, 3)} ms (${fmt(net, 3)} ms net of idle)`;
    })),
    usherRow(`usher idle CPU, ${PROBE_LOAD.seconds} s without requests`, cpu((l) => perSecond(l.idle))),
  ];
}

/** Second table: what one probe costs, exec probes beside the HTTP probe. */
function probeTable(costs, load) {
  const lines = [
    '| probe, one call | wall p50 | wall p90 | CPU per call, mean | CPU per call, p90 | n |',
    '|---|---|---|---|---|---|',
  ];
  for (const kind of costs?.kinds ?? []) {
    const { values, errors } = costs.results.get(kind.name);
    const wall = values.map((v) => v.wallMs);
    const cpu = values.map((v) => v.cpuMs);
    const mean = cpu.length ? cpu.reduce((a, b) => a + b, 0) / cpu.length : NaN;
    const cpuCell = (v) => (costs.cpuMeasured ? `${fmt(v, 2)} ms` : 'not measured');
    const n = errors.length ? `${values.length} (+${errors.length} failed)` : `${values.length}`;
    lines.push(`| ${kind.label} | ${fmt(median(wall), 2)} ms | ${fmt(percentile(wall, 90), 2)} ms | ${cpuCell(mean)} | ${cpuCell(percentile(cpu, 90))} | ${n} |`);
  }
  if (!costs) lines.push('| exec probes | failed | | | | |');
  if (load === null) {
    // --only probes: no /readyz load was run
  } else if (load) {
    const perRequest = load.load.cpuMs / load.requests;
    lines.push(`| \`GET /readyz\`, in-process client, new connection (from the ${PROBE_LOAD.rate} req/s run) | ${fmt(median(load.latencies), 2)} ms | ${fmt(percentile(load.latencies, 90), 2)} ms | ${fmt(perRequest, 3)} ms (usher's side; no process) | — | ${load.latencies.length} |`);
  } else {
    lines.push('| `GET /readyz`, in-process client | failed | | | | |');
  }
  return lines.join('\n');
}

const TABLE_HEAD = [
  '| metric | usher | tini | dumb-init | node -e 0 | usher/tini | usher/dumb-init | target | met |',
  '|---|---|---|---|---|---|---|---|---|',
];

function table(r, probe = {}) {
  const floorMedian = r.startup ? median(r.startup.get('node -e 0').values) : NaN;
  const floorP90 = r.startup ? percentile(r.startup.get('node -e 0').values, 90) : NaN;
  const usherStartup = r.startup ? median(r.startup.get('usher').values) : NaN;
  const tiniBurst = r.burst?.get('tini')?.values.length ? median(r.burst.get('tini').values) : NaN;
  const drainValues = r.drain?.get('usher').values ?? [];
  const drainWorst = drainValues.length ? Math.max(...drainValues.map((v) => Math.abs(v - TARGET.drainMs))) : NaN;
  const usherOnly = (results) => (results ? new Map([['usher', results.get('usher')]]) : undefined);
  const p = (n) => (values) => percentile(values, n);
  return [
    ...TABLE_HEAD,
    row(`start-up \`X true\`, median (n=${SAMPLES.startup})`, r.startup, median, {
      unit: 'ms', digits: 1, floor: floorMedian,
      target: `≤ ${TARGET.startupVsNode}× node -e 0 (usher/node = ${ratio(usherStartup, floorMedian)})`,
      met: (u) => (Number.isFinite(u) && Number.isFinite(floorMedian) ? u <= TARGET.startupVsNode * floorMedian : undefined),
    }),
    row('start-up, p90', r.startup, p(90), { unit: 'ms', digits: 1, floor: floorP90 }),
    row(`signal forwarding, p50 (n=${SAMPLES.signal})`, r.signals, median, { unit: 'ms', digits: 3, floor: undefined }),
    row('signal forwarding, p90', r.signals, p(90), {
      unit: 'ms', digits: 3, target: `≤ ${TARGET.signalP90Ms} ms`,
      met: (u) => (Number.isFinite(u) ? u <= TARGET.signalP90Ms : undefined),
    }),
    row('signal forwarding, p99', r.signals, p(99), { unit: 'ms', digits: 3 }),
    row(`reap a ${ORPHANS}-orphan burst, median (n=${SAMPLES.burst})`, r.burst, median, {
      unit: 'ms', digits: 1, target: `≤ ${TARGET.burstVsTini}× tini`,
      met: (u) => (Number.isFinite(u) && Number.isFinite(tiniBurst) ? u <= TARGET.burstVsTini * tiniBurst : undefined),
    }),
    row(`idle RSS, median (n=${SAMPLES.rss})`, r.rss, median, {
      unit: 'MB', digits: 1, target: `≤ ${TARGET.rssMB} MB`,
      met: (u) => (Number.isFinite(u) ? u <= TARGET.rssMB : undefined),
    }),
    row(`drain 1s: SIGTERM → app TERM, median (n=${SAMPLES.drain}; worst ±${fmt(drainWorst, 1)} ms)`, usherOnly(r.drain), median, {
      unit: 'ms', digits: 1, target: `every sample ${TARGET.drainMs} ± ${TARGET.drainToleranceMs} ms`, usherOnly: true,
      met: () => (drainValues.length === SAMPLES.drain ? drainWorst <= TARGET.drainToleranceMs : drainValues.length ? false : undefined),
    }),
    ...probeRows(probe.load),
  ].join('\n');
}

function notes(r, skipped, probe = {}) {
  const lines = [];
  for (const [name, why] of skipped) lines.push(`- ${name} skipped: ${why}`);
  for (const [test, results] of Object.entries(r)) {
    if (!results) continue;
    for (const [name, { values, errors }] of results) {
      if (errors.length) lines.push(`- ${test}, ${name}: ${errors.length} failed sample(s) of ${values.length + errors.length}; first: ${errors[0]}`);
    }
  }
  lines.push(
    '- Start-up: wall time from spawn to exit, measured with spawnSync, usher with its default logging (to /dev/null).',
    '- Signal forwarding: send time taken just before kill(init, SIGUSR1); receipt time taken in the app\'s handler (CLOCK_MONOTONIC in both). The app is the same Node script under every init, so its own signal handling (one event-loop turn) is in every column.',
    `- Orphan burst: time from releasing ${ORPHANS} blocked orphans at once until none of them is left in /proc (exited and reaped), each init PID 1 of a new PID namespace. Includes the orphans' own exit, the same for all.`,
    '- Idle RSS: VmRSS of the init process itself (for usher, its Node process), app `sleep 1000`, 200 ms after the app started. MB = 10^6 bytes.',
  );
  const { load, costs } = probe;
  if (load?.failures) lines.push(`- \`GET /readyz\`: ${load.failures} of ${load.requests} requests failed or were not 200; first: ${load.firstFailure}`);
  if (costs) {
    for (const [name, { values, errors }] of costs.results) {
      if (errors.length) lines.push(`- exec probe ${name}: ${errors.length} failed run(s) of ${values.length + errors.length}; first: ${errors[0]}`);
    }
  }
  lines.push(
    `- \`GET /readyz\`: \`usher --http 127.0.0.1:0 --state-dir D -- sleep 1000\`; a Node http client in the bench process sends on an open-loop schedule (request i at i/${PROBE_LOAD.rate} s, whether or not earlier ones were answered), each on a new TCP connection with \`Connection: close\` (as kubelet's httpGet prober, which turns keep-alive off), after a ${PROBE_LOAD.warmupSeconds} s warm-up at the same rate. Latency: from the request's start (connect included) to the end of the response body.` +
      (load ? ` The client kept to its schedule within ${fmt(percentile(load.lagsMs, 99), 2)} ms at p99 (worst ${fmt(Math.max(...load.lagsMs), 2)} ms); latency max ${fmt(Math.max(...load.latencies), 2)} ms.` : ''),
    `- usher CPU: utime+stime of usher's Node process (all its threads) from /proc/PID/stat (${CLK_TCK} ticks/s), read before and after the ${PROBE_LOAD.seconds} s of requests; idle: the same ${PROBE_LOAD.seconds} s just before, without requests (its state heartbeat still runs). "Net of idle" subtracts the idle rate.`,
    `- Probe costs: ${EXEC_ROUNDS} interleaved rounds against the same running usher (D = its --state-dir; every call must exit 0), and F, the state dir of an usher whose readiness check fails (\`echo db replica lag 42s; exit 17\`; those calls must exit 3, or 1 with --docker). ` +
      (costs?.cpuMeasured === false
        ? `CPU not measured (${costs.cpuWhyNot}): wall from spawnSync only.`
        : 'Each process started with posix_spawn and reaped with wait4 (libc through koffi); CPU = its ru_utime+ru_stime in µs, including what it waited for (bin/usher\'s node, usher-probe\'s `date`). /usr/bin/time is not used: it prints these truncated to 10 ms, so every sample under 10 ms reads 0.00.') +
      ' This is the process inside the container only: a Kubernetes exec probe also pays the runtime\'s exec (containerd/runc, setns, fork), and the curl row\'s request costs usher its server side too (the CPU per request above).',
  );
  if (probe.loadavg) {
    const [atStart, beforeLoad, afterLoad, atEnd] = probe.loadavg;
    const busy = Math.max(...probe.loadavg.filter(Number.isFinite)) > 2;
    lines.push(`- Load average (1 min): ${fmt(atStart, 2)} at the start, ${fmt(beforeLoad, 2)} → ${fmt(afterLoad, 2)} across the \`/readyz\` load, ${fmt(atEnd, 2)} at the end (nproc ${os.availableParallelism()}).` +
      (busy ? ' **Above 2: other work was running on this machine during the bench; absolute numbers are inflated, the interleaved comparisons less so.**' : ''));
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

async function phase(title, run) {
  const start = nowNs();
  process.stdout.write(`${title} … `);
  try {
    const result = await run();
    console.log(`${(elapsedMs(start) / 1000).toFixed(1)} s`);
    return result;
  } catch (error) {
    console.log(`failed: ${error.message}`);
    return undefined;
  }
}

/** `--only SECTION`, or undefined for the whole bench. */
function onlyArgument() {
  const at = process.argv.indexOf('--only');
  if (at < 0) return undefined;
  const what = process.argv[at + 1];
  if (!SECTIONS.includes(what)) throw new Error(`--only ${what ?? ''}: the parts that run alone are ${SECTIONS.map((s) => `\`${s}\``).join(', ')}`);
  return what;
}

const marked = (name, text) => `${sectionBegin(name)}\n${text}\n${sectionEnd(name)}`;

/** `--baseline FILE` (with `--only probes`): another bin/usher-probe to run beside this one. */
function baselineArgument() {
  const at = process.argv.indexOf('--baseline');
  if (at < 0) return undefined;
  const file = process.argv[at + 1];
  if (!file || !existsSync(file)) throw new Error(`--baseline ${file ?? ''}: give the path of a usher-probe script`);
  return path.resolve(file);
}

/** `--only probes`: the exec-probe costs alone, printed; results.md is not touched. */
async function mainProbes() {
  CLK_TCK = clockTicksPerSecond();
  const baseline = baselineArgument();
  const env = environment(CONTENDERS.slice(0, 1));
  console.log(`${env.map((l) => `  ${l}`).join('\n')}\n`);
  const spawner = createSpawner();
  const probeUsher = await phase('usher --http for the probe benchmarks', startProbeUsher);
  const failing = await phase('usher with a failing readiness check', startFailingUsher);
  let costs;
  try {
    if (probeUsher) costs = await phase(`exec probes (${EXEC_ROUNDS} interleaved rounds)`, () => benchExecProbes(probeUsher, spawner, { failing, baseline }));
  } finally {
    if (!(spawner instanceof Error)) spawner.close();
    if (probeUsher) await stopProbeUsher(probeUsher);
    if (failing) await stopProbeUsher(failing);
  }
  console.log(`\n${probeTable(costs, null)}`);
  for (const [name, { values, errors }] of costs?.results ?? []) {
    if (errors.length) console.log(`- exec probe ${name}: ${errors.length} failed run(s) of ${values.length + errors.length}; first: ${errors[0]}`);
  }
  console.log(`- load average (1 min) at the end: ${fmt(os.loadavg()[0], 2)} (nproc ${os.availableParallelism()})`);
}

const portsContext = () => ({ Proc, phase, waitUntil, sleep, nowNs, elapsedMs, tempDirs, USHER, NODE });
const portsReport = (ports) => marked('ports', portsSection(ports, { percentile, median, clkTck: CLK_TCK }));
const nodeLinesContext = (available) => ({ available, interleave, timeOnce, rounds: SAMPLES.startup, USHER, tempDirs });
const nodeLinesReport = (r) => marked('node-lines', r
  ? nodeLinesSection(r, { median, percentile, row, ratio, head: TABLE_HEAD, target: TARGET.startupVsNode, builtWith: `node ${process.version} (${NODE})` })
  : '## start-up on each Node line\n\nfailed (see the bench\'s output)');

/** The section `name` alone, written in place of the one results.md has (or added to it). */
async function mainSection(name) {
  CLK_TCK = clockTicksPerSecond();
  const skipped = name === 'node-lines' ? ensureTools() : new Map();
  const available = name === 'node-lines' ? CONTENDERS.filter((c) => !skipped.has(c.name)) : CONTENDERS.slice(0, 1);
  const env = environment(available);
  console.log(`${env.map((l) => `  ${l}`).join('\n')}\n`);
  for (const [contender, why] of skipped) console.log(`skipping ${contender}: ${why}`);
  const section = name === 'ports'
    ? portsReport(await benchPorts(portsContext()))
    : nodeLinesReport(await phase(`start-up on each Node line (${SAMPLES.startup} interleaved rounds)`, () => benchNodeLines(nodeLinesContext(available))));
  console.log(`\n${section}`);
  const old = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : undefined;
  const [from, to] = old ? [old.indexOf(sectionBegin(name)), old.indexOf(sectionEnd(name))] : [-1, -1];
  let report;
  if (old && from >= 0 && to > from) report = `${old.slice(0, from)}${section}${old.slice(to + sectionEnd(name).length)}`;
  else if (old) report = `${old.trimEnd()}\n\n${section}\n`;
  else report = [`# usher benchmark — ${new Date().toISOString()} (${name} section only)`, '', '```', ...env, '```', '', section, ''].join('\n');
  writeFileSync(RESULTS, report);
  console.log(`\nwritten to ${path.relative(process.cwd(), RESULTS) || RESULTS}`);
}

async function main() {
  if (!existsSync(path.join(ROOT, 'dist', 'usher.cjs'))) throw new Error('dist/usher.cjs is missing: run `npm run bench` (it builds first)');
  const only = onlyArgument();
  if (only === 'probes') return mainProbes();
  if (only) return mainSection(only);
  const skipped = ensureTools();
  CLK_TCK = clockTicksPerSecond();
  const loadavgAtStart = os.loadavg()[0];
  const available = CONTENDERS.filter((c) => !skipped.has(c.name));
  const env = environment(available);
  console.log(env.map((l) => `  ${l}`).join('\n'));
  for (const [name, why] of skipped) console.log(`skipping ${name}: ${why}`);
  console.log();

  const results = {};
  results.startup = await phase(`start-up (${SAMPLES.startup} interleaved rounds)`, () => benchStartup(available));
  const nodeLines = await phase(`start-up on each Node line (${SAMPLES.startup} interleaved rounds)`, () => benchNodeLines(nodeLinesContext(available)));
  results.signals = await phase(`signal forwarding (${SAMPLES.signal} interleaved rounds)`, () => benchSignals(available));
  const noNamespace = namespaceSupport();
  if (noNamespace) {
    console.log(`orphan burst skipped: ${noNamespace}`);
    skipped.set('orphan burst', noNamespace);
  } else {
    results.burst = await phase(`orphan burst (${SAMPLES.burst} interleaved rounds of ${ORPHANS})`, () => benchBurst(available));
  }
  results.rss = await phase(`idle RSS (${SAMPLES.rss} interleaved rounds)`, () => benchRss(available));
  results.drain = await phase(`drain 1s (${SAMPLES.drain} samples, usher only)`, benchDrain);

  const probe = {};
  const spawner = createSpawner();
  const probeUsher = await phase('usher --http for the probe benchmarks', startProbeUsher);
  const failing = await phase('usher with a failing readiness check', startFailingUsher);
  try {
    if (probeUsher) {
      probe.load = await phase(
        `GET /readyz at ${PROBE_LOAD.rate}/s (${PROBE_LOAD.warmupSeconds} s warm-up, ${PROBE_LOAD.seconds} s idle, ${PROBE_LOAD.seconds} s load)`,
        () => benchProbeServer(probeUsher),
      );
      probe.costs = await phase(`exec probes (${EXEC_ROUNDS} interleaved rounds)`, () => benchExecProbes(probeUsher, spawner, { failing }));
    }
  } finally {
    if (!(spawner instanceof Error)) spawner.close();
    if (probeUsher) await stopProbeUsher(probeUsher);
    if (failing) await stopProbeUsher(failing);
  }
  probe.loadavg = [loadavgAtStart, ...(probe.load?.loadavg ?? [NaN, NaN]), os.loadavg()[0]];
  const ports = await benchPorts(portsContext());

  const tables = `${table(results, probe)}\n\n## probe costs\n\n${probeTable(probe.costs, probe.load)}\n\n${notes(results, skipped, probe)}\n\n${nodeLinesReport(nodeLines)}\n\n${portsReport(ports)}`;
  const report = [
    `# usher benchmark — ${new Date().toISOString()}`,
    '',
    '```',
    ...env,
    '```',
    '',
    tables,
    '',
  ].join('\n');
  console.log(`\n${tables}`);
  writeFileSync(RESULTS, report);
  console.log(`\nwritten to ${path.relative(process.cwd(), RESULTS) || RESULTS}`);
}

process.on('exit', killEverything);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    console.error(`\nbench: ${signal}, stopping`);
    process.exit(130);
  });
}
setTimeout(() => {
  console.error(`bench: still running after ${OVERALL_TIMEOUT_MS / 60_000} minutes, giving up`);
  process.exit(1);
}, OVERALL_TIMEOUT_MS).unref();

main().catch((error) => {
  console.error(`bench: ${error.message}`);
  process.exitCode = 1;
});
