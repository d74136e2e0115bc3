import { expect, test } from '@playwright/test';
import { runLoad } from '../../load/builtin/engine.ts';
import { InFlight, type InFlightEntry } from '../../load/builtin/inflight.ts';
import { BodyCollector, leadingJsonId, rawHeader, responseIdFrom, SseErrorScanner, sseErrorMessage } from '../../load/builtin/response.ts';
import type { LoadPlan } from '../../load/plan.ts';
import type { LoadProgress } from '../../load/progress.ts';
import { closedPort, startObservingServer, type ObservingServer } from './load-helpers.ts';

let server: ObservingServer;
test.beforeEach(async () => {
  server = await startObservingServer();
});
test.afterEach(async () => {
  await server.close();
});

const post = (path: string, body?: unknown): LoadPlan['request'] => ({
  method: 'POST',
  path,
  headers: { 'content-type': 'application/json' },
  ...(body === undefined ? {} : { body }),
});

test('closed model: exactly N requests, and the server sees exactly C at once', async () => {
  const result = await runLoad(
    { requests: 60, concurrency: 12, timeoutMs: 5000, request: post('/slow?ms=40', { model: 'm' }) },
    { baseUrl: server.url },
  );
  expect(result.engine).toBe('builtin');
  expect(result.records).toHaveLength(60);
  expect(server.received).toHaveLength(60);
  expect(result.summary.byStatus).toEqual({ '200': 60 });
  expect(server.maxInFlight).toBe(12);
  expect(result.records.map((r) => r.index)).toEqual(Array.from({ length: 60 }, (_, i) => i));
  expect(result.records[0]?.responseId).toMatch(/^cmpl-\d+$/);
  expect(result.incomplete).toBeUndefined();
});

test('{{i}} is substituted in path, headers and body: 1..N exactly once each', async () => {
  const N = 50;
  await runLoad(
    {
      requests: N,
      concurrency: 7,
      timeoutMs: 5000,
      request: {
        method: 'POST',
        path: '/echo?n={{i}}',
        headers: { 'content-type': 'application/json', 'x-n': 'req-{{i}}' },
        body: { model: 'Qwen/Qwen3-Coder-30B-A3B-Instruct', messages: [{ role: 'user', content: 'hello-{{i}}' }] },
      },
    },
    { baseUrl: server.url },
  );
  const expected = Array.from({ length: N }, (_, i) => i + 1);
  const fromPath = server.received.map((r) => Number(new URL(r.path, 'http://x').searchParams.get('n'))).sort((a, b) => a - b);
  const fromHeader = server.received.map((r) => Number(String(r.headers['x-n']).slice(4))).sort((a, b) => a - b);
  const fromBody = server.received
    .map((r) => JSON.parse(r.body) as { messages: { content: string }[] })
    .map((b) => Number(b.messages[0]?.content.slice('hello-'.length)))
    .sort((a, b) => a - b);
  expect(fromPath).toEqual(expected);
  expect(fromHeader).toEqual(expected);
  expect(fromBody).toEqual(expected);
});

test('variants are taken in turn: headers added, {{variant}} substituted, records tagged', async () => {
  const result = await runLoad(
    {
      requests: 6,
      concurrency: 2,
      timeoutMs: 5000,
      request: { ...post('/echo', { content: 'hello-{{variant}}-{{i}}' }), headers: { 'content-type': 'application/json' } },
      variants: [
        { name: 'nvlink', headers: { 'x-kv-backend': 'nvlink' } },
        { name: 'fs', headers: { 'x-kv-backend': 'fs' }, path: '/echo-fs' },
      ],
    },
    { baseUrl: server.url },
  );
  const seen = server.received
    .map((r) => ({ header: r.headers['x-kv-backend'], path: r.path, content: (JSON.parse(r.body) as { content: string }).content }))
    .sort((a, b) => a.content.localeCompare(b.content));
  expect(seen).toEqual([
    { header: 'fs', path: '/echo-fs', content: 'hello-fs-2' },
    { header: 'fs', path: '/echo-fs', content: 'hello-fs-4' },
    { header: 'fs', path: '/echo-fs', content: 'hello-fs-6' },
    { header: 'nvlink', path: '/echo', content: 'hello-nvlink-1' },
    { header: 'nvlink', path: '/echo', content: 'hello-nvlink-3' },
    { header: 'nvlink', path: '/echo', content: 'hello-nvlink-5' },
  ]);
  const byIndex = [...result.records].sort((a, b) => a.index - b.index).map((r) => r.tags?.variant);
  expect(byIndex).toEqual(['nvlink', 'fs', 'nvlink', 'fs', 'nvlink', 'fs']);
});

