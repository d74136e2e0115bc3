/**
 * The twin's gateway: one HTTP listener serving the routes of every Gateway in the cluster (the listeners'
 * own ports and hostnames are not bound separately; the twin has one gateway address, 127.0.0.1:18080 as in the
 * seed's port-forward). HTTPRoutes pick a rule (routes.ts), the rule a backendRef by weight, and the backend is
 * a Service (a ready endpoint behind it) or an InferencePool (its EPP picks the endpoint over the twin's
 * /v1/process protocol, docs/architecture.md). Statuses of Gateways, HTTPRoutes and InferencePools are written
 * through the status subresource.
 */
import { randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { Dispatcher } from 'undici';
import type { AddressInfo, Socket } from 'node:net';
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '#client-node';
import { compileRoutes, matchRequest, pickWeighted, type CompiledMatch } from '../../k8s-rules/httproute.ts';
import { loadKeepAliveKubeConfig } from '../../common/kube-client.ts';
import { resolveBackend, servedRoutes, emptySnapshot, type Resolved, type Snapshot } from './snapshot.ts';
import { gatewayStatus, poolStatus, routeStatus, statusUpToDate } from './status.ts';
import { startStore } from './store.ts';
import type { BackendRef, HTTPRoute, KObject, Rng } from './types.ts';
import { EppAgents, openEppStream, type EppStream, type EppTracking } from './epp-stream.ts';
import { Upstreams, downstreamHeaders, forward, upstreamHeaders } from './upstream.ts';
import { abortAfter } from './abort-after.ts';

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

/** Status writing: serialised (one pass at a time, another pass if the view changed meanwhile), only on change. */
function statusWriter(
  custom: CustomObjectsApi,
  host: string,
  snapshotNow: () => Snapshot,
  isStopped: () => boolean,
  log: (line: string) => void,
): () => Promise<void> {
  let running = false;
  let again = false;
  const writeOne = async (obj: KObject, plural: string, desired: Record<string, unknown>) => {
    if (statusUpToDate(obj.status, desired)) return;
    const [group, version] = (obj.apiVersion ?? '').split('/');
    if (!group || !version) return;
    try {
      await custom.patchNamespacedCustomObjectStatus(
        { group, version, namespace: obj.metadata.namespace ?? 'default', plural, name: obj.metadata.name, body: { status: desired } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    } catch (err) {
      const code = (err as { code?: number }).code;
      if (code !== 404)
        log(
          `status update of ${plural} ${obj.metadata.namespace}/${obj.metadata.name} failed: ${String((err as Error).message).split('\n')[0]}`,
        );
    }
  };
  return async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        const s = snapshotNow();
        const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        const jobs: [KObject, string, Record<string, unknown>][] = [
          ...s.gateways.map((g): [KObject, string, Record<string, unknown>] => [g, 'gateways', gatewayStatus(s, g, host, now)]),
          ...s.routes.map((r): [KObject, string, Record<string, unknown>] => [r, 'httproutes', routeStatus(s, r, now)]),
          ...s.pools.map((p): [KObject, string, Record<string, unknown>] => [p, 'inferencepools', poolStatus(s, p, now)]),
        ];
        for (const [obj, plural, desired] of jobs) {
          if (isStopped()) return;
          await writeOne(obj, plural, desired);
        }
      } while (again && !isStopped());
    } finally {
      running = false;
    }
  };
}

/** What the request path needs of the running gateway. */
interface PathContext {
  tables(): Tables;
  rng: Rng;
  upstreams: Upstreams;
  /** one connection per request in flight on each EPP (the ext-proc stream stand-in) */
  epps: EppAgents;
  /** Resolves at the next change of the cluster view, or after `ms`. */
  nextSnapshot(ms: number): Promise<void>;
}

/** One request's state on its way through the gateway. */
interface Exchange {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  requestId: string;
  /** aborts the upstream calls: client gone, route timeout, EPP stream lost */
  abort: AbortController;
  body: Buffer | http.IncomingMessage | null;
}

/** The EPP's answer, reduced to what the gateway does next. */
type PoolChoice =
  | { kind: 'target'; target: string; headers: Record<string, string>; tracking?: EppTracking }
  /** the response was sent (the EPP's ImmediateResponse, or the gateway's own error) */
  | { kind: 'answered' };

/** What the EPP is told of the request: its id, model, prompt length, headers (no credentials) and body. */
function pickRequestBody(x: Exchange, buf: Buffer | null): Record<string, unknown> {
  const headers: Record<string, string> = { 'x-request-id': x.requestId };
  for (const [k, v] of Object.entries(x.req.headers)) {
    // credentials never leave the gateway for the EPP
    if (v !== undefined && k !== 'authorization' && k !== 'cookie' && k !== 'proxy-authorization') headers[k] ??= String(v);
  }
  if (!buf) return { requestId: x.requestId, model: '', promptLength: 0, headers, noBody: true };
  const facts = requestFacts(buf);
  return { requestId: x.requestId, model: facts.model, promptLength: facts.promptLength, headers, body: buf.toString('utf8') };
}

