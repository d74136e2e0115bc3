import { expect, test } from '@playwright/test';
import { parseDurationMs, parseRatePerSecond } from '../../load/duration.ts';
import { fromSuiteLoad } from '../../load/plan.ts';
import { compileTemplate } from '../../load/builtin/template.ts';
import { classifyError } from '../../load/builtin/errors.ts';
import { firstSseData, responseIdFrom } from '../../load/builtin/response.ts';
import { consoleProgress, formatProgressBar } from '../../load/progress.ts';
import { isLoopbackHost } from '../../load/loopback.ts';

test('durations: suite strings and bare milliseconds', () => {
  expect(parseDurationMs('35s')).toBe(35_000);
  expect(parseDurationMs('500ms')).toBe(500);
  expect(parseDurationMs('1m30s')).toBe(90_000);
  expect(parseDurationMs('2h')).toBe(7_200_000);
  expect(parseDurationMs(250)).toBe(250);
  expect(parseDurationMs('250')).toBe(250);
  expect(parseDurationMs('35 seconds')).toBeUndefined();
  expect(parseDurationMs('')).toBeUndefined();
  expect(parseDurationMs(-1)).toBeUndefined();
});

test('rates: numbers and k6-style per-unit strings', () => {
  expect(parseRatePerSecond(10)).toBe(10);
  expect(parseRatePerSecond('10/s')).toBe(10);
  expect(parseRatePerSecond('600/m')).toBe(10);
  expect(parseRatePerSecond('5/2s')).toBe(2.5);
  expect(parseRatePerSecond('fast')).toBeUndefined();
  expect(parseRatePerSecond(0)).toBeUndefined();
});

test("the seed's suite load section becomes a closed-model plan", () => {
  const load = fromSuiteLoad({
    engine: 'builtin',
    requests: 60,
    concurrency: 12,
    timeout: '35s',
    warmup: 2,
    request: {
      path: '/v1/chat/completions',
      body: { model: 'Qwen/Qwen3-Coder-30B-A3B-Instruct', messages: [{ role: 'user', content: 'hello-{{i}}' }], max_tokens: 8 },
    },
    thresholds: { http_req_failed: ['rate<0.01'], checks: 'rate>0.99' },
  });
  expect(load.engine).toBe('builtin');
  expect(load.plan).toMatchObject({ requests: 60, concurrency: 12, timeoutMs: 35_000, warmup: 2 });
  expect(load.plan.request.method).toBe('POST');
  expect(load.plan.request.headers['content-type']).toBe('application/json');
  expect(load.thresholds).toEqual({ http_req_failed: ['rate<0.01'], checks: ['rate>0.99'] });
});

test('open-model fields, k6 script, defaults and clear errors', () => {
  const load = fromSuiteLoad({ engine: 'k6', rate: '20/s', duration: '1m', maxInFlight: 50, script: 'k6/gateway-load.ts' });
  expect(load.plan).toMatchObject({ rate: 20, durationMs: 60_000, maxInFlight: 50, timeoutMs: 35_000 });
  expect(load.script).toBe('k6/gateway-load.ts');
  expect(fromSuiteLoad(undefined).plan.request.path).toBe('/v1/chat/completions');
  expect(() => fromSuiteLoad({ timeout: 'soon' })).toThrow('load.timeout: not a duration: "soon"');
  expect(() => fromSuiteLoad({ engine: 'jmeter' })).toThrow(/unknown engine "jmeter"/);
});

test('templates: {{i}} in path, headers and body; stream flag added only when absent', () => {
  const render = compileTemplate(
    { method: 'post', path: '/p/{{i}}', headers: { 'x-n': '{{i}}-{{i}}' }, body: { content: 'hello-{{i}}', note: 'quote " {{i}}' } },
    { stream: true },
  );
  const r = render(7);
  expect(r).toEqual({
    method: 'POST',
    path: '/p/7',
    headers: { 'x-n': '7-7', 'content-type': 'application/json' },
    body: JSON.stringify({ content: 'hello-7', note: 'quote " 7', stream: true }),
  });
  const keep = compileTemplate({ method: 'POST', path: '/', headers: {}, body: { stream: false } }, { stream: true });
  expect(JSON.parse(keep(1).body ?? '')).toEqual({ stream: false });
});

test('error kinds from undici / Node codes', () => {
  const withCode = (code: string): Error => Object.assign(new Error(code), { code });
  expect(classifyError(withCode('ECONNREFUSED'), false)).toBe('connection-refused');
  expect(classifyError(new AggregateError([withCode('ECONNREFUSED')]), false)).toBe('connection-refused');
  expect(classifyError(withCode('ECONNRESET'), false)).toBe('reset');
  expect(classifyError(withCode('UND_ERR_SOCKET'), false)).toBe('reset');
  expect(classifyError(withCode('UND_ERR_HEADERS_TIMEOUT'), false)).toBe('timeout');
  expect(classifyError(Object.assign(new Error('aborted'), { name: 'AbortError' }), false)).toBe('aborted');
  expect(classifyError(Object.assign(new Error('aborted'), { name: 'AbortError' }), true)).toBe('timeout');
  expect(classifyError(new Error('weird'), false)).toBe('other');
});

test('response ids from JSON, truncated JSON and the first SSE event', () => {
  expect(responseIdFrom('{"id":"cmpl-___prefill_addr_vllm-prefill-fs___decode_addr_vllm-decode-fs_ab12","object":"x"}')).toBe(
    'cmpl-___prefill_addr_vllm-prefill-fs___decode_addr_vllm-decode-fs_ab12',
  );
  expect(responseIdFrom('{"id":"cmpl-1","choices":[{"text":"trunc')).toBe('cmpl-1');
  expect(responseIdFrom('not json')).toBeUndefined();
  expect(firstSseData(': c\n\ndata: {"id":"a"}\n\ndata: {"id":"b"}\n')).toBe('{"id":"a"}');
  expect(firstSseData('data: {"id":"a"')).toBeUndefined();
});

test('progress: a bar on a TTY, throttled plain lines elsewhere', () => {
  const p = { done: 30, total: 60, errors: 1, inFlight: 12, dropped: 0, elapsedMs: 1000, rate: 30 };
  expect(formatProgressBar(p, 10)).toBe('[#####-----] 30/60 · 1 errors · 30.0 req/s');
  const lines: string[] = [];
  const plain = consoleProgress({ isTTY: false, write: (t: string) => lines.push(t) }, 5000);
  plain({ ...p, elapsedMs: 5000 });
  plain({ ...p, elapsedMs: 6000 });
  plain({ ...p, elapsedMs: 10_000 });
  plain({ ...p, elapsedMs: 10_500, final: true });
  expect(lines).toHaveLength(3);
  expect(lines[0]).toBe('load: 30/60 done, 1 errors, 30.0 req/s, 5.0 s\n');
  const tty: string[] = [];
  consoleProgress({ isTTY: true, write: (t: string) => tty.push(t) })(p);
  expect(tty[0]?.startsWith('\r')).toBe(true);
});

test('loopback hosts', () => {
  for (const h of ['127.0.0.1', '127.0.2.9', 'localhost', '[::1]']) expect(isLoopbackHost(h)).toBe(true);
  for (const h of ['10.0.0.1', '128.0.0.1', 'example.com', '127.0.0.1.nip.io']) expect(isLoopbackHost(h)).toBe(false);
});
