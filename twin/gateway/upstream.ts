/** Keep-alive connection pools per upstream ("IP:port"), and request forwarding with streaming both ways. */
import type * as http from 'node:http';
import { Pool, type Dispatcher } from '../../common/undici.ts';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);

/** Connections per upstream. */
const CONNECTIONS = 64;

export class Upstreams {
  private readonly pools = new Map<string, Pool>();

  get(hostPort: string): Pool {
    let p = this.pools.get(hostPort);
    if (!p) {
      p = new Pool(`http://${hostPort}`, {
        connections: CONNECTIONS,
        keepAliveTimeout: 30_000,
        headersTimeout: 0,
        bodyTimeout: 0,
        connect: { timeout: 5_000 },
      });
      this.pools.set(hostPort, p);
    }
    return p;
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(pools.map((p) => p.destroy()));
  }
}

/** Request headers for the upstream: drop hop-by-hop ones, add the given ones. */
export function upstreamHeaders(req: http.IncomingMessage, extra: Record<string, string>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || HOP_BY_HOP.has(k)) continue;
    out[k] = v;
  }
  return Object.assign(out, extra);
}

export function downstreamHeaders(h: Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

export interface ForwardOptions {
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body: Buffer | http.IncomingMessage | null;
  signal: AbortSignal;
}

export function forward(pool: Pool, o: ForwardOptions): Promise<Dispatcher.ResponseData> {
  return pool.request({
    method: o.method as Dispatcher.HttpMethod,
    path: o.path,
    headers: o.headers,
    body: o.body,
    signal: o.signal,
  });
}
