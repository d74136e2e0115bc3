/**
 * The twin's gateway: one HTTP listener serving the routes of every Gateway in the cluster (the listeners'
 * own ports and hostnames are not bound separately; the twin has one gateway address, 127.0.0.1:18080 as in the
 * seed's port-forward). HTTPRoutes pick a rule (routes.ts), the rule a backendRef by weight, and the backend is
 * a Service (a ready endpoint behind it) or an InferencePool (its EPP picks the endpoint over the twin's
 * /v1/pick protocol, docs/architecture.md). Statuses of Gateways, HTTPRoutes and InferencePools are written
 * through the status subresource.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { compileRoutes, matchRequest, pickWeighted, type CompiledMatch } from '../../k8s-rules/httproute.ts';
import { resolveBackend, servedRoutes, emptySnapshot, type Snapshot } from './snapshot.ts';
import { gatewayStatus, poolStatus, routeStatus, statusUpToDate } from './status.ts';
import { startStore } from './store.ts';
import type { HTTPRoute, KObject, Rng } from './types.ts';
import { Upstreams, downstreamHeaders, forward, upstreamHeaders } from './upstream.ts';

export interface GatewayOptions {
  kubeconfigPath: string;
  host?: string;
  port?: number;
  /** for tests: seeded backend choice */
  rng?: Rng;
  /** one line per event; default stderr */
  log?: (line: string) => void;
}

export interface GatewayHandle {
  url: string;
  /** resolves once the first list of every watched resource is in */
  ready: Promise<void>;
  stop(): Promise<void>;
}

const MAX_POOL_BODY = 32 << 20;
/** How long a pick waits for the picker Service's endpoints to change when none of them answers. */
const EPP_ENDPOINTS_SETTLE_MS = 1000;
const EPP_TIMEOUT_MS = 5_000;

interface Tables {
  snapshot: Snapshot;
  matches: CompiledMatch<HTTPRoute>[];
}

function sendText(res: http.ServerResponse, status: number, body: string, type = 'text/plain'): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) reject(new Error('request body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new Error('client closed the request'));
    });
  });
}

/** model and prompt length (characters) from an OpenAI-style body, for the EPP. */
export function requestFacts(body: Buffer): { model: string; promptLength: number } {
  try {
    const j = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    const model = typeof j.model === 'string' ? j.model : '';
    let promptLength = 0;
    if (typeof j.prompt === 'string') promptLength = j.prompt.length;
    else if (Array.isArray(j.messages)) {
      for (const m of j.messages as { content?: unknown }[]) {
        if (typeof m?.content === 'string') promptLength += m.content.length;
      }
    }
    return { model, promptLength };
  } catch {
    return { model: '', promptLength: 0 };
  }
}

