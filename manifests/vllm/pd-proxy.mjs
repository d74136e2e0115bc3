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
// transfer endpoints, P2P only), PORT (default 8080), HOST (default 0.0.0.0),
// UPSTREAM_TIMEOUT_MS (default 300000: no headers, or no body bytes, from a backend for this long fails the
// call), UPSTREAM_MAX_SOCKETS (default 256: connections per backend; more concurrent calls wait for one).
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { urlToHttpOptions } from 'node:url';

const MAX_BODY_BYTES = 16 * 1024 * 1024;
const SHUTDOWN_GRACE_MS = 800;
const CONNECT_TIMEOUT_MS = 10_000;
// Idle upstream sockets are closed before vLLM's (uvicorn's) 5 s keep-alive timeout, so a call is never
// written to a socket the server is closing. Node also honours a shorter `Keep-Alive: timeout=` hint.
const IDLE_SOCKET_MS = 4_000;
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

function positiveInt(name, fallback) {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) {
    console.error(`pd-proxy: ${name} is not a positive integer: ${value}`);
    process.exit(2);
  }
  return n;
}

const PREFILL_URL = requireUrl('PREFILL_URL');
const DECODE_URL = requireUrl('DECODE_URL');
// Without a ZMQ address the id names the Service host alone (seed: ___prefill_addr_vllm-prefill-fs___...).
const PREFILL_ADDR = process.env.PREFILL_ZMQ || new URL(PREFILL_URL).hostname;
const DECODE_ADDR = process.env.DECODE_ZMQ || new URL(DECODE_URL).hostname;
const PORT = Number(process.env.PORT ?? 8080);
const HOST = process.env.HOST || '0.0.0.0';
const UPSTREAM_TIMEOUT_MS = positiveInt('UPSTREAM_TIMEOUT_MS', 300_000);
const UPSTREAM_MAX_SOCKETS = positiveInt('UPSTREAM_MAX_SOCKETS', 256);

const usesHttps = [PREFILL_URL, DECODE_URL].some((u) => u.startsWith('https:'));
const https = usesHttps ? await import('node:https') : null;
const agentOptions = { keepAlive: true, maxSockets: UPSTREAM_MAX_SOCKETS, timeout: IDLE_SOCKET_MS, scheduling: 'lifo' };
const agents = { 'http:': new http.Agent(agentOptions), 'https:': https ? new https.Agent(agentOptions) : null };

/** Request options of a backend base URL, parsed once; `basePath` is prepended to each call's path. */
function backend(base) {
  const url = new URL(base);
  const opts = urlToHttpOptions(url);
  return {
    base,
    request: url.protocol === 'https:' ? https.request : http.request,
    agent: agents[url.protocol],
    protocol: opts.protocol,
    hostname: opts.hostname,
    port: opts.port,
    auth: opts.auth,
    basePath: url.pathname === '/' ? '' : url.pathname,
  };
}

const PREFILL = backend(PREFILL_URL);
const DECODE = backend(DECODE_URL);

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

function readText(stream) {
  return new Promise((resolve, reject) => {
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (s) => (text += s));
    stream.on('end', () => resolve(text));
    stream.on('error', reject);
  });
}

/**
 * One call to a backend over the keep-alive agent. Resolves with the response once a 2xx status is in (its
 * body not yet read); network failures, timeouts and non-2xx answers reject with a BackendError carrying the
 * seed's message; an abort of `signal` destroys the call (socket included) and rejects with the AbortError.
 */
function callBackend(target, method, path, headers, body, signal) {
  return new Promise((resolve, reject) => {
    const req = target.request({
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port,
      auth: target.auth,
      path: target.basePath + path,
      method,
      headers,
      agent: target.agent,
      signal,
      timeout: UPSTREAM_TIMEOUT_MS,
    });
    let response = null;
    let connectTimer = null;
    req.on('socket', (socket) => {
      if (!socket.connecting) return;
      connectTimer = setTimeout(() => req.destroy(new BackendError('Request failed: Connect Timeout Error')), CONNECT_TIMEOUT_MS);
      socket.once('connect', () => clearTimeout(connectTimer));
    });
    req.on('close', () => clearTimeout(connectTimer));
    req.on('timeout', () => {
      if (response) response.destroy(new BackendError('Request failed: Body Timeout Error'));
      else req.destroy(new BackendError('Request failed: Headers Timeout Error'));
    });
    req.on('error', (err) => {
      if (err instanceof BackendError || signal.aborted) reject(err);
      else reject(new BackendError(`Request failed: ${err.message}`));
    });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) {
        response = res;
        resolve(res);
        return;
      }
      readText(res).then(
        (text) => reject(new BackendError(`Request failed: ${status} - ${text}`)),
        () => reject(new BackendError(`Request failed: ${status} - `)),
      );
    });
    req.end(body);
  });
}