/**
 * The InferencePool backend: ask the pool's EPP (a /v1/process exchange) for the endpoint. Envoy's ext-proc cluster: one EPP
 * endpoint by load balancing; a refused connection (an EPP pod that is going away while the Endpoints still
 * list it) moves on to the next host of the cluster.
 */
async function choosePoolTarget(
  ctx: PathContext,
  x: Exchange,
  m: { route: HTTPRoute },
  ref: BackendRef,
  backend: PoolBackend,
): Promise<PoolChoice> {
  if (backend.endpoints.length === 0) return answered(x.res, 503, 'no healthy upstream');
  const buf = x.body ? await readBody(x.req, MAX_POOL_BODY) : null;
  x.body = buf;
  const pickBody = pickRequestBody(x, buf);
  let stream: EppStream | undefined;
  const tryEpps = async (targets: readonly string[]): Promise<boolean> => {
    for (const candidate of rotate(targets, Math.floor(ctx.rng() * targets.length))) {
      const deadline = abortAfter(x.abort.signal, EPP_TIMEOUT_MS);
      try {
        stream = await openEppStream(ctx.epps, candidate, pickBody, deadline.signal);
        return true;
      } catch (err) {
        stream = undefined;
        if (!isConnectFailure(err) || x.abort.signal.aborted) return true;
      } finally {
        deadline.done();
      }
    }
    return false;
  };
  if (!(await tryEpps(backend.epp)) && !x.abort.signal.aborted) {
    // simplification (twin/CONTRACT.md): every listed EPP endpoint refused or none is listed, as right after
    // an EPP rollout while its Endpoints catch up; like Envoy once EDS delivers the new host, retry once
    // with the next view of the cluster (at most EPP_ENDPOINTS_SETTLE_MS later)
    await ctx.nextSnapshot(EPP_ENDPOINTS_SETTLE_MS);
    const again = resolveBackend(ctx.tables().snapshot, m.route, ref);
    if (again.kind === 'pool') await tryEpps(again.epp);
  }
  if (stream?.kind === 'picked') {
    const addr = stream.answer.endpoints?.[0]?.address;
    if (!addr) {
      stream.tracking?.finish(false);
      return answered(x.res, 500, 'endpoint picker returned no endpoint\n');
    }
    return {
      kind: 'target',
      target: addr,
      headers: stream.answer.headers ?? {},
      ...(stream.tracking ? { tracking: stream.tracking } : {}),
    };
  }
  // the EPP's ImmediateResponse: its status, its plain-text body (GAIE handlers/server.go buildErrResponse)
  if (stream) return answered(x.res, stream.status, stream.text);
  if (backend.failureMode === 'FailOpen') {
    return { kind: 'target', target: backend.endpoints[Math.floor(ctx.rng() * backend.endpoints.length)]!, headers: {} };
  }
  // Envoy ext_proc, failure_mode_allow false: a failed ext-proc call is a local 500 with an empty body
  // (response code details ext_proc_error_gRPC_error_14)
  return answered(x.res, 500, '');
}

function answered(res: http.ServerResponse, status: number, body: string): PoolChoice {
  sendText(res, status, body);
  return { kind: 'answered' };
}

/**
 * Streams the upstream answer to the client and says whether the EPP would have seen the response complete:
 * on `data: [DONE]` in a chunk (streaming) or on a whole JSON body (GAIE v1.2.0 handlers/server.go +
 * response.go); a cut or non-JSON body never completes. `watch` false: nobody asks, nothing is kept.
 */
async function relayResponse(up: Dispatcher.ResponseData, res: http.ServerResponse, watch: boolean): Promise<boolean> {
  res.writeHead(up.statusCode, downstreamHeaders(up.headers));
  const streaming = String(up.headers['content-type'] ?? '').includes('text/event-stream');
  let complete = false;
  const whole: Buffer[] = [];
  for await (const chunk of up.body) {
    if (watch) {
      if (streaming) {
        if (!complete && (chunk as Buffer).includes('data: [DONE]')) complete = true;
      } else whole.push(chunk as Buffer);
    }
    if (!res.write(chunk)) await new Promise<void>((r) => res.once('drain', r).once('close', r));
    if (res.destroyed) break;
  }
  if (watch && !streaming && !res.destroyed) complete = isJson(whole.length === 1 ? whole[0]! : Buffer.concat(whole));
  res.end();
  return complete;
}

function isJson(b: Buffer): boolean {
  try {
    JSON.parse(b.toString('utf8'));
    return true;
  } catch {
    return false;
  }
}

/**
 * The EPP scheduled this request: it counts it until it sees the response complete (ResponseComplete on the
 * request's stream). With FailClose the request lives on that stream: if it breaks (EPP killed or restarted)
 * Envoy ends the client's stream too; FailOpen (failure_mode_allow) carries on without it.
 */
