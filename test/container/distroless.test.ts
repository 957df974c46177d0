import { describe, expect, it } from 'vitest';
import { eventually, exec, image, podmanCall, SKIP, start } from './lib/harness.js';

// An image without /bin/sh (distroless-style: node's libraries, node at /nodejs/bin/node, off
// PATH). bin/usher is a sh launcher, so node runs usher's entry itself:
//   ENTRYPOINT ["/nodejs/bin/node", "/usr/local/lib/node_modules/NAME/dist/usher.cjs", "--"]
// and exec probes run `node …/dist/usher.cjs probe ready` in exec form.
const distroless = (): ReturnType<typeof image> => image('distroless');
const CMDLINE = "process.stdout.write(require('fs').readFileSync('/proc/1/cmdline', 'latin1').split('\\0').join(' ').trim())";

describe.skipIf(SKIP)('a distroless image: no shell', () => {
  it('runs usher as PID 1 through node, and stops the app gracefully', async () => {
    const of = distroless();
    const app = start(of, ['-e', 'USHER_DRAIN=1s']);
    await app.waitFor('app listening');
    expect((await exec(app.name, ['/bin/sh', '-c', 'exit 0'])).code).not.toBe(0);
    expect((await exec(app.name, [of.node, '-e', CMDLINE])).stdout).toBe(`${of.entrypoint.join(' ')} /nodejs/bin/node /app/app.cjs`);
    const stop = await podmanCall(['stop', '-t', '10', app.name]);
    expect(app.output()).toContain('app got SIGTERM');
    expect(await app.exited).toBe(0);
    expect(stop.ms).toBeGreaterThanOrEqual(900);
    expect(stop.ms).toBeLessThan(5000);
  });

  it('answers an exec-form health check through node; the string form needs the missing /bin/sh', async () => {
    const of = distroless();
    const app = start(of, [
      '--health-cmd', JSON.stringify([...of.probe, 'ready']), '--health-interval', 'disable',
      '-e', 'USHER_READY_HTTP=http://127.0.0.1:18080/ready', '-e', 'USHER_CHECK_INTERVAL=1s',
    ]);
    // The string form is CMD-SHELL: podman runs /bin/sh -c, which fails here even for a ready app.
    const shellForm = start(of, ['--health-cmd', 'usher-probe ready', '--health-interval', 'disable']);
    await Promise.all([app.waitFor('app listening'), shellForm.waitFor('app listening')]);
    await eventually(async () => (await exec(app.name, [...of.probe, 'ready'])).code === 1, 'the probe to answer 1 (not yet)', 10_000);
    expect((await podmanCall(['healthcheck', 'run', app.name])).code).toBe(1);
    await exec(app.name, [of.node, '-e', "require('fs').writeFileSync('/tmp/app-ready', '')"]);
    await eventually(async () => (await podmanCall(['healthcheck', 'run', app.name])).code === 0, 'a healthy check', 15_000);
    await eventually(async () => (await exec(shellForm.name, [...of.probe, 'ready'])).code === 0, 'the other app to be ready', 10_000);
    expect((await podmanCall(['healthcheck', 'run', shellForm.name])).code).toBe(1);
  });

  it('costs the NODE_OPTIONS protection: the app still gets NODE_OPTIONS, usher\'s own node obeys it too and says so', async () => {
    const options = ['-e', 'NODE_OPTIONS=--max-old-space-size=96'];
    const direct = start(distroless(), options);
    const launched = start(image('shell'), options);
    await Promise.all([direct.waitFor('app listening'), launched.waitFor('app listening')]);
    for (const app of [direct, launched]) expect(app.output()).toContain('NODE_OPTIONS=--max-old-space-size=96');
    expect(direct.output()).toContain('NODE_OPTIONS also applied to usher');
    expect(launched.output()).not.toContain('NODE_OPTIONS also applied to usher');
  });
});
