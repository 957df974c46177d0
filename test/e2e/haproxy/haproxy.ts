import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import path from 'node:path';

// A real HAProxy for the end-to-end tests: config written to a temp dir, run in the foreground,
// driven and observed through its runtime API (stats socket).

const CANDIDATES = ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy', '/usr/bin/haproxy'];

/** The haproxy binary, or why there is none. */
export function findHaproxy(): { path: string } | { missing: string } {
  const found = CANDIDATES.find((candidate) => existsSync(candidate));
  const binary = found ?? 'haproxy';
  const probe = spawnSync(binary, ['-v'], { encoding: 'utf8', timeout: 10_000 });
  if (probe.error || probe.status !== 0) {
    return { missing: `haproxy not found (looked in ${CANDIDATES.join(', ')} and PATH); install the Debian package "haproxy" (.ci/run does)` };
  }
  return { path: binary };
}

/** `count` distinct loopback ports the kernel picked as free (their listeners are closed again at once). */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
    }
    return servers.map((server) => (server.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

export interface Backend {
  readonly name: string;
  /** Where the app serves traffic. */
  readonly port: number;
  /** Where usher's HTTP server answers /readyz. */
  readonly checkPort: number;
}

export interface HaproxyOptions {
  readonly binary: string;
  readonly dir: string;
  readonly frontendPort: number;
  readonly servers: readonly Backend[];
  /** Health-check interval, ms. */
  readonly interMs: number;
  readonly fall: number;
  readonly rise: number;
}

/**
 * Round robin over the servers, each health-checked on usher's /readyz. No retries and no
 * redispatch: like kube-proxy, a request sent to an instance that refuses it is a failed request.
 * One connection per request on both sides, so every request is balanced on its own.
 */
export function haproxyConfig(options: HaproxyOptions, socket: string): string {
  const inter = `${options.interMs}ms`;
  return [
    'global',
    `  stats socket ${socket} mode 600 level admin`,
    '  maxconn 4000',
    '',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 10s',
    '  timeout server 10s',
    '  timeout check 1s',
    '  retries 0',
    '  option httpclose',
    '',
    'frontend web',
    `  bind 127.0.0.1:${options.frontendPort}`,
    '  default_backend apps',
    '',
    'backend apps',
    '  balance roundrobin',
    '  option httpchk GET /readyz',
    '  http-check expect status 200',
    `  default-server inter ${inter} fastinter ${inter} downinter ${inter} fall ${options.fall} rise ${options.rise}`,
    ...options.servers.map((server) => `  server ${server.name} 127.0.0.1:${server.port} check port ${server.checkPort}`),
    '',
  ].join('\n');
}

export interface Haproxy {
  readonly child: ChildProcess;
  readonly output: () => string;
  /** One runtime API command, its whole answer. */
  command(line: string): Promise<string>;
  /** `show stat` of the backend's servers: server name -> column -> value. */
  serverStats(): Promise<Map<string, Record<string, string>>>;
  /** Server name -> status as HAProxy reports it (UP, DOWN, MAINT, "DOWN 1/2", ...). */
  serverStates(): Promise<Map<string, string>>;
  /**
   * Polls the status of server `name` every 20 ms until `test` holds (HAProxy's view has no
   * event to await); resolves with the milliseconds it took, rejects after `timeoutMs`.
   */
  waitForStatus(name: string, test: (status: string) => boolean, what: string, timeoutMs: number): Promise<number>;
  stop(): Promise<void>;
}

export function startHaproxy(options: HaproxyOptions): Haproxy {
  const socket = path.join(options.dir, 'haproxy.sock');
  const configFile = path.join(options.dir, 'haproxy.cfg');
  writeFileSync(configFile, haproxyConfig(options, socket));
  // -db: foreground, no daemon; the test owns the process and kills it.
  const child = spawn(options.binary, ['-db', '-f', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));

  const command = (line: string): Promise<string> => new Promise((resolve, reject) => {
    const client = connect(socket);
    let answer = '';
    const timer = setTimeout(() => client.destroy(new Error(`haproxy runtime API: no answer to "${line}" within 5 s`)), 5000);
    client.setEncoding('utf8');
    client.on('data', (text: string) => (answer += text));
    client.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    client.on('end', () => {
      clearTimeout(timer);
      resolve(answer);
    });
    client.end(`${line}\n`);
  });

  return {
    child,
    output: () => output,
    command,
    async serverStats() {
      const csv = await command('show stat');
      const lines = csv.split('\n').filter(Boolean);
      const header = (lines[0] ?? '').replace(/^# /, '').split(',');
      const stats = new Map<string, Record<string, string>>();
      for (const line of lines.slice(1)) {
        const fields = line.split(',');
        const row = Object.fromEntries(header.map((name, index) => [name, fields[index] ?? '']));
        if (row.pxname === 'apps' && row.svname !== 'BACKEND') stats.set(row.svname!, row);
      }
      if (stats.size === 0) throw new Error(`haproxy runtime API: no servers in "show stat": ${csv.slice(0, 500)}`);
      return stats;
    },
    async serverStates() {
      const stats = await this.serverStats();
      return new Map([...stats].map(([name, row]) => [name, row.status ?? '']));
    },
    async waitForStatus(name, test, what, timeoutMs) {
      const start = Date.now();
      let last = '';
      for (;;) {
        try {
          last = (await this.serverStates()).get(name) ?? '';
          if (test(last)) return Date.now() - start;
        } catch (error) {
          last = String(error);
        }
        if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for HAProxy to see ${name} ${what} (last: ${last})\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