test('warm-up requests are sent but not recorded', async () => {
  const result = await runLoad({ requests: 10, concurrency: 2, warmup: 4, timeoutMs: 5000, request: post('/ok') }, { baseUrl: server.url });
  expect(server.received).toHaveLength(14);
  expect(result.records).toHaveLength(10);
});

test('open model: arrivals spread over the duration, all accounted for', async () => {
  const result = await runLoad(
    { rate: 40, durationMs: 1000, maxInFlight: 20, timeoutMs: 5000, request: post('/ok') },
    { baseUrl: server.url },
  );
  expect(result.records.length + (result.summary.dropped ?? 0)).toBe(40);
  expect(result.records.length).toBeGreaterThanOrEqual(38);
  const times = server.received.map((r) => r.atMs);
  // 40 arrivals at 40/s: the last starts 975 ms after the first, never earlier (timers do not fire early).
  expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(900);
});

test('open model: arrivals beyond maxInFlight are dropped, not queued', async () => {
  const result = await runLoad(
    { rate: 50, durationMs: 600, maxInFlight: 3, timeoutMs: 5000, request: post('/slow?ms=400') },
    { baseUrl: server.url },
  );
  expect(server.maxInFlight).toBeLessThanOrEqual(3);
  expect(result.summary.dropped).toBeGreaterThan(0);
  expect(result.records.length + (result.summary.dropped ?? 0)).toBe(30);
  expect(server.received).toHaveLength(result.records.length);
});

test('a request over its timeout is aborted and recorded as timeout', async () => {
  const result = await runLoad({ requests: 3, concurrency: 3, timeoutMs: 150, request: post('/slow?ms=3000') }, { baseUrl: server.url });
  expect(result.records.map((r) => r.error)).toEqual(['timeout', 'timeout', 'timeout']);
  expect(result.summary.errors).toEqual({ timeout: 3 });
  expect(result.records[0]?.status).toBeUndefined();
});

test('nothing listening: connection-refused', async () => {
  const port = await closedPort();
  const result = await runLoad(
    { requests: 2, concurrency: 1, timeoutMs: 2000, request: post('/ok') },
    { baseUrl: `http://127.0.0.1:${port}` },
  );
  expect(result.summary.errors).toEqual({ 'connection-refused': 2 });
});

test('a socket destroyed by the server: reset', async () => {
  const result = await runLoad({ requests: 2, concurrency: 1, timeoutMs: 2000, request: post('/reset') }, { baseUrl: server.url });
  expect(result.records.map((r) => r.error)).toEqual(['reset', 'reset']);
});

test('streaming: TTFT at the first data: chunk, id from the first event', async () => {
  const result = await runLoad(
    { requests: 2, concurrency: 2, timeoutMs: 5000, stream: true, captureHeaders: ['x-served-by'], request: post('/sse', { model: 'm' }) },
    { baseUrl: server.url },
  );
  for (const r of result.records) {
    expect(r.status).toBe(200);
    expect(r.ttftMs).toBeDefined();
    // The first data: line comes after a comment and before two more writes, so TTFT is strictly inside.
    expect(r.ttftMs ?? Infinity).toBeLessThan(r.latencyMs);
    expect(r.responseId).toBe('cmpl-sse-1');
    expect(r.headers).toEqual({ 'x-served-by': 'vllm-decode-p2p' });
  }
  expect(JSON.parse(server.received[0]?.body ?? '{}')).toEqual({ model: 'm', stream: true });
  expect(result.summary.ttftMs).toBeDefined();
});

