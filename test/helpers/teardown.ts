import { readFileSync } from 'node:fs';
import { afterAll } from 'vitest';
import { loadLibc } from '../../src/sys/libc.js';
import { listChildren, readStat } from '../../src/sys/proc.js';

/**
 * Every test file runs in a worker of its own (vitest's forks pool). The worker is made a child
 * subreaper, so whatever a test starts stays below it even when it escapes its parent (setsid,
 * a double fork, a SIGKILLed usher), and after the file's last test nothing may be left: what
 * still runs then is killed and the file fails, naming it.
 */
const libc = loadLibc();
if (libc instanceof Error) throw new Error(`the test teardown needs koffi: ${libc.message}`);
if (!libc.setChildSubreaper()) throw new Error('the test teardown could not make the worker a child subreaper');

/** How long processes a test just ended may take to go (an usher finishing its stop). */
const SETTLE_MS = 5000;

function running(): number[] {
  return (listChildren() ?? []).filter((pid) => {
    const state = readStat(pid)?.state;
    return state !== undefined && state !== 'Z' && state !== 'X';
  });
}

function nameOf(pid: number): string {
  try {
    return `${pid} (${readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').trim()})`;
  } catch {
    return String(pid);
  }
}

afterAll(async () => {
  const deadline = Date.now() + SETTLE_MS;
  let left = running();
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    left = running();
  }
  if (left.length === 0) return;
  const named = left.map(nameOf);
  // Kill by pid (and each one's group), repeatedly: a killed process's children come here next.
  for (let round = 0; round < 50 && left.length > 0; round += 1) {
    for (const pid of left) for (const target of [-pid, pid]) try { process.kill(target, 'SIGKILL'); } catch { /* gone */ }
    await new Promise((resolve) => setTimeout(resolve, 20));
    left = running();
  }
  throw new Error(`processes left running after the tests of this file: ${named.join('; ')}`);
});