/** Reads a response to its end without keeping it, so its socket goes back to the pool. */
function drain(res) {
  return new Promise((resolve, reject) => {
    res.on('end', resolve);
    res.on('error', reject);
    res.resume();
  });
}

/** Streams a backend response to the client as chunks arrive (backpressure through pipe). */
function relay(from, res) {
  return new Promise((resolve, reject) => {
    from.on('end', resolve);
    from.on('error', reject);
    from.pipe(res);
  });
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

function upstreamHeaders(req, requestId, length) {
  const headers = { 'content-type': 'application/json', 'content-length': length, 'x-request-id': requestId };
  if (req.headers.authorization) headers.authorization = req.headers.authorization;
  return headers;
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

  const signal = ctx.abort.signal;
  const prefillText = JSON.stringify(prefillBody(body));
  const prefillHeaders = upstreamHeaders(req, ctx.requestId, Buffer.byteLength(prefillText));
  await drain(await callBackend(PREFILL, 'POST', req.url, prefillHeaders, prefillText, signal));

  const decodeHeaders = upstreamHeaders(req, ctx.requestId, raw.length);
  const decode = await callBackend(DECODE, 'POST', req.url, decodeHeaders, raw, signal);
  const headers = { 'content-type': decode.headers['content-type'] ?? 'application/json', 'x-request-id': ctx.requestId };
  // A sized (non-streamed) answer keeps its length, so headers and body leave in one write; a stream's
  // headers go out at once, before its first event.
  const length = decode.headers['content-length'];
  if (length !== undefined) headers['content-length'] = length;
  res.writeHead(200, headers);
  if (length === undefined) res.flushHeaders();
  await relay(decode, res);
}

async function handlePassThrough(req, res, ctx, targets) {
  let lastError;
  const headers = req.headers.authorization ? { authorization: req.headers.authorization } : {};
  for (const target of targets) {
    let resp;
    try {
      resp = await callBackend(target, 'GET', req.url, headers, undefined, ctx.abort.signal);
    } catch (err) {
      if (!(err instanceof BackendError)) throw err;
      lastError = err;
      continue;
    }
    res.writeHead(resp.statusCode, { 'content-type': resp.headers['content-type'] ?? 'text/plain' });
    await relay(resp, res);
    return;
  }
  throw lastError ?? new BackendError('Request failed: no backend');
}

async function route(req, res, ctx) {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'POST' && GENERATE_PATHS.has(path)) return handleGenerate(req, res, ctx);
  if (req.method === 'GET' && path === '/health') {
    return sendJson(res, 200, { status: 'healthy', prefill_url: PREFILL_URL, decode_url: DECODE_URL });
  }
  if (req.method === 'GET' && path === '/metrics') return handlePassThrough(req, res, ctx, [DECODE, PREFILL]);
  if (req.method === 'GET' && path === '/v1/models') return handlePassThrough(req, res, ctx, [DECODE]);
  return sendJson(res, 404, { error: `Not found: ${req.method} ${path}` });
}

function logRequest(req, res, ctx) {
  const ms = Date.now() - ctx.start;
  const status = ctx.clientGone ? 'aborted' : res.statusCode;
  console.log(`${new Date().toISOString()} ${req.method} ${(req.url ?? '/').split('?')[0]} ${status} ${ms}ms request_id=${ctx.requestId}`);
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
  console.log(`pd-proxy listening on ${HOST}:${port} prefill=${PREFILL_URL} (${PREFILL_ADDR}) decode=${DECODE_URL} (${DECODE_ADDR})`);
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