export async function startGateway(opts: GatewayOptions): Promise<GatewayHandle> {
  const host = opts.host ?? '127.0.0.1';
  const rng = opts.rng ?? Math.random;
  const log = opts.log ?? ((l: string) => void process.stderr.write(`${l}\n`));
  const kc = new KubeConfig();
  kc.loadFromFile(opts.kubeconfigPath);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const upstreams = new Upstreams();
  /** one connection per request in flight on each EPP (the ext-proc stream stand-in) */
  const holds = new Upstreams(null);
  let tables: Tables = { snapshot: emptySnapshot(), matches: [] };
  /** Requests waiting for the next change of the cluster view (an EPP endpoint list being updated). */
  const snapshotWaiters: (() => void)[] = [];
  const nextSnapshot = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      snapshotWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  let stopped = false;

  // ---- status writing (serialised, only on change) ----
  let statusRunning = false;
  let statusAgain = false;
  const writeStatuses = async () => {
    if (statusRunning) {
      statusAgain = true;
      return;
    }
    statusRunning = true;
    try {
      do {
        statusAgain = false;
        const s = tables.snapshot;
        const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        const jobs: [KObject, string, Record<string, unknown>][] = [
          ...s.gateways.map((g): [KObject, string, Record<string, unknown>] => [g, 'gateways', gatewayStatus(s, g, host, now)]),
          ...s.routes.map((r): [KObject, string, Record<string, unknown>] => [r, 'httproutes', routeStatus(s, r, now)]),
          ...s.pools.map((p): [KObject, string, Record<string, unknown>] => [p, 'inferencepools', poolStatus(s, p, now)]),
        ];
        for (const [obj, plural, desired] of jobs) {
          if (stopped) return;
          if (statusUpToDate(obj.status, desired)) continue;
          const [group, version] = (obj.apiVersion ?? '').split('/');
          if (!group || !version) continue;
          try {
            await custom.patchNamespacedCustomObjectStatus(
              {
                group,
                version,
                namespace: obj.metadata.namespace ?? 'default',
                plural,
                name: obj.metadata.name,
                body: { status: desired },
              },
              setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
            );
          } catch (err) {
            const code = (err as { code?: number }).code;
            if (code !== 404)
              log(
                `status update of ${plural} ${obj.metadata.namespace}/${obj.metadata.name} failed: ${String((err as Error).message).split('\n')[0]}`,
              );
          }
        }
      } while (statusAgain && !stopped);
    } finally {
      statusRunning = false;
    }
  };

  const store = startStore(
    kc,
    () => {
      const snapshot = store.snapshot();
      tables = { snapshot, matches: compileRoutes(servedRoutes(snapshot)) };
      for (const wake of snapshotWaiters.splice(0)) wake();
      void writeStatuses();
    },
    log,
  );

  // ---- request path ----
  const eppPost = async (epp: string, path: string, body: unknown, signal?: AbortSignal) =>
    upstreams.get(epp).request({
      method: 'POST',
      path,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      ...(signal ? { signal } : {}),
    });

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const { matches, snapshot } = tables;
    const hostHeader = (req.headers.host ?? '').toLowerCase().replace(/:\d+$/, '');
    const m = matchRequest(matches, {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      host: hostHeader,
    });
    if (!m) {
      res.writeHead(404, { 'content-length': 0 });
      res.end();
      return;
    }
    const ref = pickWeighted(m.rule.backendRefs ?? [], rng);
    if (!ref) return sendText(res, 500, 'no backend for the matched route rule\n');
    const backend = resolveBackend(snapshot, m.route, ref);
    if (backend.kind === 'error') return sendText(res, 500, `${backend.message}\n`);

    const requestId = (req.headers['x-request-id'] as string | undefined) ?? randomUUID();
    const abort = new AbortController();
    let timedOut = false;
    const timer = m.timeoutMs
      ? setTimeout(() => {
          timedOut = true;
          abort.abort();
        }, m.timeoutMs)
      : undefined;
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });

    let target: string | undefined;
    // Envoy sends the request headers with end_of_stream when there is no body (a GET, content-length 0)
    const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
    let body: Buffer | http.IncomingMessage | null = hasBody ? req : null;
    const extraHeaders: Record<string, string> = {};
    /** the EPP scheduled this request and counts it until it sees the response complete (POST /v1/done) */
    let complete: (() => void) | undefined;
    let responseComplete = false;
    let eppLost = false;
    const hold = new AbortController();

    try {
      if (backend.kind === 'service') {
        if (backend.targets.length === 0) return sendText(res, 503, 'no healthy upstream');
        target = backend.targets[Math.floor(rng() * backend.targets.length)]!;
      } else {
        if (backend.endpoints.length === 0) return sendText(res, 503, 'no healthy upstream');
        const buf = body ? await readBody(req, MAX_POOL_BODY) : Buffer.alloc(0);
        body = body ? buf : null;
        const facts = requestFacts(buf);
        const headers: Record<string, string> = { 'x-request-id': requestId };
        for (const [k, v] of Object.entries(req.headers)) {
          // credentials never leave the gateway for the EPP
          if (v !== undefined && k !== 'authorization' && k !== 'cookie' && k !== 'proxy-authorization') headers[k] ??= String(v);
        }
        const pickBody = body
          ? { requestId, model: facts.model, promptLength: facts.promptLength, headers, body: buf.toString('utf8') }
          : { requestId, model: '', promptLength: 0, headers, noBody: true };
        let picked: { status: number; text: string } | undefined;
        // Envoy's ext-proc cluster: one EPP endpoint by load balancing; a refused connection (an EPP pod that is
        // going away while the Endpoints still list it) moves on to the next host of the cluster.
        let epp: string | undefined;
        const tryEpps = async (targets: readonly string[]): Promise<boolean> => {
          for (const candidate of rotate(targets, Math.floor(rng() * targets.length))) {
            epp = candidate;
            try {
              const r = await eppPost(
                candidate,
                '/v1/pick',
                pickBody,
                AbortSignal.any([abort.signal, AbortSignal.timeout(EPP_TIMEOUT_MS)]),
              );
              picked = { status: r.statusCode, text: await r.body.text() };
              return true;
            } catch (err) {
              picked = undefined;
              if (!isConnectFailure(err) || abort.signal.aborted) return true;
            }
          }
          return false;
        };
        if (!(await tryEpps(backend.epp)) && !abort.signal.aborted) {
          // simplification (twin/CONTRACT.md): every listed EPP endpoint refused or none is listed, as right after
          // an EPP rollout while its Endpoints catch up; like Envoy once EDS delivers the new host, retry once
          // with the next view of the cluster (at most EPP_ENDPOINTS_SETTLE_MS later)
          await nextSnapshot(EPP_ENDPOINTS_SETTLE_MS);
          const again = resolveBackend(tables.snapshot, m.route, ref);
          if (again.kind === 'pool') await tryEpps(again.epp);
        }
        if (picked && picked.status === 200) {
          const answer = JSON.parse(picked.text) as {
            endpoints?: { address?: string }[];
            headers?: Record<string, string>;
            scheduled?: boolean;
          };
          const addr = answer.endpoints?.[0]?.address;
          if (!addr) return sendText(res, 500, 'endpoint picker returned no endpoint\n');
          target = addr;
          Object.assign(extraHeaders, answer.headers ?? {});
          const chosen = epp;
          if (answer.scheduled !== false && chosen) {
            complete = () =>
              void eppPost(chosen, '/v1/done', { requestId }).then(
                (r) => r.body.dump(),
                () => {},
              );
            // FailClose: the request lives on the EPP's ext-proc stream; if that stream breaks (EPP killed or
            // restarted) Envoy ends the client's stream too. FailOpen (failure_mode_allow) carries on without it.
            if (backend.failureMode === 'FailClose') {
              void holdOn(chosen, requestId, hold.signal).then(() => {
                if (hold.signal.aborted) return;
                eppLost = true;
                abort.abort();
              });
            }
          }
        } else if (picked) {
          // the EPP's ImmediateResponse: its status, its plain-text body (GAIE handlers/server.go buildErrResponse)
          return sendText(res, picked.status, picked.text);
        } else if (backend.failureMode === 'FailOpen') {
          target = backend.endpoints[Math.floor(rng() * backend.endpoints.length)]!;
        } else {
          // Envoy ext_proc, failure_mode_allow false: a failed ext-proc call is a local 500 with an empty body
          // (response code details ext_proc_error_gRPC_error_14)
          return sendText(res, 500, '');
        }
      }

      const headers = upstreamHeaders(req, {
        'x-request-id': requestId,
        'x-forwarded-for': req.socket.remoteAddress ?? '127.0.0.1',
        ...(backend.kind === 'pool' ? { 'x-gateway-destination-endpoint': target } : {}),
        ...extraHeaders,
      });
      if (Buffer.isBuffer(body)) headers['content-length'] = String(body.length);
      const up = await forward(upstreams.get(target), {
        method: req.method ?? 'GET',
        path: `${url.pathname}${url.search}`,
        headers,
        body,
        signal: abort.signal,
      });
      res.writeHead(up.statusCode, downstreamHeaders(up.headers));
      // what the EPP would see of the response: complete on `data: [DONE]` in a chunk (streaming) or on a whole
      // JSON body (GAIE v1.2.0 handlers/server.go + response.go); a cut or non-JSON body never completes
      const streaming = String(up.headers['content-type'] ?? '').includes('text/event-stream');
      const whole: Buffer[] = [];
      for await (const chunk of up.body) {
        if (complete) {
          if (streaming) {
            if (!responseComplete && (chunk as Buffer).includes('data: [DONE]')) responseComplete = true;
          } else whole.push(chunk as Buffer);
        }
        if (!res.write(chunk)) await new Promise<void>((r) => res.once('drain', r).once('close', r));
        if (res.destroyed) break;
      }
      if (complete && !streaming && !res.destroyed) {
        try {
          JSON.parse(Buffer.concat(whole).toString('utf8'));
          responseComplete = true;
        } catch {
          responseComplete = false;
        }
      }
      res.end();
    } catch (err) {
      if (eppLost) {
        if (!res.headersSent) return sendText(res, 500, '');
        return void res.destroy();
      }
      if (timedOut) return sendText(res, 504, 'upstream request timeout');
      if (abort.signal.aborted) return void res.destroy();
      const message = (err as Error).message ?? String(err);
      if (!res.headersSent) {
        sendText(
          res,
          503,
          `upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: ${message}`,
        );
      } else res.destroy();
    } finally {
      if (timer) clearTimeout(timer);
      hold.abort();
      if (responseComplete && !eppLost) complete?.();
    }
  };

  /** Resolves when the EPP's hold on this request ends (done, or the EPP went away) or `signal` aborts. */
  const holdOn = async (epp: string, requestId: string, signal: AbortSignal): Promise<void> => {
    try {
      const r = await holds.get(epp).request({ method: 'GET', path: `/v1/hold?requestId=${encodeURIComponent(requestId)}`, signal });
      await r.body.dump({ limit: 1 << 20 });
    } catch {
      // reset or aborted: either way the hold is over
    }
  };

  const sockets = new Set<Socket>();
  const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    handle(req, res).catch((err: Error) => sendText(res, 500, `${err.message}\n`));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 18080, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  let stopping: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    ready: store.synced,
    stop() {
      stopping ??= (async () => {
        stopped = true;
        const closed = new Promise<void>((r) => server.close(() => r()));
        for (const s of sockets) s.destroy();
        await Promise.allSettled([closed, store.stop(), upstreams.close(), holds.close()]);
      })();
      return stopping;
    },
  };
}

/** The list starting at `start`, wrapping around (every host once, from a load-balanced first pick). */
function rotate<T>(items: readonly T[], start: number): T[] {
  return items.length === 0 ? [] : [...items.slice(start), ...items.slice(0, start)];
}

/** A connection that never opened (refused, reset on connect): another host may be tried. */
function isConnectFailure(err: unknown): boolean {
  const code = (err as { code?: string; cause?: { code?: string } })?.code ?? (err as { cause?: { code?: string } })?.cause?.code;
  return code === 'ECONNREFUSED' || code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EHOSTUNREACH';
}
