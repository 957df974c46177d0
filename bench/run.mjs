// usher side by side with tini and dumb-init (issue 2 "Benchmark", issue 3 "Benchmark").
//
// Every measurement is interleaved: each round takes one sample of every contender, in a rotated
// order, so that a noisy neighbour, a CPU frequency change or a warm page cache hits all contenders
// alike instead of whichever happened to run during it. Medians, not means: one descheduling can
// cost more than the thing measured.
//
// Usage: npm run bench   (builds first; writes bench/results.md)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(HERE);
const USHER = path.join(ROOT, 'bin', 'usher');
// The same Node for the floor, the apps and usher itself (bin/usher runs `node` from PATH).
const NODE = process.execPath;
const SIGNAL_APP = path.join(HERE, 'signal-app.mjs');
const BURST_APP = path.join(HERE, 'orphan-burst.mjs');
const RESULTS = path.join(HERE, 'results.md');

const SAMPLES = { startup: 50, signal: 300, burst: 5, rss: 5, drain: 10 };
const ORPHANS = 2000;
const TARGET = { startupVsNode: 1.25, signalP90Ms: 1, burstVsTini: 2, rssMB: 60, drainMs: 1000, drainToleranceMs: 50 };
// The whole run must stay bounded even if something hangs in a way no single timeout catches.
const OVERALL_TIMEOUT_MS = 6 * 60_000;

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
  constructor(argv) {
    this.argv = argv;
    this.child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
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

function timeOnce(argv) {
  const start = nowNs();
  // spawnSync: no event loop between the fork and the wait, so nothing of the bench's own lands in the sample.
  const run = spawnSync(argv[0], argv.slice(1), { stdio: 'ignore', timeout: 10_000 });
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
// 5. Drain (issue 3): with --drain 1s, SIGTERM to usher until the app gets its TERM. usher only.

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
// Report

const fmt = (value, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '—');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '—');
const verdict = (ok) => (ok === undefined ? 'n/a' : ok ? 'yes' : '**NO**');

/** One table row: a statistic of each contender's samples, the ratios, and the target check. */
function row(label, results, stat, { unit, digits, floor, target = '', met } = {}) {
  const value = (name) => {
    const r = results?.get(name);
    return r && r.values.length ? stat(r.values) : NaN;
  };
  const cell = (name) => {
    if (!results?.has(name)) return 'skipped';
    const v = value(name);
    return Number.isFinite(v) ? `${fmt(v, digits)} ${unit}` : 'failed';
  };
  const u = value('usher');
  const floorCell = floor === undefined ? '' : Number.isFinite(floor) ? `${fmt(floor, digits)} ${unit}` : '—';
  return `| ${label} | ${cell('usher')} | ${cell('tini')} | ${cell('dumb-init')} | ${floorCell} | ${ratio(u, value('tini'))} | ${ratio(u, value('dumb-init'))} | ${target} | ${met ? verdict(met(u)) : ''} |`;
}

function table(r) {
  const floorMedian = r.startup ? median(r.startup.get('node -e 0').values) : NaN;
  const floorP90 = r.startup ? percentile(r.startup.get('node -e 0').values, 90) : NaN;
  const usherStartup = r.startup ? median(r.startup.get('usher').values) : NaN;
  const tiniBurst = r.burst?.get('tini')?.values.length ? median(r.burst.get('tini').values) : NaN;
  const drainValues = r.drain?.get('usher').values ?? [];
  const drainWorst = drainValues.length ? Math.max(...drainValues.map((v) => Math.abs(v - TARGET.drainMs))) : NaN;
  const usherOnly = (results) => (results ? new Map([['usher', results.get('usher')]]) : undefined);
  const p = (n) => (values) => percentile(values, n);
  return [
    '| metric | usher | tini | dumb-init | node -e 0 | usher/tini | usher/dumb-init | target | met |',
    '|---|---|---|---|---|---|---|---|---|',
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
      unit: 'ms', digits: 1, target: `every sample ${TARGET.drainMs} ± ${TARGET.drainToleranceMs} ms`,
      met: () => (drainValues.length === SAMPLES.drain ? drainWorst <= TARGET.drainToleranceMs : drainValues.length ? false : undefined),
    }),
  ].join('\n');
}

function notes(r, skipped) {
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

async function main() {
  if (!existsSync(path.join(ROOT, 'dist', 'usher.cjs'))) throw new Error('dist/usher.cjs is missing: run `npm run bench` (it builds first)');
  const skipped = ensureTools();
  const available = CONTENDERS.filter((c) => !skipped.has(c.name));
  const env = environment(available);
  console.log(env.map((l) => `  ${l}`).join('\n'));
  for (const [name, why] of skipped) console.log(`skipping ${name}: ${why}`);
  console.log();

  const results = {};
  results.startup = await phase(`start-up (${SAMPLES.startup} interleaved rounds)`, () => benchStartup(available));
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

  const report = [
    `# usher benchmark — ${new Date().toISOString()}`,
    '',
    '```',
    ...env,
    '```',
    '',
    table(results),
    '',
    notes(results, skipped),
    '',
  ].join('\n');
  console.log(`\n${table(results)}\n\n${notes(results, skipped)}`);
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
