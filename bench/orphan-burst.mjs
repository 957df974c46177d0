// The app for the orphan-burst benchmark. It must run as the child of an init that is PID 1 of
// its own PID namespace (unshare --pid --fork --mount-proc INIT node orphan-burst.mjs), so that
// every process in /proc is either PID 1, this app, or one of our orphans.
//
// 1. A shell forks COUNT orphans: each `( read x <&3 & )` is a subshell that backgrounds a
//    blocking read and exits at once, so the reader's parent is gone and the kernel hands it to
//    PID 1. The readers share a read-only descriptor of a FIFO whose only writer is us.
//    (Not the shell's stdin pipe: Node closes that when the shell exits, which would release the
//    orphans early.)
// 2. Closing our end gives every reader EOF at the same moment: 2,000 exits in one burst.
// 3. We poll /proc until no orphan is left, not even as a zombie (a zombie stays in /proc until
//    its parent reaps it), and print the elapsed time as one JSON line on stdout. Waiting for the
//    pids to vanish, rather than for "no process in state Z", also covers the first instant, when
//    the orphans have not exited yet and there is no zombie. Only a plain readdir per pass: reading
//    2,000 stat files each time would steal the CPU the init needs for reaping.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const COUNT = Number(process.argv[2] ?? 2000);
const DEADLINE_MS = 30_000;
const FORK_LOOP = `exec 3<"$1"; i=0; while [ $i -lt ${COUNT} ]; do (read x <&3 &); i=$((i+1)); done`;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Pids of every process in this namespace except PID 1 (the init) and us. */
function others() {
  return readdirSync('/proc').filter((name) => /^\d+$/.test(name) && name !== '1' && name !== String(process.pid));
}

function zombieCount(pids) {
  let zombies = 0;
  for (const pid of pids) {
    try {
      // The state is the first field after "(comm)"; comm may contain spaces, so split after ')'.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') zombies++;
    } catch {
      // gone between readdir and read: reaped, which is what we wait for
    }
  }
  return zombies;
}

function finish(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(result.error ? 1 : 0));
}

async function main() {
  if (process.pid === 1 || others().length > 0) return finish({ error: 'not alone in a fresh PID namespace' });
  const dir = mkdtempSync(path.join(tmpdir(), 'usher-burst-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const fifo = path.join(dir, 'barrier');
  execFileSync('mkfifo', [fifo]);
  // O_RDWR never blocks on a FIFO (Linux), so the shell's read-only open below does not block
  // either. Node opens with O_CLOEXEC: neither the shell nor the orphans hold this writer.
  const writer = openSync(fifo, 'r+');
  // stdio 'ignore': the orphans must not hold the init's stdout, which the bench reads to the end.
  const shell = spawn('sh', ['-c', FORK_LOOP, 'sh', fifo], { stdio: ['ignore', 'ignore', 'inherit'] });
  const code = await new Promise((resolve) => shell.on('exit', resolve));
  const orphans = others().length;
  if (code !== 0 || orphans !== COUNT) {
    closeSync(writer);
    return finish({ error: `fork loop exited ${code} with ${orphans} of ${COUNT} orphans` });
  }

  const start = process.hrtime.bigint();
  closeSync(writer); // the barrier: every orphan reads EOF now and exits
  for (;;) {
    const left = others();
    const elapsedMs = Number(process.hrtime.bigint() - start) / 1e6;
    if (left.length === 0) return finish({ ms: elapsedMs });
    if (elapsedMs > DEADLINE_MS) return finish({ error: `timeout: ${left.length} left, ${zombieCount(left)} zombies`, ms: elapsedMs });
    await sleep(1); // yield a core to the init and the exiting orphans on small machines
  }
}

main().catch((error) => finish({ error: String(error) }));
