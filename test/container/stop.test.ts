import { describe, expect, it } from 'vitest';
import { eventually, exec, image, inspect, podmanCall, SKIP, start } from './lib/harness.js';

// `podman stop` sends the image's STOPSIGNAL (TERM) to PID 1, usher, and SIGKILLs it after -t
// seconds. usher drains (unready, the app still serving), then passes TERM on, and ends the
// app's group itself at the end of its grace, well inside podman's budget.
const shell = (): ReturnType<typeof image> => image('shell');
const HTTP_GET = "require('http').get('http://127.0.0.1:18080/', (r) => { console.log(r.statusCode); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(1); })";

describe.skipIf(SKIP)('podman stop with usher as the ENTRYPOINT', () => {
  it('drains for USHER_DRAIN=2s, then the app gets TERM and exits 0: stop takes the drain, not the 10 s', async () => {
    const app = start(shell(), ['-e', 'USHER_DRAIN=2s']);
    await app.waitFor('app listening');
    const stopping = Date.now();
    const stop = podmanCall(['stop', '-t', '10', app.name]);
    const termAt = await app.waitFor('app got SIGTERM');
    expect((await stop).code).toBe(0);
    expect(await app.exited).toBe(0);
    expect(await inspect(app.name, '{{.State.ExitCode}}')).toBe('0');
    expect(termAt - stopping).toBeGreaterThanOrEqual(1900);
    expect(Date.now() - stopping).toBeLessThan(6000);
  });

  it('ends an app that ignores TERM at the end of USHER_GRACE=2s: 137 after about 2 s, before podman\'s SIGKILL at 10 s', async () => {
    const app = start(shell(), ['-e', 'ON_TERM=ignore', '-e', 'USHER_GRACE=2s']);
    await app.waitFor('app listening');
    const stop = await podmanCall(['stop', '-t', '10', app.name]);
    expect(app.output()).toContain('app got SIGTERM and ignores it');
    expect(await app.exited).toBe(137);
    expect(stop.ms).toBeGreaterThanOrEqual(1900);
    expect(stop.ms).toBeLessThan(6000);
  });

  it('passes the app\'s death by TERM on as 143, and as 0 with USHER_EXIT_MAP=143:0', async () => {
    const plain = start(shell(), ['-e', 'ON_TERM=default']);
    const mapped = start(shell(), ['-e', 'ON_TERM=default', '-e', 'USHER_EXIT_MAP=143:0']);
    await Promise.all([plain.waitFor('app listening'), mapped.waitFor('app listening')]);
    await Promise.all([podmanCall(['stop', '-t', '10', plain.name]), podmanCall(['stop', '-t', '10', mapped.name])]);
    expect(await plain.exited).toBe(143);
    expect(await mapped.exited).toBe(0);
  });

  it('answers 4 (draining) to usher-probe while the app still serves, after podman kill -s TERM', async () => {
    // (`podman exec` is refused while `podman stop` runs: "container state improper"; `kill -s
    // TERM` starts the same drain and leaves the container running, so the probe can be asked.)
    const app = start(shell(), ['-e', 'USHER_DRAIN=30s']);
    await app.waitFor('app listening');
    expect((await exec(app.name, ['usher-probe', 'ready'])).code).toBe(0);
    await podmanCall(['kill', '-s', 'TERM', app.name]);
    const probe = await eventually(async () => {
      const answer = await exec(app.name, ['usher-probe', 'ready']);
      return answer.code === 0 ? undefined : answer;
    }, 'usher-probe ready to answer something else than 0', 10_000);
    expect({ code: probe.code, said: probe.stderr }).toMatchObject({ code: 4, said: expect.stringMatching(/^not ready: draining/) });
    const serving = await exec(app.name, ['node', '-e', HTTP_GET]);
    expect(serving.stdout.trim()).toBe('200');
    expect(app.output()).not.toContain('app got SIGTERM');
  });
});
