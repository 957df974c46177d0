import { describe, expect, it } from 'vitest';
import { detectPlatform, type PlatformProbe } from '../../src/platform/platform.js';
import { parseSystemdTimespan, systemdUnitOf } from '../../src/platform/systemd-unit.js';

// Which stop budget applies when two layers could each SIGKILL usher: the pure choice. The
// marks themselves are found on real processes in test/integration/stop-budgets.test.ts.

function probe(env: NodeJS.ProcessEnv, files: readonly string[] = [], ancestors: string[][] = [], cgroup?: string): PlatformProbe {
  return { env, exists: (file) => files.includes(file), ancestors: () => ancestors, cgroup: () => cgroup };
}

describe('the platform and its stop budget', () => {
  it('takes the tighter of the process manager and what runs around it', () => {
    expect(detectPlatform(probe({ PS: 'web.1' }, ['/.dockerenv']))).toMatchObject({ name: 'foreman', stopBudgetMs: 5000 });
    expect(detectPlatform(probe({ INVOCATION_ID: 'a'.repeat(32) }, ['/.dockerenv']))).toMatchObject({ name: 'docker', stopBudgetMs: 10_000 });
    expect(detectPlatform(probe({ INVOCATION_ID: 'a'.repeat(32) }))).toMatchObject({ name: 'systemd', stopBudgetMs: 90_000 });
  });

  it('lets Kubernetes and Heroku replace the container runtime\'s budget, and keeps Heroku\'s signalling under a process manager', () => {
    expect(detectPlatform(probe({ KUBERNETES_SERVICE_HOST: '10.0.0.1' }, ['/.dockerenv', '/run/.containerenv']))).toMatchObject({ name: 'kubernetes', stopBudgetMs: 30_000 });
    expect(detectPlatform(probe({ DYNO: 'web.1', PS: 'web.1' }))).toMatchObject({ name: 'foreman', signalsEveryProcess: true });
  });

  it('prefers podman to Docker, and the process manager at a tie', () => {
    expect(detectPlatform(probe({}, ['/.dockerenv', '/run/.containerenv'])).name).toBe('podman');
    expect(detectPlatform(probe({ TMUX: '/tmp/tmux-0/overmind-app-X1,9,0', OVERMIND_TIMEOUT: '10' }, ['/.dockerenv']))).toMatchObject({ name: 'overmind', budgetFrom: 'OVERMIND_TIMEOUT' });
  });

  it('does not take a shell\'s or tmux\'s everyday variables for a runner', () => {
    expect(detectPlatform(probe({ PS: '', PS1: '$ ', TMUX: '/tmp/tmux-1000/default,4242,0', INVOCATION_ID: 'not-an-id', container: 'lxc' })).name).toBe('unknown');
  });

  it('finds honcho among the ancestors, not in a longer name', () => {
    expect(detectPlatform(probe({}, [], [['/bin/sh', '-c', 'usher -- web'], ['/usr/bin/python3', '/home/me/.local/bin/honcho', 'start']])).name).toBe('honcho');
    expect(detectPlatform(probe({}, [], [['/usr/bin/python3', '/srv/honcho-ai/server.py']])).name).toBe('unknown');
  });

  it('names the systemd unit from the cgroup, a user manager\'s too', () => {
    expect(detectPlatform(probe({ INVOCATION_ID: 'b'.repeat(32) }, [], [], '/system.slice/shop.service')).systemdUnit).toEqual({ name: 'shop.service', user: false });
    expect(systemdUnitOf('/user.slice/user-1000.slice/user@1000.service/app.slice/shop.service')).toEqual({ name: 'shop.service', user: true });
    expect(systemdUnitOf('/user.slice/user-1000.slice/user@1000.service')).toBeUndefined();
    expect(systemdUnitOf('/')).toBeUndefined();
  });

  it.each([['1min 30s', 90_000], ['90s', 90_000], ['500ms', 500], ['2h', 7_200_000], ['1min 500ms', 60_500], ['infinity', Infinity]])('reads systemd\'s time span %j', (text, ms) => {
    expect(parseSystemdTimespan(`${text}\n`)).toBe(ms);
  });

  it.each(['', 'soon', '90', '1 min'])('refuses %j as a systemd time span', (text) => {
    expect(parseSystemdTimespan(text)).toBeUndefined();
  });
});