test('non-2xx: status recorded with a body excerpt; authorization is never captured', async () => {
  const result = await runLoad({ requests: 1, timeoutMs: 2000, request: post('/status/429') }, { baseUrl: server.url });
  expect(result.records[0]?.status).toBe(429);
  expect(result.records[0]?.errorBody).toContain('InferencePoolResourceExhausted');
  const ok = await runLoad(
    { requests: 1, timeoutMs: 2000, captureHeaders: ['Authorization', 'x-served-by'], request: post('/ok') },
    { baseUrl: server.url },
  );
  expect(ok.records[0]?.headers).toEqual({ 'x-served-by': 'vllm-decode-fs' });
  expect(ok.records[0]?.errorBody).toBeUndefined();
});

test('the hard maxDuration bound aborts in-flight requests and reports the run incomplete', async () => {
  const result = await runLoad(
    { requests: 20, concurrency: 2, timeoutMs: 10_000, maxDurationMs: 300, request: post('/slow?ms=5000') },
    { baseUrl: server.url },
  );
  expect(result.records).toHaveLength(2);
  expect(result.records.every((r) => r.error === 'aborted')).toBe(true);
  expect(result.incomplete).toEqual({ reason: 'maxDuration', notStarted: 18 });
});

test('an external abort signal stops the run', async () => {
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 200);
  const result = await runLoad(
    { requests: 5, concurrency: 5, timeoutMs: 10_000, request: post('/slow?ms=5000') },
    { baseUrl: server.url, signal: ac.signal },
  );
  expect(result.summary.errors).toEqual({ aborted: 5 });
  expect(result.incomplete?.reason).toBe('aborted');
});

test('a non-loopback target is refused unless allowRemote', async () => {
  await expect(runLoad({ requests: 1, timeoutMs: 100, request: post('/') }, { baseUrl: 'http://10.255.255.1:18080' })).rejects.toThrow(
    /refusing to send load to 10\.255\.255\.1:18080: not a loopback address/,
  );
});

test('progress reports done/total and a final tick', async () => {
  const seen: LoadProgress[] = [];
  await runLoad(
    { requests: 20, concurrency: 4, timeoutMs: 5000, request: post('/slow?ms=20') },
    { baseUrl: server.url, onProgress: (p) => seen.push(p), progressEveryMs: 20 },
  );
  const last = seen.at(-1);
  expect(last?.final).toBe(true);
  expect(last?.done).toBe(20);
  expect(last?.total).toBe(20);
});

test('10,000 requests at concurrency 200: every one accounted for, no socket left open', async () => {
  test.setTimeout(90_000);
  const result = await runLoad(
    { requests: 10_000, concurrency: 200, timeoutMs: 20_000, request: post('/ok', { model: 'm', n: '{{i}}' }) },
    { baseUrl: server.url },
  );
  expect(result.records).toHaveLength(10_000);
  const accounted = result.records.filter((r) => r.status !== undefined || r.error !== undefined).length;
  expect(accounted).toBe(10_000);
  expect(result.summary.byStatus['200']).toBe(10_000);
  expect(server.received).toHaveLength(10_000);
  expect(server.maxInFlight).toBeLessThanOrEqual(200);
  await expect.poll(() => server.connections, { timeout: 5000 }).toBe(0);
});

test('keep-alive: N requests at concurrency C open exactly C connections, and never more than C in flight', async () => {
  const result = await runLoad(
    { requests: 300, concurrency: 10, timeoutMs: 5000, request: post('/slow?ms=2', { model: 'm' }) },
    { baseUrl: server.url },
  );
  expect(result.summary.byStatus).toEqual({ '200': 300 });
  expect(server.connectionsOpened).toBe(10);
  expect(server.maxInFlight).toBeLessThanOrEqual(10);
  await expect.poll(() => server.connections, { timeout: 5000 }).toBe(0);
});

