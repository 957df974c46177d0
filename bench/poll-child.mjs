// The process that measures usher's readiness poll (bench/ports.mjs starts it): it requires a
// bundle of the real src/ports/listeners.ts (and, for the drain-idle row, src/sys/sock-diag.ts
// and src/sys/proc.ts), made with esbuild as scripts/build.mjs makes usher's, and times calls
// into it against servers the bench started.
//
//   node poll-child.mjs '<json>'   {bundle, servers: [{name, pid, port, connections}], polls, spacedPolls, spacedGapMs, coldPolls, drainPolls, floorPolls}
//
// CPU per call: process.cpuUsage() deltas (user + system, µs; getrusage, which Linux computes
// from the scheduler's nanosecond runtime of the calling thread). Wall per call: hrtime. Samples
// of the servers alternate (rotated each round) and are spaced by a 1 ms timer, so no call runs
// back to back with the previous one; the "spaced" series waits spacedGapMs between calls, as
// usher's port watch does (1000 ms once ready), long enough for the caches to go cold.
// stdout: one JSON line with every sample, or {"error": "..."}.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const options = JSON.parse(process.argv[2] ?? '{}');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const fallbacks = [];

function timed(call) {
  const wall = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const result = call();
  const used = process.cpuUsage(cpu);
  return { cpuUs: used.user + used.system, wallUs: Number(process.hrtime.bigint() - wall) / 1000, result };
}

/** `rounds` rounds, each one sample per server in a rotated order; `check` says what is wrong with a result. */
async function rounds(servers, count, call, check, gapMs = 1) {
  const samples = Object.fromEntries(servers.map((s) => [s.name, { cpuUs: [], wallUs: [], failures: 0, firstFailure: undefined }]));
  for (let round = 0; round < count; round++) {
    const shift = round % servers.length;
    for (const server of [...servers.slice(shift), ...servers.slice(0, shift)]) {
      const sample = timed(() => call(server));
      const s = samples[server.name];
      s.cpuUs.push(sample.cpuUs);
      s.wallUs.push(sample.wallUs);
      const wrong = check(server, sample.result);
      if (wrong) {
        s.failures += 1;
        s.firstFailure ??= wrong;
      }
      await sleep(gapMs);
    }
  }
  return samples;
}

const listens = (server, found) => {
  if (!found) return 'find() returned undefined (usher cannot look)';
  return found.some((l) => l.port === server.port && l.pid === server.pid) ? undefined : `no listener of pid ${server.pid} on :${server.port} in ${JSON.stringify(found)}`;
};

async function main() {
  const { ListenerFinder, connections, listeningSockets, tcpPassiveOpens } = require(options.bundle);
  const servers = options.servers;
  const onFallback = (why) => fallbacks.push(why);
  const newFinder = (server) => new ListenerFinder(() => [server.pid], onFallback);

  // The cost of the measurement itself: two cpuUsage() and two hrtime calls around nothing.
  const floor = [];
  for (let i = 0; i < options.floorPolls; i++) floor.push(timed(() => undefined).cpuUs);

  // Reused finder, as usher keeps one (src/supervisor/adapters.ts): its first call walks the
  // app's descriptors once; every later one is a sock_diag LISTEN dump and one readlink.
  const finders = new Map(servers.map((s) => [s.name, newFinder(s)]));
  for (let i = 0; i < 50; i++) for (const s of servers) finders.get(s.name).find([s.port]); // warm-up: JIT, the first walk
  const warm = await rounds(servers, options.polls, (s) => finders.get(s.name).find([s.port]), listens);
  const spaced = await rounds(servers, options.spacedPolls, (s) => finders.get(s.name).find([s.port]), listens, options.spacedGapMs);

  // A new finder each call: nothing remembered, so every call walks the app's /proc/PID/fd.
  const cold = await rounds(servers, options.coldPolls, (s) => newFinder(s).find([s.port]), listens);

  // What one --drain-idle poll asks (src/ports/drain-traffic.ts lastActivity): every connection
  // on the port with its tcp_info, both families as drain-traffic.ts asks; the listeners'
  // accept queues; the namespace's PassiveOpens. And the same connections() asked for IPv4 only.
  const drainCall = (s) => {
    const found = connections([s.port]);
    listeningSockets([s.port]);
    tcpPassiveOpens();
    return found.length;
  };
  const expectConnections = (s, n) => (n >= s.connections ? undefined : `${n} connections seen, ${s.connections} expected`);
  const drain = await rounds(servers, options.drainPolls, drainCall, expectConnections);
  const drainV4 = await rounds(servers, options.drainPolls, (s) => connections([s.port], [4]).length, expectConnections);

  return { floor, warm, spaced, cold, drain, drainV4, fallbacks };
}

main().then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0)),
  (error) => process.stdout.write(`${JSON.stringify({ error: String(error?.stack ?? error), fallbacks })}\n`, () => process.exit(1)),
);
