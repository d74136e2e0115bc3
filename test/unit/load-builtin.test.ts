import { expect, test } from '@playwright/test';
import { runLoad } from '../../load/builtin/engine.ts';
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
  const result = await runLoad(
    { requests: 10, concurrency: 2, warmup: 4, timeoutMs: 5000, request: post('/ok') },
    { baseUrl: server.url },
  );
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
  const result = await runLoad(
    { requests: 3, concurrency: 3, timeoutMs: 150, request: post('/slow?ms=3000') },
    { baseUrl: server.url },
  );
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
  const result = await runLoad(
    { requests: 2, concurrency: 1, timeoutMs: 2000, request: post('/reset') },
    { baseUrl: server.url },
  );
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
  const result = await runLoad(
    { requests: 1, timeoutMs: 2000, request: post('/status/429') },
    { baseUrl: server.url },
  );
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
  await expect(runLoad({ requests: 1, timeoutMs: 100, request: post('/') }, { baseUrl: 'http://10.255.255.1:18080' }))
    .rejects.toThrow(/refusing to send load to 10\.255\.255\.1:18080: not a loopback address/);
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
