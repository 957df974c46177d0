// The client of the --drain-idle samples (bench/ports.mjs): a process of its own, so that it can
// run in the network namespace of the usher it measures (through nsenter).
//
//   node trickle-client.mjs PORT USHER_PID EVERY_MS BEFORE_MS AFTER_MS
//
// Connects to 127.0.0.1:PORT, writes one byte every EVERY_MS; once it has done so for BEFORE_MS
// it sends SIGTERM to USHER_PID; the first byte AFTER_MS or more after the TERM is the last.
// stdout, one line each: "connected", "term <hrtime ns>" (just before the kill), "last <hrtime
// ns>" (just after the last write returned), or "error <why>". It then holds the connection,
// idle, until it is killed (or for 60 s).
import { writeSync } from 'node:fs';
import net from 'node:net';

const [port, usherPid, everyMs, beforeMs, afterMs] = process.argv.slice(2).map(Number);
const say = (line) => writeSync(1, `${line}\n`);
const now = () => process.hrtime.bigint();
const msSince = (ns) => Number(now() - ns) / 1e6;
const fail = (why) => {
  say(`error ${why}`);
  process.exit(1);
};
setTimeout(() => process.exit(0), 60_000).unref();

const socket = net.connect({ host: '127.0.0.1', port });
const connectTimer = setTimeout(() => fail('connect: no answer within 2000 ms'), 2000);
socket.on('error', (error) => fail(error.message));
socket.once('connect', () => {
  clearTimeout(connectTimer);
  socket.setNoDelay(true);
  say('connected');
  const began = now();
  let term;
  const timer = setInterval(() => {
    if (term === undefined && msSince(began) >= beforeMs) {
      term = now();
      say(`term ${term}`);
      try {
        process.kill(usherPid, 'SIGTERM');
      } catch (error) {
        fail(`kill ${usherPid}: ${error.message}`);
      }
    }
    socket.write('x');
    const last = now();
    if (term !== undefined && Number(last - term) / 1e6 >= afterMs) {
      clearInterval(timer);
      say(`last ${last}`);
      // The app exits with this connection open: the reset that follows is expected.
      socket.removeAllListeners('error');
      socket.on('error', () => {});
      setInterval(() => {}, 60_000);
    }
  }, everyMs);
});
