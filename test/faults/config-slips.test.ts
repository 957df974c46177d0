import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { unshareArgs } from '../helpers/namespaces.js';
import { killLeftRunning, runUsher } from '../helpers/usher.js';

// Configuration slips that became outages. Each must end usher with exit 2 before anything
// starts, naming the flag (or variable) and the value. The old usher ran every executable of the
// working directory for `--init ''`, watched it for `--reload-on ''`, took KILL as the stop or
// reload signal, 0 as the init timeout, resolved a host name for --http (and exited 0 without a
// probe server when that failed), started the app with the probe port taken, and never checked
// the first of two values. Each case runs in a fresh directory holding an executable canary, with
// an app that leaves a file when it starts: neither may appear.

const runs = killLeftRunning();
const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

interface Slip {
  readonly cwd: string;
  readonly canaryRan: () => boolean;
  readonly appRan: () => boolean;
  readonly app: string[];
}

function slipDir(): Slip {
  const cwd = mkdtempSync(path.join(tmpdir(), 'usher-slip-'));
  writeFileSync(path.join(cwd, 'canary'), `#!/bin/sh\ntouch ${path.join(cwd, 'canary-ran')}\n`);
  chmodSync(path.join(cwd, 'canary'), 0o755);
  const appFile = path.join(cwd, 'app-ran');
  return {
    cwd,
    canaryRan: () => existsSync(path.join(cwd, 'canary-ran')),
    appRan: () => existsSync(appFile),
    app: ['sh', '-c', `touch ${appFile}`],
  };
}

async function expectRefused(args: readonly string[], named: readonly string[], options: { env?: NodeJS.ProcessEnv; wrap?: readonly string[] } = {}): Promise<void> {
  const slip = slipDir();
  const run = await runUsher([...args, '--', ...slip.app], { cwd: slip.cwd, ...options });
  runs.current = run;
  expect(run.code, run.stderr).toBe(2);
  for (const part of named) expect(run.stderr).toContain(part);
  expect(run.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
  expect(slip.appRan()).toBe(false);
  expect(slip.canaryRan()).toBe(false);
}

describe('slips refused with exit 2 before anything starts, naming the flag and the value', () => {
  it('--init \'\' (not: every executable in the working directory)', async () => {
    await expectRefused(['--init', ''], ['--init', '""']);
  });

  it('--reload-on \'\' (not: a watch on the working directory)', async () => {
    await expectRefused(['--reload-on', ''], ['--reload-on', '""']);
  });

  for (const flag of ['--stop-signal', '--reload-signal']) {
    for (const signal of ['KILL', 'STOP', 'CHLD', '9']) {
      it(`${flag} ${signal}`, async () => {
        await expectRefused([flag, signal], [flag, `"${signal}"`]);
      });
    }
  }

  it('USHER_STOP_SIGNAL=KILL names the variable', async () => {
    await expectRefused([], ['USHER_STOP_SIGNAL', '"KILL"'], { env: { USHER_STOP_SIGNAL: 'KILL' } });
  });

  it('--init-timeout 0', async () => {
    await expectRefused(['--init-timeout', '0'], ['--init-timeout', '"0"']);
  });

  it('an --http host that is a name, not an IP literal or localhost (no name is resolved: no network at all here)', async () => {
    await expectRefused(['--http', 'probe.example.invalid:8080'], ['--http', '"probe.example.invalid:8080"'], { wrap: unshareArgs('--net') });
  });

  it('an --http port already in use', async () => {
    const server = createServer();
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await expectRefused(['--http', `127.0.0.1:${port}`], ['--http', `127.0.0.1:${port}`, 'EADDRINUSE']);
  });

  it('--drain bad --drain 1s: the earlier bad value is checked too', async () => {
    await expectRefused(['--drain', 'bad', '--drain', '1s'], ['--drain', '"bad"']);
  });
});

describe('an empty USHER_* variable means unset', () => {
  it('USHER_INIT= runs no init script, and the app starts', async () => {
    const slip = slipDir();
    const run = await runUsher(['--', ...slip.app], { cwd: slip.cwd, env: { USHER_INIT: '', USHER_RELOAD_ON: '', USHER_STOP_SIGNAL: '' } });
    runs.current = run;
    expect(run.code, run.stderr).toBe(0);
    expect(slip.appRan()).toBe(true);
    expect(slip.canaryRan()).toBe(false);
  });
});