function watchEppStream(x: Exchange, tracking: EppTracking, failClose: boolean): EppTracking {
  // FailOpen: a broken stream changes nothing for the request (it is never "lost")
  if (!failClose) return { lost: false, broken: new Promise<void>(() => {}), finish: (complete) => tracking.finish(complete) };
  void tracking.broken.then(() => x.abort.abort());
  return tracking;
}

async function handleRequest(ctx: PathContext, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://gateway');
  const { matches, snapshot } = ctx.tables();
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
  const ref = pickWeighted(m.rule.backendRefs ?? [], ctx.rng);
  if (!ref) return sendText(res, 500, 'no backend for the matched route rule\n');
  const backend = resolveCached(snapshot, m.route, ref);
  if (backend.kind === 'error') return sendText(res, 500, `${backend.message}\n`);

  // Envoy sends the request headers with end_of_stream when there is no body (a GET, content-length 0)
  const hasBody = req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] ?? '0') !== '0';
  const x: Exchange = {
    req,
    res,
    requestId: (req.headers['x-request-id'] as string | undefined) ?? randomUUID(),
    abort: new AbortController(),
    body: hasBody ? req : null,
  };
  let timedOut = false;
  const timer = m.timeoutMs
    ? setTimeout(() => {
        timedOut = true;
        x.abort.abort();
      }, m.timeoutMs)
    : undefined;
  res.on('close', () => {
    if (!res.writableFinished) x.abort.abort();
  });
  let tracked: EppTracking | undefined;
  let responseComplete = false;
  try {
    let target: string;
    let extraHeaders: Record<string, string> = {};
    if (backend.kind === 'service') {
      if (backend.targets.length === 0) return sendText(res, 503, 'no healthy upstream');
      target = backend.targets[Math.floor(ctx.rng() * backend.targets.length)]!;
    } else {
      const choice = await choosePoolTarget(ctx, x, m, ref, backend);
      if (choice.kind === 'answered') return;
      target = choice.target;
      extraHeaders = choice.headers;
      if (choice.tracking) tracked = watchEppStream(x, choice.tracking, backend.failureMode === 'FailClose');
    }
    const headers = upstreamHeaders(req, {
      'x-request-id': x.requestId,
      'x-forwarded-for': req.socket.remoteAddress ?? '127.0.0.1',
      ...(backend.kind === 'pool' ? { 'x-gateway-destination-endpoint': target } : {}),
      ...extraHeaders,
    });
    if (Buffer.isBuffer(x.body)) headers['content-length'] = String(x.body.length);
    const up = await forward(ctx.upstreams.get(target), {
      method: req.method ?? 'GET',
      path: `${url.pathname}${url.search}`,
      headers,
      body: x.body,
      signal: x.abort.signal,
    });
    responseComplete = await relayResponse(up, res, tracked !== undefined);
  } catch (err) {
    if (tracked?.lost) {
      if (!res.headersSent) return sendText(res, 500, '');
      return void res.destroy();
    }
    if (timedOut) return sendText(res, 504, 'upstream request timeout');
    if (x.abort.signal.aborted) return void res.destroy();
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
    tracked?.finish(responseComplete);
  }
}

type PoolBackend = Extract<Resolved, { kind: 'pool' }>;

/** Backend resolution per cluster view: a snapshot never changes, so each backendRef is resolved once per view. */
const resolved = new WeakMap<Snapshot, Map<BackendRef, Resolved>>();
function resolveCached(snapshot: Snapshot, route: HTTPRoute, ref: BackendRef): Resolved {
  let byRef = resolved.get(snapshot);
  if (!byRef) resolved.set(snapshot, (byRef = new Map()));
  let r = byRef.get(ref);
  if (!r) byRef.set(ref, (r = resolveBackend(snapshot, route, ref)));
  return r;
}

export async function startGateway(opts: GatewayOptions): Promise<GatewayHandle> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log ?? ((l: string) => void process.stderr.write(`${l}\n`));
  const kc = loadKeepAliveKubeConfig(opts.kubeconfigPath);
  let tables: Tables = { snapshot: emptySnapshot(), matches: [] };
  /** Requests waiting for the next change of the cluster view (an EPP endpoint list being updated). */
  const snapshotWaiters: (() => void)[] = [];
  let stopped = false;
  const ctx: PathContext = {
    tables: () => tables,
    rng: opts.rng ?? Math.random,
    upstreams: new Upstreams(),
    epps: new EppAgents(),
    nextSnapshot: (ms) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        snapshotWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      }),
  };
  const writeStatuses = statusWriter(
    kc.makeApiClient(CustomObjectsApi),
    host,
    () => tables.snapshot,
    () => stopped,
    log,
  );
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

  const sockets = new Set<Socket>();
  const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    handleRequest(ctx, req, res).catch((err: Error) => sendText(res, 500, `${err.message}\n`));
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
        await Promise.allSettled([closed, store.stop(), ctx.upstreams.close(), ctx.epps.close()]);
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
