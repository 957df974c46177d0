// A tiny HTTP app to run under usher: `usher -- node examples/server.js`.
// No dependencies on purpose, so it runs in any node image without an install step.
import { writeSync } from 'node:fs';
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 8080);
// 0.0.0.0 by default: in a container, a server on 127.0.0.1 is unreachable from outside it.
const host = process.env.HOST ?? '0.0.0.0';
const log = (message) => process.stderr.write(`[server ${process.pid}] ${message}\n`);

let requests = 0;
let stopping = false;
const server = createServer((request, response) => {
  requests += 1;
  // ?delay=MS makes a slow request, to watch a graceful stop finish it instead of cutting it.
  const delay = Math.min(Number(new URL(request.url ?? '/', 'http://x').searchParams.get('delay')) || 0, 30_000);
  const n = requests;
  setTimeout(() => {
    // While stopping, tell keep-alive clients to reconnect (elsewhere) so close() can finish.
    if (stopping) response.setHeader('Connection', 'close');
    response.writeHead(200, { 'Content-Type': 'text/plain' });
    response.end(`hello from pid ${process.pid}, request #${n}\n`);
  }, delay);
});

server.listen(port, host, () => {
  log(`listening on ${host}:${port}`);
  // Under `usher --ready-fd N`, a newline on fd N says "ready" (s6's notification-fd).
  if (process.env.READY_FD) writeSync(Number(process.env.READY_FD), '\n');
});
server.on('error', (error) => {
  log(`cannot listen on ${host}:${port}: ${error.message}`);
  process.exit(1);
});

// The graceful stop usher's --stop-signal starts: stop accepting, let in-flight requests finish,
// then exit 0 so the platform counts the stop as clean. usher's --grace bounds how long this may take.
function stop(signal) {
  if (stopping) return log(`${signal} again: already stopping`);
  stopping = true;
  log(`${signal} received: no new connections, finishing in-flight requests`);
  server.close(() => {
    log('all requests done, exiting 0');
    process.exit(0);
  });
  // Idle keep-alive connections would hold close() open until they time out: drop them now.
  server.closeIdleConnections();
}
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));

// usher forwards every other signal; a real app would re-read its configuration here.
process.on('SIGHUP', () => log('SIGHUP received: reloading (nothing to reload in this demo)'));
