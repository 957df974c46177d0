// The app every init runs for the signal benchmarks. The same file for usher, tini and dumb-init,
// so its own signal-handling latency (Node's signal pipe, one event-loop turn) is the same for all
// of them and cancels out in the ratios.
//
// stdout protocol, one line each: "ready" once the handlers are in place, then
// "<SIGNAL> <hrtime ns>" for every SIGUSR1/SIGTERM received. process.hrtime.bigint() reads
// CLOCK_MONOTONIC, which is one clock for every process on the machine, so the bench can subtract
// its own send time from it.
import { writeSync } from 'node:fs';

function report(signal) {
  // writeSync: the line must leave before a TERM makes us exit, and no stream buffering may delay it.
  writeSync(1, `${signal} ${process.hrtime.bigint()}\n`);
}

process.on('SIGUSR1', () => report('SIGUSR1'));
process.on('SIGTERM', () => {
  report('SIGTERM');
  process.exit(0);
});
// Stay alive until told otherwise; the bench bounds every run, this only guards against a lost bench.
setTimeout(() => process.exit(3), 120_000);
writeSync(1, 'ready\n');
