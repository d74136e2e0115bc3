/**
 * The EPP's three listeners: the ext-proc stand-in (POST /v1/process, GET /v1/state) on the
 * gRPC port, health on the gRPC health port, Prometheus metrics on the metrics port.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Datastore } from './datastore.ts';
import type { EppMetrics } from './metrics.ts';
import type { PickService } from './service.ts';
import type { PickRequest } from './types.ts';

const MAX_BODY = 1 << 20;

function send(res: http.ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export function toPickRequest(body: unknown): PickRequest {
  const b = (body ?? {}) as Record<string, unknown>;
  const headers: Record<string, string> = {};
  if (b.headers && typeof b.headers === 'object') {
    for (const [k, v] of Object.entries(b.headers as Record<string, unknown>)) headers[k.toLowerCase()] = String(v);
  }
  return {
    requestId: typeof b.requestId === 'string' && b.requestId ? b.requestId : (headers['x-request-id'] ?? crypto.randomUUID()),
    model: typeof b.model === 'string' ? b.model : '',
    promptLength: typeof b.promptLength === 'number' ? b.promptLength : 0,
    headers,
    ...(typeof b.body === 'string' ? { body: b.body } : {}),
    ...(b.noBody === true ? { noBody: true } : {}),
  };
}

/**
 * The exchanges in flight (ext-proc streams): SIGTERM waits for them to end.
 */
class Streams {
  private readonly open = new Set<http.ServerResponse>();
  private emptied: (() => void) | undefined;
  /** set on SIGTERM: new requests are refused, requests in flight go on */
  draining = false;

  /** Resolves when no stream is open any more. */
  idle(): Promise<void> {
    if (this.open.size === 0) return Promise.resolve();
    return new Promise((r) => (this.emptied = r));
  }

  add(res: http.ServerResponse): void {
    this.open.add(res);
    res.on('close', () => {
      this.open.delete(res);
      if (this.open.size === 0) this.emptied?.();
    });
  }
}

/**
 * Twin stand-in for the ext-proc stream, one per request (GAIE v1.2.0 pkg/epp/handlers/server.go `Process`):
 * `POST /v1/process` whose chunked body is JSON lines.
 *
 * - Line 1, the request (id, headers, body): the pick, answered at once. 200 with the pick as the response's
 *   first line, the response staying open while the request is in flight; or the ImmediateResponse status with
 *   its plain-text body.
 * - Line 2, `{"complete":true}`: the response completed (ResponseComplete): the request's active count is released
 *   and `{"released":BOOL}` is the response's last line.
 * - The end of the request body ends the exchange (the response ends then, so the connection is reused). Ending it
 *   without line 2 (a response cut or aborted) releases nothing: the count stays until the scorer's
 *   requestTimeout, as in the real EPP.
 *
 * An EPP that dies cuts every open exchange; the gateway then cuts its client's stream (FailClose), as Envoy
 * does when its ext-proc stream breaks.
 */
function processExchange(svc: PickService, req: http.IncomingMessage, res: http.ServerResponse): void {
  let text = '';
  let size = 0;
  let requestId: string | undefined;
  /** nothing more to read: answered with an error or an unscheduled pick, or released */
  let over = false;
  const onLine = (line: string): void => {
    if (requestId === undefined) {
      let body: unknown;
      try {
        body = JSON.parse(line);
      } catch {
        return fail(400, JSON.stringify({ error: 'body is not JSON' }), 'application/json');
      }
      const pick = toPickRequest(body);
      const out = svc.pick(pick);
      if (out.status !== 200) return fail(out.status, String(out.body), 'text/plain');
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(`${JSON.stringify(out.body)}\n`);
      requestId = pick.requestId;
      // an unscheduled pick (a request without a body) is counted nowhere: nothing to release
      if (!out.body.scheduled) over = true;
      return;
    }
    let complete = false;
    try {
      complete = (JSON.parse(line) as { complete?: unknown }).complete === true;
    } catch {
      // not a completion: the request stays counted
    }
    if (complete) {
      res.write(`${JSON.stringify({ released: svc.done(requestId) })}\n`);
      over = true;
    }
  };
  /** the status and body now, the end when the request body ends (so that the connection can be reused) */
  const fail = (status: number, body: string, type: string): void => {
    over = true;
    if (res.headersSent) return;
    res.writeHead(status, { 'content-type': type });
    res.write(body);
  };
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => {
    if (over) return;
    size += Buffer.byteLength(chunk);
    if (size > MAX_BODY) return fail(400, JSON.stringify({ error: 'body too large' }), 'application/json');
    text += chunk;
    for (let nl = text.indexOf('\n'); nl >= 0 && !over; nl = text.indexOf('\n')) {
      const line = text.slice(0, nl);
      text = text.slice(nl + 1);
      onLine(line);
    }
  });
  req.on('end', () => {
    // a request line without its newline is still the request
    if (!over && requestId === undefined && text.trim()) onLine(text);
    if (!res.headersSent) fail(400, JSON.stringify({ error: 'no request' }), 'application/json');
    res.end();
  });
}

