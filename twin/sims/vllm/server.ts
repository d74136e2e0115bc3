/**
 * The HTTP side of the simulator: vLLM's OpenAI routes, /health, /metrics, and the twin-only fault admin
 * endpoint `/_twin/faults`. Everything stateful (engine, faults, metrics) is passed in.
 */
import { randomBytes } from 'node:crypto';
import type * as http from 'node:http';
import { Engine, EngineDeadError, RequestAbortedError, type EngineRequest, type EngineResult } from './engine.ts';
import { FaultConfigError, parseFaultConfig, type Faults } from './faults.ts';
import { sleep } from './latency.ts';
import type { Logger } from './log.ts';
import type { SimMetrics } from './metrics.ts';
import {
  ApiError,
  badRequest,
  chatResponse,
  completionResponse,
  modelsResponse,
  parseRequest,
  responseId,
  streamChunk,
  usage,
  usageChunk,
  type ApiKind,
  type ChoiceResult,
  type ParsedRequest,
} from './openai.ts';

export type SimState = 'starting' | 'ready' | 'dead' | 'stopping';

export interface ServerContext {
  state(): SimState;
  engine: Engine;
  faults: Faults;
  metrics: SimMetrics;
  log: Logger;
  servedModelNames: readonly string[];
  model: string;
  maxModelLen: number;
  defaultCompletionTokens: number;
  accessLog: boolean;
  /** Internal request ids get a random suffix (breaks KV keys, as in some vLLM versions). */
  randomizeRequestIds: boolean;
  /** `--enable-request-id-headers`: answer with an `X-Request-Id` header (vLLM sends none by default). */
  requestIdHeaders: boolean;
  podName?: string;
  createdAt: number;
  /** Connections held open by the hang fault, so stop() can drop them. */
  hung: Set<http.ServerResponse>;
}