test('per-request timeouts on one timer: in a mixed run only the slow requests time out, each once', async () => {
  const result = await runLoad(
    {
      requests: 24,
      concurrency: 4,
      timeoutMs: 300,
      request: post('/ok'),
      variants: [
        { name: 'fast', path: '/slow?ms=5' },
        { name: 'slow', path: '/slow?ms=5000' },
      ],
    },
    { baseUrl: server.url },
  );
  expect(result.records).toHaveLength(24);
  const byVariant = (v: string) => result.records.filter((r) => r.tags?.variant === v);
  expect(byVariant('fast').map((r) => r.status)).toEqual(Array(12).fill(200));
  expect(byVariant('slow').map((r) => r.error)).toEqual(Array(12).fill('timeout'));
  expect(byVariant('slow')[0]?.errorMessage).toBe('no complete response within 300 ms');
  // A timed-out request's connection is dropped (its response would still come): one new connection each.
  expect(server.connectionsOpened).toBeGreaterThanOrEqual(12);
  await expect.poll(() => server.connections, { timeout: 5000 }).toBe(0);
});

test('response ids: read from the head of a large id-first body; a top-level id after a nested one still found', async () => {
  const big = await runLoad({ requests: 2, concurrency: 2, timeoutMs: 5000, request: post('/big?kb=300') }, { baseUrl: server.url });
  for (const r of big.records) {
    expect(r.status).toBe(200);
    expect(r.responseId).toBe('cmpl-big');
    expect(r.bytes).toBeGreaterThan(300 * 1024);
  }
  const late = await runLoad({ requests: 1, timeoutMs: 5000, request: post('/late-id') }, { baseUrl: server.url });
  expect(late.records[0]?.responseId).toBe('cmpl-late');
});

test('in-flight registry: the oldest request expires first, finished ones never, stopAll cuts the rest', async () => {
  const cuts: string[] = [];
  const entry = (name: string): InFlightEntry => ({ deadline: 0, cut: (kind) => cuts.push(`${name}:${kind}`) });
  const registry = new InFlight(30);
  const [a, b, c] = [entry('a'), entry('b'), entry('c')];
  registry.add(a);
  registry.add(b);
  registry.delete(a);
  expect(b.deadline).toBeGreaterThanOrEqual(a.deadline);
  await expect.poll(() => cuts, { timeout: 5000 }).toEqual(['b:timeout']);
  expect(registry.size).toBe(0);
  registry.add(c);
  registry.stopAll();
  expect(cuts).toEqual(['b:timeout', 'c:aborted']);
  expect(registry.size).toBe(0);
  registry.close();
});

test('in-flight registry: entries expire in start order against the clock it is given', async () => {
  let now = 0;
  const cuts: string[] = [];
  const registry = new InFlight(100, () => now);
  const entries = ['a', 'b', 'c'].map((name, k) => {
    now = k * 10;
    const e: InFlightEntry = { deadline: 0, cut: (kind) => cuts.push(`${name}:${kind}`) };
    registry.add(e);
    return e;
  });
  expect(entries.map((e) => e.deadline)).toEqual([100, 110, 120]);
  now = 115; // a and b are past their deadlines when the timer fires, c is not
  await expect.poll(() => cuts, { timeout: 5000 }).toEqual(['a:timeout', 'b:timeout']);
  now = 120;
  await expect.poll(() => cuts, { timeout: 5000 }).toEqual(['a:timeout', 'b:timeout', 'c:timeout']);
  registry.close();
});

