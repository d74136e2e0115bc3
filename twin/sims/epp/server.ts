/**
 * The EPP's three listeners: the ext-proc stand-in (POST /v1/pick, POST /v1/done, GET /v1/state) on the
 * gRPC port, health on the gRPC health port, Prometheus metrics on the metrics port.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Datastore } from './datastore.ts';
import type { EppMetrics } from './metrics.ts';
import type { PickService } from './service.ts';
import type { PickRequest } from './types.ts';

const MAX_BODY = 1 << 20;

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      try {
        resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {});
      } catch {
        reject(new Error('body is not JSON'));
      }
    });
    req.on('error', reject);
  });
}

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
 * Twin stand-in for the ext-proc stream's lifetime: `GET /v1/hold?requestId=` answers headers at once and stays
 * open until the request is done (or the EPP dies, which cuts it: the gateway then cuts the client's stream as
 * Envoy does when its ext-proc stream breaks).
 */
class Holds {
  private readonly open = new Map<string, Set<http.ServerResponse>>();
  private emptied: (() => void) | undefined;
  /** set on SIGTERM: new requests are refused, requests in flight go on */
  draining = false;

  /** Resolves when no request is held open any more. */
  idle(): Promise<void> {
    if (this.open.size === 0) return Promise.resolve();
    return new Promise((r) => (this.emptied = r));
  }

  private check(): void {
    if (this.open.size === 0) this.emptied?.();
  }

  add(id: string, res: http.ServerResponse): void {
    let s = this.open.get(id);
    if (!s) this.open.set(id, (s = new Set()));
    s.add(res);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.flushHeaders();
    res.on('close', () => {
      s.delete(res);
      if (s.size === 0 && this.open.get(id) === s) this.open.delete(id);
      this.check();
    });
  }

  end(id: string): void {
    for (const res of this.open.get(id) ?? []) res.end('done\n');
    this.open.delete(id);
    this.check();
  }
}

function pickHandler(svc: PickService, holds: Holds): http.RequestListener {
  return (req, res) => {
    const [path, query] = (req.url ?? '/').split('?') as [string, string | undefined];
    // GracefulStop: no new stream once stopping (Envoy sees the ext-proc call fail), streams in flight go on
    if (holds.draining && (path === '/v1/pick' || path === '/v1/hold')) return void res.socket?.destroy();
    if (req.method === 'GET' && path === '/v1/hold') {
      const id = new URLSearchParams(query ?? '').get('requestId');
      if (!id) return send(res, 400, { error: 'requestId is required' });
      return holds.add(id, res);
    }
    if (req.method === 'POST' && (path === '/v1/pick' || path === '/v1/done')) {
      readJson(req).then(
        (body) => {
          if (path === '/v1/pick') {
            const out = svc.pick(toPickRequest(body));
            if (out.status === 200) send(res, 200, out.body);
            else send(res, out.status, out.body, 'text/plain');
          } else {
            const b = body as { requestId?: unknown; complete?: unknown };
            const id = b.requestId;
            if (typeof id !== 'string') return send(res, 400, { error: 'requestId is required' });
            // complete: false — the stream ended without the EPP seeing the response complete (abort, cut):
            // no ResponseComplete, the count stays until the timeout
            const released = b.complete === false ? false : svc.done(id);
            holds.end(id);
            send(res, 200, { released });
          }
        },
        (err: Error) => send(res, 400, { error: err.message }),
      );
      return;
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
  const holds = new Holds();
  const servers = await Promise.all([
    listen(pickHandler(o.service, holds), o.host, o.grpcPort),
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
      holds.draining = true;
      servers[0]!.close();
      return Promise.race([holds.idle(), new Promise<void>((r) => setTimeout(r, maxMs).unref())]);
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