const MAX_BODY_BYTES = 16 * 1024 * 1024;
const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(res: http.ServerResponse, e: ApiError, headers: Record<string, string> = {}): void {
  sendJson(res, e.status, e.body(), headers);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(badRequest('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest('request body is not valid JSON');
  }
}

/**
 * EngineDeadError outside a stream: vLLM's exception handler answers a bare 500 with no body
 * (vllm-project/vllm v0.15.0 vllm/entrypoints/launcher.py `_add_shutdown_handlers`:
 * `return Response(status_code=HTTPStatus.INTERNAL_SERVER_ERROR)`) and starts the server's termination.
 */
function sendDead(res: http.ServerResponse, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(500, { 'content-length': 0, ...headers });
  res.end();
}

/**
 * An exception inside a stream's generator: the 200 is already sent, so vLLM writes the error as the next event
 * and ends with [DONE] (serving_completion.py / serving_chat.py `except Exception as e:` →
 * `create_streaming_error_response(str(e))`, whose defaults are BadRequestError / 400, then `data: [DONE]`).
 */
function streamErrorEvent(message: string): string {
  return `data: ${JSON.stringify({ error: { message, type: 'BadRequestError', param: null, code: 400 } })}\n\n`;
}

export function createRequestHandler(ctx: ServerContext): http.RequestListener {
  return (req, res) => {
    const started = Date.now();
    if (ctx.accessLog) {
      res.on('finish', () => {
        const peer = `${req.socket.remoteAddress ?? '-'}:${req.socket.remotePort ?? 0}`;
        ctx.log.uvicorn(
          `${peer} - "${req.method} ${req.url} HTTP/${req.httpVersion}" ${res.statusCode} ${STATUS_TEXT[res.statusCode] ?? ''}`.trimEnd(),
        );
      });
    }
    void route(ctx, req, res).catch((e: unknown) => {
      if (e instanceof ApiError) return sendError(res, e);
      ctx.log.api('ERROR', 'api_server.py:1102', `unhandled error after ${Date.now() - started} ms: ${(e as Error).message}`);
      sendError(res, new ApiError(500, 'InternalServerError', 'internal error'));
    });
  };
}

async function route(ctx: ServerContext, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sim');
  const p = url.pathname;
  const m = req.method ?? 'GET';
  if (p === '/health' || p === '/ping') {
    res.writeHead(ctx.state() === 'ready' ? 200 : 503, { 'content-length': 0 });
    res.end();
    return;
  }
  if (p === '/metrics' && m === 'GET') {
    const text = await ctx.metrics.render();
    res.writeHead(200, { 'content-type': ctx.metrics.contentType });
    res.end(text);
    return;
  }
  if (p === '/v1/models' && m === 'GET') {
    return sendJson(res, 200, modelsResponse(ctx.servedModelNames, ctx.model, ctx.maxModelLen, ctx.createdAt));
  }
  if (p === '/version' && m === 'GET') return sendJson(res, 200, { version: '0.15.0' });
  if (p === '/_twin/faults') {
    if (m === 'GET') return sendJson(res, 200, { faults: ctx.faults.config, engineRequests: ctx.faults.engineRequestCount });
    if (m === 'POST' || m === 'PUT') {
      try {
        ctx.faults.set(parseFaultConfig(await readJson(req)));
      } catch (e) {
        if (e instanceof FaultConfigError) throw badRequest(e.message);
        throw e;
      }
      ctx.log.api('WARNING', 'twin', `faults set: ${JSON.stringify(ctx.faults.config)}`);
      return sendJson(res, 200, { faults: ctx.faults.config });
    }
  }
  if ((p === '/v1/completions' || p === '/v1/chat/completions') && m === 'POST') {
    return inference(ctx, p === '/v1/completions' ? 'completion' : 'chat', req, res);
  }
  sendJson(res, m === 'GET' || m === 'POST' ? 404 : 405, { detail: m === 'GET' || m === 'POST' ? 'Not Found' : 'Method Not Allowed' });
}

async function inference(ctx: ServerContext, kind: ApiKind, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const state = ctx.state();
  if (state === 'dead') return sendDead(res);
  if (state !== 'ready') return sendError(res, new ApiError(503, 'ServiceUnavailableError', `server is ${state}`));

  const headerId = req.headers['x-request-id'];
  const xRequestId = typeof headerId === 'string' && headerId !== '' ? headerId : undefined;
  const id = responseId(kind, xRequestId, randomBytes(16).toString('hex'));
  const engineId = ctx.randomizeRequestIds ? `${xRequestId ?? id}-${randomBytes(4).toString('hex')}` : (xRequestId ?? id);
  // api_server.py adds the X-Request-Id response header only with --enable-request-id-headers.
  const headers: Record<string, string> = ctx.requestIdHeaders ? { 'x-request-id': xRequestId ?? id } : {};
  if (ctx.podName) headers['x-pd-twin-pod'] = ctx.podName;

  const client = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) client.abort();
  });
  const body = await readJson(req);

  const fault = ctx.faults.forRequest();
  if (fault.kind === 'hang') {
    ctx.hung.add(res);
    const timer = setTimeout(() => res.destroy(), fault.maxMs);
    res.on('close', () => {
      clearTimeout(timer);
      ctx.hung.delete(res);
    });
    return;
  }
  if (fault.addLatencyMs > 0) {
    try {
      await sleep(fault.addLatencyMs, client.signal);
    } catch {
      return;
    }
  }
  if (fault.kind === 'error') {
    const type = fault.status === 429 ? 'TooManyRequestsError' : fault.status === 503 ? 'ServiceUnavailableError' : 'InternalServerError';
    return sendError(res, new ApiError(fault.status, type, `twin fault injection: ${fault.status}`), headers);
  }

  let parsed: ParsedRequest;
  try {
    parsed = parseRequest(kind, body, {
      servedModelNames: ctx.servedModelNames,
      maxModelLen: ctx.maxModelLen,
      defaultCompletionTokens: ctx.defaultCompletionTokens,
    });
  } catch (e) {
    if (e instanceof ApiError) return sendError(res, e, headers);
    throw e;
  }
  const head = { id, created: Math.floor(Date.now() / 1000), model: parsed.model };
  const kvTransferParams = kvParamsOf(body);
  const seqIds = parsed.promptTokens.map((_, i) => (i === 0 ? engineId : `${engineId}-${i}`));
  const finishReason = parsed.maxTokensGiven ? 'length' : 'stop';

  if (!parsed.stream) {
    const texts = parsed.promptTokens.map(() => [] as string[]);
    try {
      const results = await Promise.all(
        parsed.promptTokens.map((promptTokens, i) =>
          ctx.engine.generate(engineRequest(parsed, i, seqIds[i] ?? engineId, finishReason, kvTransferParams), client.signal, (t) =>
            texts[i]?.push(t),
          ),
        ),
      );
      const choices: ChoiceResult[] = results.map((r, i) => ({ text: (texts[i] ?? []).join(''), finishReason: r.finishReason }));
      const u = sumUsage(results);
      const out = kind === 'chat' ? chatResponse(head, choices, u) : completionResponse(head, choices, u);
      const params = results.find((r) => r.kvTransferParams)?.kvTransferParams;
      if (params) out['kv_transfer_params'] = params;
      sendJson(res, 200, out, headers);
    } catch (e) {
      client.abort(); // stop sibling prompts of a batched request
      if (e instanceof EngineDeadError) return sendDead(res, headers);
      if (e instanceof RequestAbortedError) return void res.destroy();
      throw e;
    }
    return;
  }

  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...headers });
  const write = (o: unknown): void => {
    if (!res.destroyed) res.write(`data: ${JSON.stringify(o)}\n\n`);
  };
  if (kind === 'chat') parsed.promptTokens.forEach((_, i) => write(streamChunk(kind, head, i, { role: true }, null)));
  try {
    const results = await Promise.all(
      parsed.promptTokens.map((promptTokens, i) =>
        ctx.engine.generate(engineRequest(parsed, i, seqIds[i] ?? engineId, finishReason, kvTransferParams), client.signal, (t, k) =>
          write(streamChunk(kind, head, i, { text: t }, k === parsed.maxTokens - 1 ? finishReason : null)),
        ),
      ),
    );
    if (parsed.includeUsage) write(usageChunk(kind, head, sumUsage(results)));
    res.end('data: [DONE]\n\n');
  } catch (e) {
    client.abort();
    if (e instanceof EngineDeadError && !res.destroyed) {
      // Engine death mid-stream: an error event, then [DONE] (the process exits shortly after).
      res.end(streamErrorEvent(e.message) + 'data: [DONE]\n\n');
      return;
    }
    // Client abort: the connection is already gone.
    res.destroy();
    if (!(e instanceof EngineDeadError) && !(e instanceof RequestAbortedError)) throw e;
  }
}

function kvParamsOf(body: unknown): Record<string, unknown> | undefined {
  const p = body && typeof body === 'object' ? (body as Record<string, unknown>)['kv_transfer_params'] : undefined;
  return p && typeof p === 'object' && !Array.isArray(p) ? (p as Record<string, unknown>) : undefined;
}

function engineRequest(
  parsed: ParsedRequest,
  i: number,
  requestId: string,
  finishReason: 'length' | 'stop',
  kvTransferParams: Record<string, unknown> | undefined,
): EngineRequest {
  return {
    requestId,
    promptTokens: parsed.promptTokens[i] ?? 0,
    promptTokenIds: parsed.promptTokenIds[i] ?? [],
    maxTokens: parsed.maxTokens,
    finishReason,
    ...(kvTransferParams ? { kvTransferParams } : {}),
  };
}

function sumUsage(results: readonly EngineResult[]): ReturnType<typeof usage> {
  let p = 0;
  let c = 0;
  for (const r of results) {
    p += r.promptTokens;
    c += r.completionTokens;
  }
  return usage(p, c);
}
