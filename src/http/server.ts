import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HttpAddress } from '../config/config.js';
import type { State } from '../lifecycle/types.js';
import type { Logger } from '../log/logger.js';
import { probeAnswers } from '../lifecycle/probe-answers.js';
import { METRICS_CONTENT_TYPE } from './metrics.js';
import { ownConnections } from '../ports/own-connections.js';
import type { ProbeKind, StateFile } from '../state/schema.js';

export interface HttpServer {
  readonly address: HttpAddress;
  close(): Promise<void>;
}

/** A client that has sent not one byte by then is cut off. */
const SILENT_CLIENT_MS = 1500;

const CLIENT_ERRORS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: '413 Payload Too Large',
};

const ROUTES: Record<string, ProbeKind | 'status' | 'metrics'> = {
  '/livez': 'live', '/readyz': 'ready', '/startupz': 'startup', '/status': 'status', '/metrics': 'metrics',
};

/**
 * The optional HTTP server of probes, state and metrics: GET/HEAD only, no request body read, small bounded headers and a
 * request timeout, so a broken or hostile client cannot tie usher up. It never shows the app's
 * argv or environment (they hold secrets).
 */
export function startHttpServer(options: { address: HttpAddress; fd?: number; log: Logger } & Sources): Promise<HttpServer> {
  const server = createServer({
    maxHeaderSize: 8192,
    // A probe is answered in a millisecond: a client that has not sent its request in 2 s is cut
    // off (408), checked every 500 ms rather than Node's default 30 s.
    headersTimeout: 2000,
    requestTimeout: 2000,
    connectionsCheckingInterval: 500,
    keepAliveTimeout: 5000,
  }, (request, response) => {
    handle(request, response, options);
  });
  // Replacing Node's own clientError handler loses its status codes: keep them.
  server.maxConnections = 64; // probes come one at a time; a flood must not eat usher's descriptors
  // Node's headersTimeout counts from the first byte: a client that connects and sends nothing
  // would hold its socket, and one of usher's descriptors, for ever. (Neither socket.setTimeout
  // nor a later timer do: the HTTP server resets the one and, at its headers check, drops its
  // hold on the socket without closing it. So this cut-off comes before that check.)
  server.on('connection', (socket) => {
    ownConnections.accepted(); // a probe's connection is not the app's traffic (--drain-idle)
    const timer = setTimeout(() => {
      if (socket.bytesRead === 0) socket.destroy();
    }, SILENT_CLIENT_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket) => {
    const status = CLIENT_ERRORS[error.code ?? ''] ?? '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    else socket.destroy();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // A socket usher bound at start (a port in use is exit 2 before the app starts), else the address.
    const where = options.fd !== undefined ? { fd: options.fd } : { port: options.address.port, host: options.address.host };
    server.listen(where, () => {
      server.off('error', reject);
      const bound = server.address() as AddressInfo;
      const address = { host: bound.address, port: bound.port };
      options.log.info({ address: `${bound.address}:${bound.port}` }, 'HTTP server listening');
      server.on('error', (error) => options.log.error({ err: error }, 'HTTP server error'));
      resolve({ address, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

interface Sources {
  readonly state: () => State;
  readonly stateFile: () => StateFile;
  readonly metrics: () => string;
}

function handle(request: IncomingMessage, response: ServerResponse, sources: Sources): void {
  const route = ROUTES[(request.url ?? '').split('?')[0] ?? ''];
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return send(response, request, 405, { error: 'method not allowed' }, { Allow: 'GET, HEAD' });
  }
  if (!route) return send(response, request, 404, { error: 'not found' });
  if (route === 'status') return send(response, request, 200, publicState(sources.stateFile()));
  if (route === 'metrics') {
    const text = sources.metrics();
    response.writeHead(200, { 'Content-Type': METRICS_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
    response.end(request.method === 'HEAD' ? undefined : text);
    return;
  }
  const state = sources.state();
  const answer = probeAnswers(state)[route];
  const ok = answer.code === 0;
  send(response, request, ok ? 200 : 503, { ok, code: answer.code, phase: state.phase, reason: ok ? null : answer.reason });
}

/**
 * The state as `/status` shows it. A command check's command line and output may hold a
 * password (`PGPASSWORD=… psql`), and the server may listen on every interface: they stay in
 * state.json, readable inside the container only, and are left out here.
 */
function publicState(state: StateFile): StateFile {
  return {
    ...state,
    checks: state.checks.map((check) => (check.type === 'cmd' ? { ...check, target: '(command)', output: '' } : { ...check, output: '' })),
  };
}

function send(response: ServerResponse, request: IncomingMessage, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...headers });
  response.end(request.method === 'HEAD' ? undefined : text);
}
