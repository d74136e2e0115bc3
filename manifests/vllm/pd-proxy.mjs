// P/D proxy for disaggregated vLLM serving (prefill then decode), dependency-free Node 20.
//
// POST /v1/completions, /v1/chat/completions:
//   1. send the body to PREFILL_URL with max_tokens 1 (and max_completion_tokens 1 if present), stream false;
//   2. forward the original body to DECODE_URL and stream its response back as it arrives.
//   Both calls carry X-Request-Id: ___prefill_addr_{P}___decode_addr_{D}_{uuid4 hex}, which vLLM's
//   KV connectors use to pair the prefill and decode halves of one request.
// GET /health, GET /metrics (decode's, else prefill's), GET /v1/models (decode's).
//
// Env: PREFILL_URL, DECODE_URL (http://svc:8000), PREFILL_ZMQ / DECODE_ZMQ (host:port of the KV
// transfer endpoints, P2P only), PORT (default 8080), HOST (default 0.0.0.0).
import http from 'node:http';
import { randomUUID } from 'node:crypto';

const MAX_BODY_BYTES = 16 * 1024 * 1024;
const SHUTDOWN_GRACE_MS = 800;
const GENERATE_PATHS = new Set(['/v1/completions', '/v1/chat/completions']);

function trimSlash(url) {
  return url.replace(/\/+$/, '');
}

function requireUrl(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`pd-proxy: ${name} is not set`);
    process.exit(2);
  }
  try {
    return trimSlash(new URL(value).toString());
  } catch {
    console.error(`pd-proxy: ${name} is not a URL: ${value}`);
    process.exit(2);
  }
}

const PREFILL_URL = requireUrl('PREFILL_URL');
const DECODE_URL = requireUrl('DECODE_URL');
// Without a ZMQ address the id names the Service host alone (seed: ___prefill_addr_vllm-prefill-fs___...).
const PREFILL_ADDR = process.env.PREFILL_ZMQ || new URL(PREFILL_URL).hostname;
const DECODE_ADDR = process.env.DECODE_ZMQ || new URL(DECODE_URL).hostname;
const PORT = Number(process.env.PORT ?? 8080);
const HOST = process.env.HOST || '0.0.0.0';

function newRequestId() {
  return `___prefill_addr_${PREFILL_ADDR}___decode_addr_${DECODE_ADDR}_${randomUUID().replaceAll('-', '')}`;
}

function prefillBody(body) {
  const out = { ...body, max_tokens: 1, stream: false };
  if ('max_completion_tokens' in body) out.max_completion_tokens = 1;
  // vLLM rejects stream_options when stream is false.
  delete out.stream_options;
  return out;
}

function sendJson(res, status, obj) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(obj);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

class BackendError extends Error {
  constructor(message) {
    super(message);
    this.name = 'BackendError';
  }
}

