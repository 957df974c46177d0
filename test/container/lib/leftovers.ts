import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/**
 * What a run may leave behind, found by the run's directory: processes whose command line names
 * it (conmon, a container's runc, the tests' tmux server) and mounts under it (overlay layers).
 * Each is named; processes are SIGKILLed by pid (they are this run's: nobody else knows the
 * directory) and mounts detached, so the next run starts clean.
 */
export function leftovers(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name) && Number(name) !== process.pid)) {
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'latin1').split('\0').join(' ').trim();
    } catch {
      continue; // gone meanwhile
    }
    if (!cmdline.includes(dir)) continue;
    found.push(`process ${entry} (${cmdline.slice(0, 200)})`);
    try {
      process.kill(Number(entry), 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((line) => line.split(' ')[4] ?? '').filter((point) => point.startsWith(dir));
  for (const point of mounts.reverse()) {
    found.push(`mount ${point}`);
    try {
      execFileSync('umount', ['-l', point]);
    } catch {
      // reported above
    }
  }
  return found;
}
