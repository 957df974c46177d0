import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StateFile } from '../../src/state/schema.js';
import { createStateWriter, staleAfter, type StateLog } from '../../src/state/writer.js';

function state(overrides: Partial<StateFile> = {}): StateFile {
  // Built in an order of its own: the writer must put the flat fields first anyway.
  return {
    checks: [], init: [], lastReload: null, appStatus: '', appMainPid: 0, readiness: [], readinessHeldBy: '', readyPorts: [], timeline: [], phase: 'running', appPid: 9, startedAt: 1, exitCode: -1,
    version: 1, usherPid: process.pid, heartbeatAt: 0, heartbeatMs: 0, staleAfterMs: 0,
    startupCode: 0, readyCode: 3, liveCode: 0, startupReason: '', readyReason: 'check ready-cmd-1 failing', liveReason: '', startupDetail: '', readyDetail: '', liveDetail: '', reasonSince: 5,
    ...overrides,
  };
}

function recorder(): StateLog & { lines: { level: string; obj: object; msg: string }[] } {
  const lines: { level: string; obj: object; msg: string }[] = [];
  const at = (level: string) => (obj: object, msg: string): void => {
    lines.push({ level, obj, msg });
  };
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'usher-writer-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const read = (): StateFile => JSON.parse(readFileSync(path.join(dir, 'state.json'), 'utf8')) as StateFile;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('createStateWriter', () => {
  it('stamps the heartbeat fields and puts the flat fields first, one per line', () => {
    const writer = createStateWriter({ dir, log: recorder(), heartbeatMs: 5000, now: () => 1234 });
    writer.write(state());
    writer.stop();
    const text = readFileSync(path.join(dir, 'state.json'), 'utf8');
    const keys = Object.keys(JSON.parse(text) as object);
    expect(keys.slice(0, 15)).toEqual([
      'version', 'usherPid', 'heartbeatAt', 'heartbeatMs', 'staleAfterMs', 'startupCode', 'readyCode', 'liveCode',
      'startupReason', 'readyReason', 'liveReason', 'startupDetail', 'readyDetail', 'liveDetail', 'reasonSince',
    ]);
    expect(text).toContain('\n  "heartbeatAt": 1234,\n  "heartbeatMs": 5000,\n  "staleAfterMs": 15000,\n');
    expect(text).toContain('\n  "readyReason": "check ready-cmd-1 failing",\n');
    expect(read()).toMatchObject({ phase: 'running', appPid: 9, checks: [] });
  });

  it('staleAfterMs is three beats, at least 10 s', () => {
    expect(staleAfter(2000)).toBe(10_000);
    expect(staleAfter(5000)).toBe(15_000);
  });

  it('keeps reasons on one line (sh prints them as they are in the file)', () => {
    const writer = createStateWriter({ dir, log: recorder() });
    writer.write(state({ readyReason: 'exit 1:\nerror\tx\u001b[31m \ud800 "q" \\' }));
    writer.stop();
    expect(read().readyReason).toBe('exit 1: error x [31m \ufffd "q" \\');
  });

  it('files are 0644 even under a umask of 077', () => {
    const old = process.umask(0o077);
    try {
      const writer = createStateWriter({ dir, log: recorder() });
      writer.write(state());
      writer.stop();
    } finally {
      process.umask(old);
    }
    expect(statSync(path.join(dir, 'state.json')).mode & 0o777).toBe(0o644);
    expect(statSync(path.join(dir, 'live')).mode & 0o777).toBe(0o644);
  });

  it('rewrites the last state every heartbeatMs with a new heartbeatAt', async () => {
    let clock = 1000;
    const writer = createStateWriter({ dir, log: recorder(), heartbeatMs: 40, now: () => clock });
    writer.write(state());
    expect(read().heartbeatAt).toBe(1000);
    clock = 2000;
    await sleep(150);
    expect(read().heartbeatAt).toBe(2000);
    writer.stop();
    clock = 3000;
    await sleep(150);
    expect(read().heartbeatAt).toBe(2000);
  });

  it('a write pushes the next heartbeat back', async () => {
    let beats = 0;
    const writer = createStateWriter({ dir, log: recorder(), heartbeatMs: 400, now: () => ++beats });
    writer.write(state());
    for (let i = 0; i < 20; i++) {
      await sleep(40);
      writer.write(state()); // 800 ms in all, but a write every 40 ms: the 400 ms heartbeat never comes due
    }
    writer.stop();
    expect(beats).toBe(21);
  });

  it('stop(final) writes the final state and sets the markers by its codes; later writes are ignored', () => {
    const writer = createStateWriter({ dir, log: recorder() });
    writer.write(state({ readyCode: 0 }));
    expect(statSync(path.join(dir, 'ready')).isFile()).toBe(true);
    writer.stop(state({ phase: 'exited', startupCode: 5, readyCode: 5, liveCode: 5, exitCode: 0 }));
    writer.write(state({ phase: 'running' }));
    expect(read()).toMatchObject({ phase: 'exited', exitCode: 0 });
    for (const marker of ['started', 'ready', 'live']) expect(() => statSync(path.join(dir, marker))).toThrow();
  });

  it('refuses a heartbeat that is not a positive integer, naming it', () => {
    expect(() => createStateWriter({ dir, log: recorder(), heartbeatMs: 0 })).toThrow('heartbeatMs must be a positive integer, got 0');
  });
});
