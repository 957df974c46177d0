import { describe, expect, it } from 'vitest';
import { eventually, exec, image, inspect, podmanCall, SKIP, start } from './lib/harness.js';

// The image's HEALTHCHECK, as Docker and podman run it: a command in the container. podman's
// timer needs systemd, absent here: --health-interval disable, and the test runs each check
// with `podman healthcheck run`, exit 0 healthy, 1 unhealthy. `--docker`: 0 or 1 only (Docker
// reserves 2), the cause on stdout, which the health log keeps.
const HEALTH_CMD = 'usher-probe --docker ready';

describe.skipIf(SKIP)('podman healthcheck run with usher-probe', () => {
  it('is unhealthy while usher\'s readiness check fails, healthy once it passes', async () => {
    const app = start(image('shell'), [
      '--health-cmd', HEALTH_CMD, '--health-interval', 'disable',
      '-e', 'USHER_READY_HTTP=http://127.0.0.1:18080/ready', '-e', 'USHER_CHECK_INTERVAL=1s',
    ]);
    await app.waitFor('app listening');
    // The probe answers 1, "not yet", from usher's state: usher runs and the app is not ready.
    const probe = await eventually(async () => {
      const answer = await exec(app.name, ['usher-probe', 'ready']);
      return answer.code === 6 ? undefined : answer;
    }, 'usher\'s first state file', 10_000);
    expect({ code: probe.code, said: probe.stderr }).toMatchObject({ code: 1, said: expect.stringMatching(/^not ready: /) });
    const unhealthy = await podmanCall(['healthcheck', 'run', app.name]);
    expect({ code: unhealthy.code, said: unhealthy.stdout.trim() }).toEqual({ code: 1, said: 'unhealthy' });
    // What the probe said is in the health log, where `docker inspect` users look.
    expect(await inspect(app.name, '{{range .State.Health.Log}}{{.ExitCode}} {{.Output}}|{{end}}')).toMatch(/^1 not ready: /);

    expect((await exec(app.name, ['node', '-e', "require('fs').writeFileSync('/tmp/app-ready', '')"])).code).toBe(0);
    const readyIn = Date.now();
    await eventually(async () => (await podmanCall(['healthcheck', 'run', app.name])).code === 0, 'a healthy check', 15_000);
    console.log(`healthy ${Date.now() - readyIn} ms after the app's /ready began answering 200`);
    expect(await inspect(app.name, '{{.State.Health.Status}}')).toBe('healthy');
  });
});
