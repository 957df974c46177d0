import { describe, expect, it } from 'vitest';
import { eventually, exec, image, inspect, podmanCall, SKIP, start } from './lib/harness.js';

// --read-only-tmpfs=false: nothing is writable but what the test mounts (podman otherwise puts
// tmpfs on /run, /tmp and /var/tmp, where usher would find a place by itself).
const READ_ONLY = ['--read-only', '--read-only-tmpfs=false'];

describe.skipIf(SKIP)('a read-only root file system', () => {
  it('keeps usher\'s state in a tmpfs at /run/usher: the probe answers, the stop is clean', async () => {
    const app = start(image('shell'), [...READ_ONLY, '--tmpfs', '/run/usher']);
    await app.waitFor('app listening');
    await eventually(async () => (await exec(app.name, ['usher-probe', 'ready'])).code === 0, 'usher-probe ready to answer 0', 10_000);
    expect((await exec(app.name, ['cat', '/run/usher/ready'])).code).toBe(0);
    // The root is read-only indeed.
    expect((await exec(app.name, ['mkdir', '/probe-root'])).stderr).toMatch(/Read-only file system/);
    await podmanCall(['stop', '-t', '10', app.name]);
    expect(await app.exited).toBe(0);
  });

  it('without any writable place, keeps the app running and the probe answers 6 (no usher state)', async () => {
    const app = start(image('shell'), READ_ONLY);
    await app.waitFor('app listening');
    const probe = await exec(app.name, ['usher-probe', 'ready']);
    expect({ code: probe.code, said: probe.stderr }).toMatchObject({ code: 6, said: expect.stringMatching(/no usher running/) });
    // usher says so, and the app runs on.
    expect(app.output()).toMatch(/cannot write state/);
    expect(await inspect(app.name, '{{.State.Status}}')).toBe('running');
    await podmanCall(['stop', '-t', '10', app.name]);
    expect(await app.exited).toBe(0);
  });
});
