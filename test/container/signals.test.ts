import { describe, expect, it } from 'vitest';
import { eventually, image, inspect, podmanCall, processes, SKIP, start } from './lib/harness.js';

describe.skipIf(SKIP)('signals and orphans inside the container', () => {
  it('forwards podman kill -s HUP to the app, which keeps running', async () => {
    const app = start(image('shell'), []);
    await app.waitFor('app listening');
    expect((await podmanCall(['kill', '-s', 'HUP', app.name])).code).toBe(0);
    await app.waitFor('app got SIGHUP', 10_000);
    expect(await inspect(app.name, '{{.State.Status}}')).toBe('running');
  });

  // The app leaves 20 orphans, which the kernel reparents to PID 1. usher reaps them; node as
  // PID 1 (the control) does not, which shows the count below sees zombies when there are.
  it('reaps the orphans the app leaves: none stays a zombie', async () => {
    const shell = image('shell');
    const app = start(shell, [], ['node', '/app/orphans.cjs']);
    await app.waitFor('orphans made');
    // Each orphan lives 300 ms; then only usher (PID 1) and the app remain, with no zombie.
    const left = await eventually(async () => {
      const table = await processes(shell, app.name);
      return table.length === 2 ? table : undefined;
    }, 'the orphans to be gone', 10_000);
    expect(left.map((proc) => [proc.pid === 1, proc.state])).toEqual([[true, 'S'], [false, 'S']]);
  });

  it('control: with node as PID 1 the same orphans stay zombies', async () => {
    const shell = image('shell');
    const app = start(shell, ['--entrypoint', '["node"]'], ['/app/orphans.cjs']);
    await app.waitFor('orphans made');
    const zombies = await eventually(async () => {
      const found = (await processes(shell, app.name)).filter((proc) => proc.state === 'Z');
      return found.length === 20 ? found : undefined;
    }, '20 zombies', 10_000);
    expect(zombies.every((proc) => proc.ppid === 1)).toBe(true);
  });
});
