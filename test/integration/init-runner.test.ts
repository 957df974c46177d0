import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createInitRunner } from '../../src/init/init-runner.js';
import type { Unstamped } from '../../src/lifecycle/types.js';
import type { Logger } from '../../src/log/logger.js';

// The runner on its own, with real scripts: the "still running" line that a slow migration
// prints every minute, here every 100 ms.

describe('init runner', () => {
  it('says a slow script is still running, then reports it done', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'usher-runner-'));
    const file = path.join(dir, '10-migrate.sh');
    writeFileSync(file, '#!/bin/sh\nsleep 0.45\n');
    chmodSync(file, 0o755);
    const lines: string[] = [];
    const record = (_: object, msg: string): void => void lines.push(msg);
    const log = { info: record, warn: record, error: record, debug: record } as unknown as Logger;
    const events: Unstamped[] = [];
    const done = new Promise<void>((resolve) => {
      const runner = createInitRunner({
        scripts: [{ name: '10-migrate.sh', path: file }], timeoutMs: undefined, graceMs: 1000, cwd: dir, env: process.env,
        log, ownChildren: new Set(), changed: () => undefined, stillRunningEveryMs: 100,
        dispatch: (event) => {
          events.push(event);
          if (event.type === 'initDone') resolve();
        },
      });
      runner.run();
    });
    await done;
    const still = lines.filter((line) => /^init script 10-migrate.sh still running after \d+s$/.test(line));
    expect(still.length).toBeGreaterThanOrEqual(2);
    expect(events.map((event) => event.type)).toEqual(['initScriptStarted', 'initDone']);
    expect(lines.at(-1)).toMatch(/^init script 10-migrate.sh succeeded in /);
  });
});