function pickHandler(svc: PickService, streams: Streams): http.RequestListener {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'POST' && path === '/v1/process') {
      // GracefulStop: no new stream once stopping (Envoy sees the ext-proc call fail), streams in flight go on
      if (streams.draining) return void res.socket?.destroy();
      streams.add(res);
      return processExchange(svc, req, res);
    }
    if (req.method === 'GET' && path === '/v1/state') return send(res, 200, svc.state());
    send(res, 404, { error: `no route for ${req.method} ${path}` });
  };
}

function healthHandler(ds: Datastore): http.RequestListener {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/' || path === '/healthz' || path === '/readyz' || path === '/grpc.health.v1.Health/Check') {
      return ds.synced ? send(res, 200, { status: 'SERVING' }) : send(res, 503, { status: 'NOT_SERVING' });
    }
    send(res, 404, { error: 'not found' });
  };
}

function metricsHandler(metrics: EppMetrics): http.RequestListener {
  return (req, res) => {
    if ((req.url ?? '/').split('?')[0] !== '/metrics') return send(res, 404, 'not found\n', 'text/plain');
    metrics.registry.metrics().then(
      (text) => send(res, 200, text, metrics.registry.contentType),
      (err: Error) => send(res, 500, `${err.message}\n`, 'text/plain'),
    );
  };
}

export interface EppServers {
  ports: { grpc: number; metrics: number };
  /**
   * The health port, once it listens: only after the datastore synced. The real EPP's gRPC health service
   * reports SERVING only then (GAIE v1.2.0 cmd/epp/runner/health.go); the twin's kubelet probes gRPC ports over
   * TCP, so a closed port is what keeps the pod unready until the pool is synced.
   */
  health: Promise<number>;
  /**
   * SIGTERM: GAIE v1.2.0 internal/runnable/grpc.go stops the ext-proc server with GracefulStop (no new streams,
   * streams in flight finish); controller-runtime gives up after its graceful shutdown timeout (30s).
   * Resolves when the last request in flight ended or `maxMs` passed.
   */
  drain(maxMs: number): Promise<void>;
  close(): Promise<void>;
}

function listen(handler: http.RequestListener, host: string, port: number): Promise<http.Server> {
  return new Promise((resolve, reject) => {
    const s = http.createServer({ keepAliveTimeout: 65_000 }, handler);
    s.once('error', reject);
    s.listen(port, host, () => resolve(s));
  });
}

export async function startEppServers(o: {
  host: string;
  grpcPort: number;
  healthPort: number;
  metricsPort: number;
  service: PickService;
  datastore: Datastore;
  metrics: EppMetrics;
}): Promise<EppServers> {
  const streams = new Streams();
  const servers = await Promise.all([
    listen(pickHandler(o.service, streams), o.host, o.grpcPort),
    listen(metricsHandler(o.metrics), o.host, o.metricsPort),
  ]);
  const port = (s: http.Server) => (s.address() as AddressInfo).port;
  let closed = false;
  const health = o.datastore.whenSynced.then(async () => {
    if (closed) throw new Error('closed');
    const s = await listen(healthHandler(o.datastore), o.host, o.healthPort);
    servers.push(s);
    return port(s);
  });
  health.catch(() => {});
  return {
    ports: { grpc: port(servers[0]!), metrics: port(servers[1]!) },
    health,
    drain(maxMs) {
      streams.draining = true;
      servers[0]!.close();
      return Promise.race([streams.idle(), new Promise<void>((r) => setTimeout(r, maxMs).unref())]);
    },
    close: () => {
      closed = true;
      return Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      ).then(() => {});
    },
  };
}