test('response helpers: raw header lookup, the id-first shortcut and its fallbacks, the bounded body head', () => {
  const raw = [
    Buffer.from('Content-Type'),
    Buffer.from('text/event-stream'),
    Buffer.from('X-A'),
    Buffer.from('1'),
    Buffer.from('x-a'),
    Buffer.from('2'),
  ];
  expect(rawHeader(raw, 'content-type')).toBe('text/event-stream');
  expect(rawHeader(raw, 'x-a')).toBe('1, 2');
  expect(rawHeader(raw, 'x-b')).toBeUndefined();

  expect(leadingJsonId('{"id":"cmpl-1","object":"x"}')).toBe('cmpl-1');
  expect(leadingJsonId('{"id":"a\\"b","object":"x"}')).toBeUndefined(); // escaped quote: left to JSON.parse
  expect(responseIdFrom('{"id":"a\\"b","object":"x"}')).toBe('a"b');
  expect(leadingJsonId('{ "id": "cmpl-1" }')).toBeUndefined();
  expect(responseIdFrom('{ "id": "cmpl-1" }')).toBe('cmpl-1');
  expect(responseIdFrom('{"choices":[{"id":"inner"}],"id":"outer"}')).toBe('outer');

  const euro = Buffer.from('{"id":"€"}');
  const body = new BodyCollector(euro.byteLength);
  body.push(euro.subarray(0, 8)); // splits the 3-byte €
  body.push(euro.subarray(8));
  body.push(Buffer.alloc(100, 0x20)); // past the head limit: counted, not kept
  expect(body.text()).toBe('{"id":"€"}');
  expect(body.text(3)).toBe('{"i');
  expect(body.bytes).toBe(euro.byteLength + 100);
});

test('a 200 stream that carries an error event is a failed request: status kept, stream-error, the message', async () => {
  const { responses } = await import('../../criteria/responses.ts');
  const result = await runLoad(
    { requests: 2, concurrency: 1, timeoutMs: 5000, stream: true, request: post('/sse-error', { model: 'm' }) },
    { baseUrl: server.url },
  );
  for (const r of result.records) {
    expect(r.status).toBe(200);
    expect(r.error).toBe('stream-error');
    expect(r.errorMessage).toBe('BadRequestError 400: EngineCore encountered an issue. See stack trace (above) for the root cause.');
    expect(r.errorBody).toContain('"type": "BadRequestError"');
    expect(r.responseId).toBe('cmpl-err-1');
  }
  expect(result.summary.byStatus).toEqual({});
  expect(result.summary.errors).toEqual({ 'stream-error': 2 });
  const v = responses({ status: 200, all: true }, { httpRoutes: [], inferencePools: [], load: result });
  expect(v.ok).toBe(false);
  expect(v.summary).toBe('2 of 2 requests did not get 200 (200 stream-error×2)');
  // a clean stream stays a success
  const clean = await runLoad(
    { requests: 1, timeoutMs: 5000, stream: true, request: post('/sse', { model: 'm' }) },
    { baseUrl: server.url },
  );
  expect(clean.records[0]?.error).toBeUndefined();
  expect(responses({ status: 200, all: true }, { httpRoutes: [], inferencePools: [], load: clean }).ok).toBe(true);
});

test('stream error scanner: vLLM nested form in pieces, a last line without newline, token text mentioning "error" is not one', () => {
  const feed = (...parts: string[]): SseErrorScanner => {
    const s = new SseErrorScanner();
    for (const p of parts) s.push(Buffer.from(p));
    s.end();
    return s;
  };
  expect(
    feed('data: {"error": {"message": "boom", "ty', 'pe": "InternalServerError", "param": null, "code": 500}}\n\ndata: [DONE]\n\n').message,
  ).toBe('InternalServerError 500: boom');
  expect(feed('data: {"error":{"message":"x","type":"BadRequestError","param":null,"code":400}}').message).toBe('BadRequestError 400: x');
  expect(feed('data: {"id":"cmpl-1","choices":[{"text":"\\"error\\": none"}]}\n\ndata: [DONE]\n\n').message).toBeUndefined();
  expect(feed('data: {"id":"cmpl-1","error":null}\n\n').message).toBeUndefined();
  expect(sseErrorMessage('data: {"error": "plain"}')).toBe('plain');
  expect(sseErrorMessage(': comment "error"')).toBeUndefined();
});
