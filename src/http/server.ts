import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { HttpAddress } from '../config/config.js';
import type { State } from '../lifecycle/types.js';
import type { Logger } from '../log/logger.js';
import { probeAnswers } from '../lifecycle/probe-answers.js';
import { METRICS_CONTENT_TYPE } from './metrics.js';
import { ownConnections } from '../ports/own-connections.js';
import type { ProbeKind, StateFile } from '../state/schema.js';
import { ConnectionTable, connectionCap } from './connections.js';
import { shownTarget } from '../checks/redact.js';
import { isOutputDetail } from '../checks/check-line.js';

export interface HttpServer {
  readonly address: HttpAddress;
  close(): Promise<void>;
}

/** A client that has sent not one byte by then is cut off. */
const SILENT_CLIENT_MS = 1500;
/** An answer not taken by the client by then (it does not read) is dropped with its connection. */
const ANSWER_MS = 2000;

const CLIENT_ERRORS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: '413 Payload Too Large',
};

const ROUTES: Record<string, ProbeKind | 'status' | 'metrics'> = {
  '/livez': 'live', '/readyz': 'ready', '/startupz': 'startup', '/status': 'status', '/metrics': 'metrics',
};

/**
 * The optional HTTP server of probes, state and metrics: GET/HEAD only, no request body read, small
 * bounded headers, a request timeout and a cap on connections that sheds the oldest idle one, so
 * a broken or hostile client, or a flood of them, cannot tie usher up nor keep a probe out. It
 * never shows the app's argv or environment (they hold secrets).
 */
export function startHttpServer(options: { address: HttpAddress; fd?: number; log: Logger } & Sources): Promise<HttpServer> {
  const connections = new ConnectionTable(connectionCap());
  const server = createServer({
    maxHeaderSize: 8192,
    // A probe is answered in a millisecond: a client that has not sent its request in 2 s is cut
    // off (408), checked every 500 ms rather than Node's default 30 s.
    headersTimeout: 2000,
    requestTimeout: 2000,
    connectionsCheckingInterval: 500,
    keepAliveTimeout: 5000,
  }, (request, response) => {
    track(connections, request.socket, response);
    handle(request, response, options);
  });
  guardConnections(server, connections);
  // Replacing Node's own clientError handler loses its status codes: keep them.
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
      options.log.info({ address: `${bound.address}:${bound.port}`, maxConnections: connections.limit }, 'HTTP server listening');
      server.on('error', (error) => options.log.error({ err: error }, 'HTTP server error'));
      resolve({ address, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

/**
 * Every connection goes into the table, which keeps the cap (no `maxConnections`: Node would
 * refuse the newcomer, the probe, and keep the flood). Node's headersTimeout counts from the
 * first byte: a client that connects and sends nothing would hold its socket, and one of usher's
 * descriptors, until shed. (Neither socket.setTimeout nor a later timer do: the HTTP server
 * resets the one and, at its headers check, drops its hold on the socket without closing it. So
 * this cut-off comes before that check.)
 */
function guardConnections(server: Server, connections: ConnectionTable): void {
  server.on('connection', (socket: Socket) => {
    ownConnections.accepted(); // a probe's connection is not the app's traffic (--drain-idle)
    connections.add(socket);
    const timer = setTimeout(() => {
      if (socket.bytesRead === 0) socket.destroy();
    }, SILENT_CLIENT_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  });
}

/** The connection is busy while its answer is written, ANSWER_MS at most. */
function track(connections: ConnectionTable, socket: Socket, response: ServerResponse): void {
  connections.requestStarted(socket);
  const timer = setTimeout(() => socket.destroy(), ANSWER_MS);
  timer.unref();
  response.once('close', () => {
    clearTimeout(timer);
    connections.requestEnded(socket);
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
    response.writeHead(200, { 'Content-Type': METRICS_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...closeIfBody(request) });
    response.end(request.method === 'HEAD' ? undefined : text);
    return;
  }
  const state = sources.state();
  const answer = probeAnswers(state)[route];
  const ok = answer.code === 0;
  // `detail`: what a failing HTTP or TCP check said (`body: upstream db down`); a command's output
  // is for the exec probes, inside the container, only (see publicState).
  send(response, request, ok ? 200 : 503, { ok, code: answer.code, phase: state.phase, reason: ok ? null : answer.reason, detail: shownDetail(answer.detail) || null });
}

/**
 * The state as `/status` shows it. The server may listen on every interface: a command check's
 * output may hold a password (`PGPASSWORD=… psql` failing loudly), so it stays in state.json,
 * readable inside the container only, where the exec probes print its last line; here it is left
 * out, that last line (the details) included. HTTP and TCP checks' details (a status, an answer's
 * first line, an error) are shown. Targets are the records' own, their secrets hidden already
 * (`checks/redact.ts`); hidden again here, so that no other path to this page can show one.
 */
function publicState(state: StateFile): StateFile {
  return {
    ...state,
    startupDetail: shownDetail(state.startupDetail), readyDetail: shownDetail(state.readyDetail), liveDetail: shownDetail(state.liveDetail),
    checks: state.checks.map((check) => ({ ...check, target: shownTarget(check), output: '', lastDetail: shownDetail(check.lastDetail) })),
  };
}

const shownDetail = (detail: string): string => (isOutputDetail(detail) ? '' : detail);

function send(response: ServerResponse, request: IncomingMessage, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...closeIfBody(request), ...headers });
  response.end(request.method === 'HEAD' ? undefined : text);
}

/**
 * A request that comes with a body is answered without reading it, and its connection closed:
 * kept alive, Node would read the body to reach the next request.
 */
function closeIfBody(request: IncomingMessage): Record<string, string> {
  const length = request.headers['content-length'];
  const hasBody = request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  return hasBody ? { Connection: 'close' } : {};
}
