// The two ends of the established connections that the readiness-poll benchmark puts on a port
// (bench/ports.mjs). Two processes, so that the listener's process holds only the server ends,
// as an app would. Both need `ulimit -n` above the connection count (the bench runs them
// through `sh -c 'ulimit -n …; exec node …'`).
//
//   node conn-peer.mjs server            listens on 127.0.0.1:0, accepts and holds every connection;
//                                        stdout: "listening <port>", then "accepted <n>" at every 1,000th
//   node conn-peer.mjs client PORT N B   opens N connections to 127.0.0.1:PORT, B at a time (the next
//                                        batch once the last one is connected); stdout: "connected <n>"
//                                        at every batch, or "error <why>"; holds them until killed
//
// Nothing is ever sent on the connections. Both exit by themselves after 5 minutes, should the
// bench be lost.
import { writeSync } from 'node:fs';
import net from 'node:net';

const say = (line) => writeSync(1, `${line}\n`);
setTimeout(() => process.exit(3), 300_000).unref();
const held = []; // every socket stays referenced until we exit

function server() {
  let accepted = 0;
  const listener = net.createServer((socket) => {
    held.push(socket);
    socket.on('error', () => {});
    accepted += 1;
    if (accepted % 1000 === 0) say(`accepted ${accepted}`);
  });
  listener.on('error', (error) => {
    say(`error ${error.message}`);
    process.exit(1);
  });
  // A backlog the size of a batch and more: a batch never waits for accept() to make room.
  listener.listen(0, '127.0.0.1', 4096, () => say(`listening ${listener.address().port}`));
  // Keep the event loop alive without the listener's help, should it ever be closed.
  setInterval(() => {}, 60_000);
}

async function client(port, count, batch) {
  const connectOne = () => new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => reject(new Error('connect took over 10 s')), 10_000);
    socket.once('connect', () => {
      clearTimeout(timer);
      held.push(socket);
      resolve();
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  let connected = 0;
  try {
    while (connected < count) {
      const n = Math.min(batch, count - connected);
      await Promise.all(Array.from({ length: n }, connectOne));
      connected += n;
      say(`connected ${connected}`);
    }
  } catch (error) {
    say(`error after ${connected}: ${error.message}`);
    process.exit(1);
  }
  setInterval(() => {}, 60_000);
}

const [mode, port, count, batch] = process.argv.slice(2);
if (mode === 'server') server();
else if (mode === 'client') void client(Number(port), Number(count), Number(batch));
else {
  say('error usage: conn-peer.mjs server | client PORT N BATCH');
  process.exit(2);
}
