import { expect, test } from '@playwright/test';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';

const PROXY = path.resolve('manifests/vllm/pd-proxy.mjs');
const WAIT_MS = 10_000;

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  closed: Promise<void>;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, seen: Seen) => void | Promise<void>;

/** A stand-in vLLM server on loopback that records what it receives. */
async function fakeVllm(handler: Handler) {
  const seen: Seen[] = [];
  let connections = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const server = http.createServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    res.on('close', () => inFlight--);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const closed = new Promise<void>((resolve) => res.on('close', () => resolve()));
      const s: Seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        closed,
      };
      seen.push(s);
      void handler(req, res, s);
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    /** TCP connections accepted so far: a keep-alive client opens one and reuses it. */
    connections: () => connections,
    /** The most requests this server had open at once. */
    maxInFlight: () => maxInFlight,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function closedPortUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

interface Proxy {
  url: string;
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<number | null>;
}

async function startProxy(env: Record<string, string>): Promise<Proxy> {
  const child = spawn(process.execPath, [PROXY], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`proxy did not start: ${out}`)), WAIT_MS);
    const onData = () => {
      const m = /listening on [^:]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(Number(m[1]));
      }
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`proxy exited ${code}: ${out}`));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), WAIT_MS);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), WAIT_MS);
    }),
  ]);
}

function completionJson(id: string, text: string) {
  return JSON.stringify({ id: `cmpl-${id}`, object: 'text_completion', choices: [{ index: 0, text }] });
}

const prefillHandler: Handler = (_req, res, seen) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(completionJson(String(seen.headers['x-request-id']), 'x'));
};

const REQUEST_ID = /^___prefill_addr_(.+)___decode_addr_(.+)_([0-9a-f]{32})$/;