/** fetch, turning network failures and non-2xx answers into one BackendError message. */
async function backendFetch(url, init) {
  let resp;
  try {
    resp = await fetch(url, init);
  } catch (err) {
    if (init.signal?.aborted) throw err;
    const cause = err && typeof err === 'object' && 'cause' in err && err.cause ? err.cause : err;
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new BackendError(`Request failed: ${detail}`);
  }
  if (!resp.ok) {
    const text = await resp.text().catch(() => '');
    throw new BackendError(`Request failed: ${resp.status} - ${text}`);
  }
  return resp;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(Object.assign(new Error('request body too large'), { status: 413 }));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function upstreamHeaders(req, requestId) {
  const headers = { 'content-type': 'application/json', 'x-request-id': requestId };
  if (req.headers.authorization) headers.authorization = req.headers.authorization;
  return headers;
}

/** Copy a web stream to the client, respecting backpressure. */
async function pipeBody(body, res) {
  if (!body) return;
  for await (const chunk of body) {
    if (res.destroyed) return;
    if (!res.write(chunk)) {
      await new Promise((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
  }
}

async function handleGenerate(req, res, ctx) {
  let raw;
  try {
    raw = await readBody(req);
  } catch (err) {
    sendJson(res, err.status ?? 400, { error: err.message });
    return;
  }
  let body;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    sendJson(res, 400, { error: 'Request body is not valid JSON' });
    return;
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    sendJson(res, 400, { error: 'Request body must be a JSON object' });
    return;
  }

  const headers = upstreamHeaders(req, ctx.requestId);
  const signal = ctx.abort.signal;

  const prefill = await backendFetch(PREFILL_URL + req.url, {
    method: 'POST',
    headers,
    body: JSON.stringify(prefillBody(body)),
    signal,
  });
  await prefill.arrayBuffer();

  const decode = await backendFetch(DECODE_URL + req.url, { method: 'POST', headers, body: raw, signal });
  res.writeHead(200, {
    'content-type': decode.headers.get('content-type') ?? 'application/json',
    'x-request-id': ctx.requestId,
  });
  res.flushHeaders();
  await pipeBody(decode.body, res);
  res.end();
}

async function handlePassThrough(req, res, ctx, bases) {
  let lastError;
  for (const base of bases) {
    try {
      const resp = await backendFetch(base + req.url, {
        method: 'GET',
        headers: req.headers.authorization ? { authorization: req.headers.authorization } : {},
        signal: ctx.abort.signal,
      });
      res.writeHead(resp.status, { 'content-type': resp.headers.get('content-type') ?? 'text/plain' });
      await pipeBody(resp.body, res);
      res.end();
      return;
    } catch (err) {
      if (!(err instanceof BackendError)) throw err;
      lastError = err;
    }
  }
  throw lastError ?? new BackendError('Request failed: no backend');
}

async function route(req, res, ctx) {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'POST' && GENERATE_PATHS.has(path)) return handleGenerate(req, res, ctx);
  if (req.method === 'GET' && path === '/health') {
    return sendJson(res, 200, { status: 'healthy', prefill_url: PREFILL_URL, decode_url: DECODE_URL });
  }
  if (req.method === 'GET' && path === '/metrics') return handlePassThrough(req, res, ctx, [DECODE_URL, PREFILL_URL]);
  if (req.method === 'GET' && path === '/v1/models') return handlePassThrough(req, res, ctx, [DECODE_URL]);
  return sendJson(res, 404, { error: `Not found: ${req.method} ${path}` });
}

function logRequest(req, res, ctx) {
  const ms = Date.now() - ctx.start;
  const status = ctx.clientGone ? 'aborted' : res.statusCode;
  console.log(
    `${new Date().toISOString()} ${req.method} ${(req.url ?? '/').split('?')[0]} ${status} ${ms}ms request_id=${ctx.requestId}`,
  );
}

const server = http.createServer((req, res) => {
  const ctx = { requestId: newRequestId(), start: Date.now(), abort: new AbortController(), clientGone: false };
  res.on('close', () => {
    if (!res.writableFinished) {
      ctx.clientGone = true;
      ctx.abort.abort();
    }
    logRequest(req, res, ctx);
  });
  route(req, res, ctx).catch((err) => {
    if (ctx.abort.signal.aborted) return;
    if (err instanceof BackendError) {
      console.error(`${new Date().toISOString()} backend error request_id=${ctx.requestId}: ${err.message}`);
      sendJson(res, 500, { error: err.message });
      return;
    }
    console.error(`${new Date().toISOString()} proxy error request_id=${ctx.requestId}: ${err?.message ?? err}`);
    sendJson(res, 500, { error: `Request failed: ${err?.message ?? err}` });
  });
});

server.listen(PORT, HOST, () => {
  const addr = server.address();
  const port = addr && typeof addr === 'object' ? addr.port : PORT;
  console.log(
    `pd-proxy listening on ${HOST}:${port} prefill=${PREFILL_URL} (${PREFILL_ADDR}) decode=${DECODE_URL} (${DECODE_ADDR})`,
  );
});

function shutdown(signal) {
  console.log(`pd-proxy: ${signal}, shutting down`);
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => {
    server.closeAllConnections();
    process.exit(0);
  }, SHUTDOWN_GRACE_MS).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
