import { describe, expect, it } from 'vitest';
import { exec, image, podmanCall, SKIP, start } from './lib/harness.js';

// A python:slim-style image (the host's python3 and its standard library, a shell) with node and
// the package added the way examples/Dockerfile.python adds them.

describe.skipIf(SKIP)('a Python image with usher added', () => {
  it('forwards HUP to a Python app and stops it cleanly with podman stop', async () => {
    const python = image('python');
    const app = start(python, [], ['python3', '/app/app.py']);
    await app.waitFor('py running');
    expect((await exec(app.name, ['python3', '-c', 'import ssl, json, sqlite3; print("stdlib ok")'])).stdout).toBe('stdlib ok\n');
    await podmanCall(['kill', '-s', 'HUP', app.name]);
    await app.waitFor('py got SIGHUP', 10_000);
    const stop = await podmanCall(['stop', '-t', '10', app.name]);
    expect(app.output()).toContain('py got SIGTERM');
    expect(await app.exited).toBe(0);
    expect(stop.ms).toBeLessThan(5000);
  });
});
