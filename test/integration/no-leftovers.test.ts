import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually, FIXTURES, killLeftRunning, processExists, startUsher } from '../helpers/usher.js';

// What usher leaves behind when it exits: nothing. And its own broken pipes stay its own.

const runs = killLeftRunning();

describe('usher leaves nothing behind', () => {
  it('kills a command check still running when usher exits', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'usher-leftover-'));
    const pidFile = path.join(dir, 'check.pid');
    const run = startUsher(['--state-dir', dir, '--ready-cmd', `echo $$ > ${pidFile}; exec sleep 91`, '--check-timeout', '60s', '--', 'sh', '-c', 'read line; exit 0']);
    runs.current = run;
    const check = Number(await eventually(() => { try { return readFileSync(pidFile, 'utf8').trim() || undefined; } catch { return undefined; } }, 'the check to run'));
    expect(processExists(check)).toBe(true);
    run.child.stdin!.end('go\n');
    expect((await run.exited).code).toBe(0);
    await eventually(() => !processExists(check), 'the check to be gone');
  });

  it('kills an adopted daemon that left the app\'s group, when usher is not PID 1', async () => {
    const run = startUsher(['--', 'sh', '-c', 'setsid sh -c \'echo $$; exec sleep 77\' & sleep 0.2; exit 0']);
    runs.current = run;
    const exit = await run.exited;
    const daemon = Number(run.stdout.trim());
    expect(exit.code).toBe(0);
    expect(daemon).toBeGreaterThan(0);
    await eventually(() => !processExists(daemon), 'the daemon to be gone');
  });
});

describe('SIGPIPE', () => {
  it('from usher\'s own broken stderr is neither forwarded nor looped on; one sent to usher is forwarded', async () => {
    const run = startUsher(['--', 'node', path.join(FIXTURES, 'signal-recorder.mjs')]);
    runs.current = run;
    await run.waitForStdout('ready');
    await run.waitForLog('app started');
    run.child.stderr!.destroy(); // the log reader goes away: usher's next log line meets EPIPE
    run.kill('SIGHUP'); // makes usher log a line
    await run.waitForStdout('SIGHUP\n');
    run.kill('SIGUSR2');
    await run.waitForStdout('SIGUSR2\n');
    expect(run.stdout).not.toContain('SIGPIPE');
    // usher is idle, not spinning on SIGPIPE: its CPU time stays put over a second.
    const cpu = (): number => {
      const fields = readFileSync(`/proc/${run.pid}/stat`, 'latin1').split(') ')[1]!.split(' ');
      return Number(fields[11]) + Number(fields[12]);
    };
    const before = cpu();
    await new Promise((resolve) => setTimeout(resolve, 1000)); // a span of time to measure, not a wait for an event
    expect(cpu() - before).toBeLessThan(20); // clock ticks (1/100 s): under 20% of a core
    run.kill('SIGPIPE');
    await run.waitForStdout('SIGPIPE\n');
  });
});
