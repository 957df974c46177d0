import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { startUsher, killLeftRunning } from '../helpers/usher.js';

const runs = killLeftRunning();

function get(port: number, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (text: string) => (body += text)).on('end', () => resolve({ status: response.statusCode ?? 0, type: String(response.headers['content-type']), body }));
    }).on('error', reject).end();
  });
}

describe('/metrics', () => {
  it('serves Prometheus text: phase, probes, signals sent, orphans reaped; never the app\'s argv', async () => {
    const secret = 'hunter2-secret-token';
    const run = startUsher(['--http', '127.0.0.1:0', '--', 'sh', '-c', `sh -c 'sleep 0.1 &'; echo ${secret} > /dev/null; trap '' HUP; exec sleep 60`]);
    runs.current = run;
    const listening = await run.waitForLog('HTTP server listening');
    const port = Number(String(listening.address).split(':').pop());
    await run.waitForLog('orphans reaped');
    run.kill('SIGHUP');
    await run.waitForLog('SIGHUP received');
    const { status, type, body } = await get(port, '/metrics');
    expect(status).toBe(200);
    expect(type).toContain('text/plain; version=0.0.4');
    expect(body).toContain('usher_phase{phase="running"} 1');
    expect(body).toContain('usher_ready 1');
    expect(body).toContain('usher_signals_forwarded_total{signal="SIGHUP"} 1');
    expect(body).toMatch(/usher_orphans_reaped_total [1-9]/);
    expect(body).toContain('usher_app_restarts_total 0');
    expect(body).not.toContain(secret);
  });
});
