// The app for the port benchmarks (bench/ports.mjs), run under usher.
//
//   node port-app.mjs http   a small HTTP server (200 "ok"), for the idle-CPU comparison
//   node port-app.mjs sink   a TCP server that reads and discards, for the drain-idle samples
//
// Listens on 127.0.0.1:$PORT, else 127.0.0.1:$APP_PORT (the usher that must not watch a port
// gets no PORT). stdout protocol, one line each: "listening <port>" once bound, then
// "SIGTERM <Date.now()> <hrtime ns>" when the TERM arrives (the bench subtracts its own
// CLOCK_MONOTONIC times from the hrtime; Date.now() is there for people), then it exits 0.
import { writeSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';

const mode = process.argv[2] ?? 'http';
const port = Number(process.env.PORT || process.env.APP_PORT);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  writeSync(2, 'port-app: PORT or APP_PORT must hold a port number\n');
  process.exit(2);
}

const server = mode === 'sink'
  ? net.createServer((socket) => {
      socket.on('data', () => {}); // read and discard: the bytes only have to arrive
      socket.on('error', () => {});
    })
  : http.createServer((request, response) => {
      request.resume();
      response.end('ok\n');
    });

process.on('SIGTERM', () => {
  // writeSync: the line must leave before we exit, with no stream buffering in between.
  writeSync(1, `SIGTERM ${Date.now()} ${process.hrtime.bigint()}\n`);
  process.exit(0);
});
// The bench bounds every run; this only guards against a lost bench.
setTimeout(() => process.exit(3), 300_000).unref();
server.on('error', (error) => {
  writeSync(2, `port-app: ${error.message}\n`);
  process.exit(1);
});
server.listen(port, '127.0.0.1', () => writeSync(1, `listening ${server.address().port}\n`));