test.describe('P/D proxy program', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  test.afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(decodeHandler: Handler, extraEnv: Record<string, string> = {}, onPrefill: Handler = prefillHandler) {
    const prefill = await fakeVllm(onPrefill);
    cleanups.push(prefill.stop);
    const decode = await fakeVllm(decodeHandler);
    cleanups.push(decode.stop);
    const proxy = await startProxy({ PREFILL_URL: prefill.url, DECODE_URL: decode.url, ...extraEnv });
    cleanups.push(proxy.stop);
    return { prefill, decode, proxy };
  }

  test('prefill gets max_tokens 1 and stream false; decode gets the original body; both share the seed-format X-Request-Id', async () => {
    const { prefill, decode, proxy } = await setup((_req, res, seen) => {
      const text = completionJson(String(seen.headers['x-request-id']), ' world');
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    });
    const original = {
      model: 'Qwen/Qwen3-Coder-30B-A3B-Instruct',
      messages: [{ role: 'user', content: 'hello-1' }],
      max_tokens: 8,
      max_completion_tokens: 8,
      stream: false,
    };
    const resp = await fetch(`${proxy.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(original),
    });
    expect(resp.status).toBe(200);
    const answer = (await resp.json()) as { id: string; choices: Array<{ text: string }> };
    expect(answer.choices[0]?.text).toBe(' world');

    expect(prefill.seen).toHaveLength(1);
    expect(decode.seen).toHaveLength(1);
    const p = prefill.seen[0]!;
    const d = decode.seen[0]!;
    expect(p.url).toBe('/v1/chat/completions');
    expect(d.url).toBe('/v1/chat/completions');
    expect(JSON.parse(p.body)).toEqual({ ...original, max_tokens: 1, max_completion_tokens: 1, stream: false });
    expect(JSON.parse(d.body)).toEqual(original);

    const id = String(p.headers['x-request-id']);
    expect(d.headers['x-request-id']).toBe(id);
    const m = REQUEST_ID.exec(id);
    expect(m, id).not.toBeNull();
    // Without PREFILL_ZMQ / DECODE_ZMQ the id carries the backends' host names, no port (FS style).
    expect(m![1]).toBe('127.0.0.1');
    expect(m![2]).toBe('127.0.0.1');
    expect(answer.id).toBe(`cmpl-${id}`);
    expect(resp.headers.get('x-request-id')).toBe(id);
    // A non-streamed decode answer keeps its length: headers and body go out together.
    expect(resp.headers.get('content-length')).toBe(String(Buffer.byteLength(completionJson(id, ' world'))));
  });

  test('with PREFILL_ZMQ / DECODE_ZMQ the id names the KV transfer addresses (P2P style), fresh per request', async () => {
    const { prefill, proxy } = await setup(prefillHandler, {
      PREFILL_ZMQ: 'vllm-prefill-p2p:14579',
      DECODE_ZMQ: 'vllm-decode-p2p:14579',
    });
    for (let i = 0; i < 2; i++) {
      const resp = await fetch(`${proxy.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', prompt: 'Hello', max_tokens: 5 }),
      });
      expect(resp.status).toBe(200);
      await resp.arrayBuffer();
    }
    const ids = prefill.seen.map((s) => String(s.headers['x-request-id']));
    expect(ids).toHaveLength(2);
    for (const id of ids) {
      expect(id).toMatch(/^___prefill_addr_vllm-prefill-p2p:14579___decode_addr_vllm-decode-p2p:14579_[0-9a-f]{32}$/);
    }
    expect(ids[0]).not.toBe(ids[1]);
    // A completions body without max_completion_tokens does not gain one.
    expect(JSON.parse(prefill.seen[0]!.body)).toEqual({ model: 'm', prompt: 'Hello', max_tokens: 1, stream: false });
  });

  test('a streamed decode response passes through chunk by chunk, before decode has finished', async () => {
    let releaseSecond!: () => void;
    const secondMayGo = new Promise<void>((resolve) => (releaseSecond = resolve));
    const { prefill, proxy } = await setup(async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"choices":[{"text":"one"}]}\n\n');
      await secondMayGo;
      res.write('data: {"choices":[{"text":"two"}]}\n\n');
      res.end('data: [DONE]\n\n');
    });
    const resp = await fetch(`${proxy.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', prompt: 'Hello', max_tokens: 5, stream: true, stream_options: { include_usage: true } }),
    });
    expect(resp.status).toBe(200);
    expect(resp.headers.get('content-type')).toBe('text/event-stream');
    expect(resp.headers.get('content-length')).toBeNull();
    const reader = resp.body!.getReader();
    const decoder = new TextDecoder();
    // The first event arrives while decode is still holding back the second one.
    const first = await within(reader.read(), 'first SSE chunk');
    expect(decoder.decode(first.value)).toBe('data: {"choices":[{"text":"one"}]}\n\n');
    releaseSecond();
    let rest = '';
    for (let i = 0; i < 100; i++) {
      const { done, value } = await within(reader.read(), 'rest of the stream');
      if (done) break;
      rest += decoder.decode(value, { stream: true });
    }
    expect(rest).toBe('data: {"choices":[{"text":"two"}]}\n\ndata: [DONE]\n\n');
    // Prefill is never streamed and never gets stream_options (vLLM rejects them with stream false).
    const prefillBody = JSON.parse(prefill.seen[0]!.body) as Record<string, unknown>;
    expect(prefillBody.stream).toBe(false);
    expect(prefillBody).not.toHaveProperty('stream_options');
  });

  test('a 503 from decode becomes a 500 with the seed error body', async () => {
    const { proxy } = await setup((_req, res) => {
      res.writeHead(503, { 'content-type': 'text/plain' });
      res.end('Service Unavailable');
    });
    const resp = await fetch(`${proxy.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', prompt: 'Hello', max_tokens: 5 }),
    });
    expect(resp.status).toBe(500);
    expect(await resp.json()).toEqual({ error: 'Request failed: 503 - Service Unavailable' });
  });

  test('a prefill error stops the request before decode is called', async () => {
    const prefill = await fakeVllm((_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end('{"object":"error","message":"too long"}');
    });
    cleanups.push(prefill.stop);
    const decode = await fakeVllm(prefillHandler);
    cleanups.push(decode.stop);
    const proxy = await startProxy({ PREFILL_URL: prefill.url, DECODE_URL: decode.url });
    cleanups.push(proxy.stop);
    const resp = await fetch(`${proxy.url}/v1/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm', prompt: 'Hello' }),
    });
    expect(resp.status).toBe(500);
    expect(await resp.json()).toEqual({ error: 'Request failed: 400 - {"object":"error","message":"too long"}' });
    expect(decode.seen).toHaveLength(0);
  });

  test('an unreachable backend becomes a 500 Request failed answer', async () => {
    const decode = await fakeVllm(prefillHandler);
    cleanups.push(decode.stop);
    const proxy = await startProxy({ PREFILL_URL: await closedPortUrl(), DECODE_URL: decode.url });
    cleanups.push(proxy.stop);
    const resp = await fetch(`${proxy.url}/v1/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm', prompt: 'Hello' }),
    });
    expect(resp.status).toBe(500);
    const body = (await resp.json()) as { error: string };
    expect(body.error).toMatch(/^Request failed: .*ECONNREFUSED/);
    expect(decode.seen).toHaveLength(0);
  });

  test('invalid JSON is a 400, unknown paths a 404', async () => {
    const { prefill, proxy } = await setup(prefillHandler);
    const bad = await fetch(`${proxy.url}/v1/completions`, { method: 'POST', body: '{not json' });
    expect(bad.status).toBe(400);
    const missing = await fetch(`${proxy.url}/v1/nothing`);
    expect(missing.status).toBe(404);
    expect(prefill.seen).toHaveLength(0);
  });

  test('GET /health reports healthy with both URLs', async () => {
    const { prefill, decode, proxy } = await setup(prefillHandler);
    const resp = await fetch(`${proxy.url}/health`);
    expect(resp.status).toBe(200);
    expect(await resp.json()).toEqual({ status: 'healthy', prefill_url: prefill.url, decode_url: decode.url });
  });

  test('GET /metrics passes through decode metrics, and prefill metrics when decode is down', async () => {
    const metricsOf =
      (name: string): Handler =>
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
        res.end(`vllm:num_requests_running{pod="${name}"} 0\n`);
      };
    const prefill = await fakeVllm(metricsOf('prefill'));
    cleanups.push(prefill.stop);
    const decode = await fakeVllm(metricsOf('decode'));
    cleanups.push(decode.stop);
    const proxy = await startProxy({ PREFILL_URL: prefill.url, DECODE_URL: decode.url });
    cleanups.push(proxy.stop);
    const resp = await fetch(`${proxy.url}/metrics`);
    expect(resp.status).toBe(200);
    expect(resp.headers.get('content-type')).toBe('text/plain; version=0.0.4');
    expect(await resp.text()).toBe('vllm:num_requests_running{pod="decode"} 0\n');
    expect(decode.seen[0]?.url).toBe('/metrics');

    const fallback = await startProxy({ PREFILL_URL: prefill.url, DECODE_URL: await closedPortUrl() });
    cleanups.push(fallback.stop);
    const resp2 = await fetch(`${fallback.url}/metrics`);
    expect(resp2.status).toBe(200);
    expect(await resp2.text()).toBe('vllm:num_requests_running{pod="prefill"} 0\n');
  });

  test('GET /v1/models is answered by decode', async () => {
    const { decode, proxy } = await setup((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"object":"list","data":[{"id":"Qwen/Qwen3-Coder-30B-A3B-Instruct"}]}');
    });
    const resp = await fetch(`${proxy.url}/v1/models`);
    expect(resp.status).toBe(200);
    expect(await resp.json()).toEqual({ object: 'list', data: [{ id: 'Qwen/Qwen3-Coder-30B-A3B-Instruct' }] });
    expect(decode.seen.map((s) => s.url)).toEqual(['/v1/models']);
  });

  test('a client that disconnects mid-stream cancels the upstream decode request', async () => {
    const { decode, proxy } = await setup((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"choices":[{"text":"one"}]}\n\n');
      // ...and never finishes on its own.
    });
    const firstChunk = await within(
      new Promise<http.ClientRequest>((resolve, reject) => {
        const req = http.request(`${proxy.url}/v1/completions`, { method: 'POST' }, (res) => {
          res.once('data', () => resolve(req));
          res.on('error', () => undefined);
        });
        req.on('error', reject);
        req.end(JSON.stringify({ model: 'm', prompt: 'Hello', max_tokens: 500, stream: true }));
      }),
      'first chunk through the proxy',
    );
    expect(decode.seen).toHaveLength(1);
    firstChunk.destroy();
    await within(decode.seen[0]!.closed, 'decode connection to close after the client left');
    await expect
      .poll(() => proxy.output(), { timeout: WAIT_MS })
      .toMatch(/POST \/v1\/completions aborted \d+ms request_id=___prefill_addr_/);
  });

  test('logs one line per request and exits 0 on SIGTERM', async () => {
    const { proxy } = await setup(prefillHandler);
    const resp = await fetch(`${proxy.url}/health`);
    await resp.arrayBuffer();
    await expect
      .poll(() => proxy.output(), { timeout: WAIT_MS })
      .toMatch(/GET \/health 200 \d+ms request_id=___prefill_addr_127\.0\.0\.1___decode_addr_127\.0\.0\.1_[0-9a-f]{32}/);
    expect(await proxy.stop()).toBe(0);
  });

  test('sequential requests reuse one keep-alive connection to each backend', async () => {
    const { prefill, decode, proxy } = await setup((_req, res, seen) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(completionJson(String(seen.headers['x-request-id']), ' world'));
    });
    for (let i = 0; i < 5; i++) {
      const resp = await fetch(`${proxy.url}/v1/completions`, {
        method: 'POST',
        body: JSON.stringify({ model: 'm', prompt: `Hello ${i}`, max_tokens: 5 }),
      });
      expect(resp.status).toBe(200);
      await resp.arrayBuffer();
    }
    expect(prefill.seen).toHaveLength(5);
    expect(decode.seen).toHaveLength(5);
    expect(prefill.connections()).toBe(1);
    expect(decode.connections()).toBe(1);
    // GET pass-through calls share the same pool.
    const models = await fetch(`${proxy.url}/v1/models`);
    await models.arrayBuffer();
    expect(decode.seen).toHaveLength(6);
    expect(decode.connections()).toBe(1);
  });

  test('UPSTREAM_MAX_SOCKETS bounds the connections per backend; calls beyond it wait and still succeed', async () => {
    // Decode holds each answer a little, so unbounded concurrent calls would overlap and open more sockets.
    const { prefill, decode, proxy } = await setup(
      (_req, res, seen) => {
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(completionJson(String(seen.headers['x-request-id']), ' world'));
        }, 20);
      },
      { UPSTREAM_MAX_SOCKETS: '1' },
    );
    const statuses = await Promise.all(
      Array.from({ length: 4 }, async (_, i) => {
        const resp = await fetch(`${proxy.url}/v1/completions`, {
          method: 'POST',
          body: JSON.stringify({ model: 'm', prompt: `Hello ${i}`, max_tokens: 5 }),
        });
        await resp.arrayBuffer();
        return resp.status;
      }),
    );
    expect(statuses).toEqual([200, 200, 200, 200]);
    expect(decode.seen).toHaveLength(4);
    expect(decode.maxInFlight()).toBe(1);
    expect(decode.connections()).toBe(1);
    expect(prefill.connections()).toBe(1);
  });

  test('only Authorization of the client headers reaches the backends', async () => {
    const { prefill, decode, proxy } = await setup(prefillHandler);
    const resp = await fetch(`${proxy.url}/v1/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer t0k', 'x-custom': 'no', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', prompt: 'Hello' }),
    });
    expect(resp.status).toBe(200);
    await resp.arrayBuffer();
    for (const s of [prefill.seen[0]!, decode.seen[0]!]) {
      expect(s.headers.authorization).toBe('Bearer t0k');
      expect(s.headers['x-custom']).toBeUndefined();
      expect(s.headers['content-type']).toBe('application/json');
      expect(Number(s.headers['content-length'])).toBe(Buffer.byteLength(s.body));
    }
  });

  test('a decode that sends no headers within UPSTREAM_TIMEOUT_MS becomes a 500 and its call is closed', async () => {
    const { decode, proxy } = await setup(() => undefined, { UPSTREAM_TIMEOUT_MS: '300' });
    const resp = await fetch(`${proxy.url}/v1/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm', prompt: 'Hello' }),
    });
    expect(resp.status).toBe(500);
    expect(await resp.json()).toEqual({ error: 'Request failed: Headers Timeout Error' });
    await within(decode.seen[0]!.closed, 'decode call to be closed');
  });

  test('a prefill that never answers becomes a 500 before decode is called', async () => {
    const { prefill, decode, proxy } = await setup(prefillHandler, { UPSTREAM_TIMEOUT_MS: '300' }, () => undefined);
    const resp = await fetch(`${proxy.url}/v1/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm', prompt: 'Hello' }),
    });
    expect(resp.status).toBe(500);
    expect(await resp.json()).toEqual({ error: 'Request failed: Headers Timeout Error' });
    await within(prefill.seen[0]!.closed, 'prefill call to be closed');
    expect(decode.seen).toHaveLength(0);
  });

  test('a decode stream that stalls past UPSTREAM_TIMEOUT_MS is cut, not ended as if complete', async () => {
    const { decode, proxy } = await setup(
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: {"choices":[{"text":"one"}]}\n\n');
      },
      { UPSTREAM_TIMEOUT_MS: '300' },
    );
    const resp = await fetch(`${proxy.url}/v1/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm', prompt: 'Hello', stream: true }),
    });
    expect(resp.status).toBe(200);
    const reader = resp.body!.getReader();
    const first = await within(reader.read(), 'first SSE chunk');
    expect(new TextDecoder().decode(first.value)).toBe('data: {"choices":[{"text":"one"}]}\n\n');
    await expect(within(reader.read(), 'the cut')).rejects.toThrow(/terminated/);
    await within(decode.seen[0]!.closed, 'decode call to be closed');
    expect(proxy.output()).toMatch(/backend error request_id=___prefill_addr_\S+: Request failed: Body Timeout Error/);
  });

  test('a decode that dies mid-stream cuts the client response', async () => {
    const { proxy } = await setup((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {"choices":[{"text":"one"}]}\n\n', () => setTimeout(() => res.socket?.destroy(), 50));
    });
    const resp = await fetch(`${proxy.url}/v1/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm', prompt: 'Hello', stream: true }),
    });
    expect(resp.status).toBe(200);
    const reader = resp.body!.getReader();
    await within(reader.read(), 'first SSE chunk');
    await expect(within(reader.read(), 'the cut')).rejects.toThrow(/terminated/);
  });

  test('a client that disconnects during prefill cancels the prefill call, and decode is never called', async () => {
    const { prefill, decode, proxy } = await setup(prefillHandler, {}, () => undefined);
    const req = http.request(`${proxy.url}/v1/completions`, { method: 'POST' });
    req.on('error', () => undefined);
    req.end(JSON.stringify({ model: 'm', prompt: 'Hello' }));
    await expect.poll(() => prefill.seen.length, { timeout: WAIT_MS }).toBe(1);
    req.destroy();
    await within(prefill.seen[0]!.closed, 'prefill connection to close after the client left');
    await expect
      .poll(() => proxy.output(), { timeout: WAIT_MS })
      .toMatch(/POST \/v1\/completions aborted \d+ms request_id=___prefill_addr_/);
    expect(decode.seen).toHaveLength(0);
    expect(proxy.output()).not.toMatch(/backend error|proxy error/);
  });

  test('exits 2 with one line when UPSTREAM_TIMEOUT_MS is not a positive integer', async () => {
    const child = spawn(process.execPath, [PROXY], {
      env: { PATH: process.env.PATH ?? '', PREFILL_URL: 'http://127.0.0.1:1', DECODE_URL: 'http://127.0.0.1:1', UPSTREAM_TIMEOUT_MS: '5s' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await within(new Promise<number | null>((resolve) => child.on('exit', resolve)), 'proxy exit');
    expect(code).toBe(2);
    expect(err.trim()).toBe('pd-proxy: UPSTREAM_TIMEOUT_MS is not a positive integer: 5s');
  });

  test('exits 2 with one line when PREFILL_URL is missing', async () => {
    const child = spawn(process.execPath, [PROXY], {
      env: { PATH: process.env.PATH ?? '', DECODE_URL: 'http://127.0.0.1:1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await within(new Promise<number | null>((resolve) => child.on('exit', resolve)), 'proxy exit');
    expect(code).toBe(2);
    expect(err.trim()).toBe('pd-proxy: PREFILL_URL is not set');
  });
});
