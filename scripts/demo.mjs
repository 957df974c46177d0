// `npm start` (after install and build): runs examples/server.js under usher, with a short drain
// and the HTTP server, and says how to poke at it. Ctrl-C stops it the way a platform would.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const usherBin = fileURLToPath(new URL('../bin/usher', import.meta.url));
if (!existsSync(new URL('../dist/usher.cjs', import.meta.url))) {
  console.error('demo: dist/usher.cjs is missing: run `npm run build` first (or just `npm start`)');
  process.exit(1);
}

const appPort = process.env.PORT || '8080';
const probe = process.env.USHER_HTTP || '127.0.0.1:8081';
// USHER_HTTP may be PORT or HOST:PORT (IPv6 as [::1]:PORT); curl a wildcard bind through localhost.
const [, bracketed, plain, probePort] = /^(?:\[([^\]]+)\]:|([^:]*):)?(\d+)$/.exec(probe.trim()) ?? [];
const probeHost = bracketed ?? plain ?? '';
const curlHost = ['', '0.0.0.0', '::'].includes(probeHost) ? 'localhost' : probeHost.includes(':') ? `[${probeHost}]` : probeHost;

// Flags win over USHER_* variables, so pass a demo default only where the user set nothing.
const drain = process.env.USHER_DRAIN || '2s';
const grace = process.env.USHER_GRACE || '5s';
// A temp state dir, so the demo needs no /run/usher. Readiness needs no flag: PORT is set, so
// usher reports ready once the app listens on it.
const stateDir = process.env.USHER_STATE_DIR || mkdtempSync(path.join(tmpdir(), 'usher-demo-'));
const flags = ['--http', probe, '--state-dir', stateDir];
if (!process.env.USHER_LOG_FORMAT) flags.push('--log-format', 'text');
if (!process.env.USHER_DRAIN) flags.push('--drain', drain);
if (!process.env.USHER_GRACE) flags.push('--grace', grace);

// detached: usher gets a session and process group of its own. Ctrl-C makes the terminal signal
// the whole foreground group (npm, sh, this script) and npm forwards its copy as well; had usher
// been in that group it would count two or three INTs for one keypress, and the second ends the
// drain. Here only this script hears the terminal, and it passes one INT on.
const usher = spawn(usherBin, [...flags, '--', process.execPath, 'examples/server.js'], {
  cwd: root,
  stdio: 'inherit',
  detached: true,
  // The demo binds the app to loopback unless HOST says otherwise; in a container it is 0.0.0.0.
  env: { ...process.env, PORT: appPort, HOST: process.env.HOST || '127.0.0.1' },
});

usher.on('error', (error) => {
  console.error(`demo: cannot start ${usherBin}: ${error.message}`);
  process.exit(1);
});

usher.on('exit', (code, signal) => {
  const status = code ?? 128 + (constants.signals[signal] ?? 0);
  console.log(`demo: usher exited ${signal ? `on ${signal}` : `with code ${code}`}; exiting ${status}`);
  process.exit(status);
});

// If this script dies first (an exception, a kill), do not leave usher and the app behind. A TERM
// gives the app its graceful stop; SIGKILL would orphan it in its own session.
process.on('exit', () => {
  if (usher.pid && usher.exitCode === null && usher.signalCode === null) usher.kill('SIGTERM');
});

// One INT per Ctrl-C: the copies that arrive within a moment of each other are one keypress.
// A later Ctrl-C goes through, so pressing it twice still means "skip the drain".
const DUPLICATE_WINDOW_MS = 300;
let lastForwarded = -Infinity;
const forward = (signal) => {
  const now = performance.now();
  if (now - lastForwarded < DUPLICATE_WINDOW_MS) return;
  lastForwarded = now;
  console.error(`demo: ${signal} received, sending SIGINT to usher (pid ${usher.pid})`);
  try {
    usher.kill('SIGINT');
  } catch {
    // usher is already gone: its 'exit' event ends this script
  }
};
// SIGHUP here means the terminal went away: stop too, rather than leave the app running.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => forward(signal));

// The banner, once the HTTP server answers (so it is not buried under the start-up logs).
async function banner() {
  const url = `http://${curlHost === 'localhost' ? '127.0.0.1' : curlHost}:${probePort}/status`;
  for (let tries = 0; tries < 30; tries += 1) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(500) }).then(() => true, () => false);
    if (ok || usher.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (usher.exitCode !== null || usher.signalCode !== null) return;
  console.log(`
  usher (pid ${usher.pid}) is running examples/server.js (drain ${drain}, grace ${grace})
    curl localhost:${appPort}/               the app
    curl -i ${curlHost}:${probePort}/readyz         readiness: 200, or 503 once a stop began
    curl ${curlHost}:${probePort}/status            the state: phase, probes, checks, reasons
    curl ${curlHost}:${probePort}/metrics           Prometheus metrics
    bin/usher probe ready --state-dir ${stateDir}; echo $?     exec probe (0 = ready)
    bin/usher-probe ready ${stateDir}; echo $?                 the same in sh, about 2 ms
    bin/usher status --state-dir ${stateDir}                   summary and start-up timeline
    kill -HUP ${usher.pid}                    forwarded to the app ("reloading")
  Ctrl-C: unready at once, ${drain} drain (the app keeps serving), then SIGINT to the app.
  Ctrl-C twice: skip the drain; more are passed on to the app. SIGKILL only after ${grace}.
`);
}
banner();
