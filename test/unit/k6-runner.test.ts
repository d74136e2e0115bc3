import { expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../../cli/errors.ts';
import { parseK6JsonLines, parseK6Time } from '../../load/k6/output.ts';
import { K6_NOT_FOUND, k6Args, lastStderrLine, runK6 } from '../../load/k6/runner.ts';
import { parseSummaryExport } from '../../load/k6/summary-export.ts';
import { startObservingServer, type ObservingServer } from './load-helpers.ts';

const root = path.resolve(import.meta.dirname, '../..');
const fixtures = path.join(root, 'test/fixtures/k6');
const script = path.join(root, 'k6/gateway-load.ts');
/** test/bin first on PATH: its `k6` is the stand-in. */
const withStandIn = { ...process.env, PATH: `${path.join(root, 'test/bin')}${path.delimiter}${process.env['PATH'] ?? ''}` };
const fixture = (name: string): string => fs.readFileSync(path.join(fixtures, name), 'utf8');

test('k6 times with nanoseconds and zones', () => {
  expect(parseK6Time('2025-06-03T14:02:11.412733105+02:00')).toBeCloseTo(Date.parse('2025-06-03T12:02:11.412Z') + 0.733105, 6);
  expect(parseK6Time('2021-02-24T13:37:10Z')).toBe(Date.parse('2021-02-24T13:37:10Z'));
  expect(parseK6Time('yesterday')).toBeNaN();
});

test('JSON points: one record per http_reqs point, latency and TTFT from matching samples', () => {
  const parsed = parseK6JsonLines(fixture('seed-points.json'), 'seed-points.json');
  expect(parsed.records).toHaveLength(3);
  const [first, second, third] = parsed.records;
  // Ordered by start (end time minus duration): the 200 started first, then the timeout, then the 429.
  expect(first).toMatchObject({ index: 0, status: 200, latencyMs: 402.118, ttftMs: 401.5 });
  expect(first?.tags?.['url']).toBe('http://127.0.0.1:18080/v1/chat/completions');
  expect(second).toMatchObject({ index: 1, error: 'timeout', errorMessage: 'request timeout', latencyMs: 35000.4 });
  expect(second?.status).toBeUndefined();
  expect(third).toMatchObject({ index: 2, status: 429, latencyMs: 12.75 });
  expect(first?.startMs).toBeCloseTo(parseK6Time('2025-06-03T14:02:11.412733105+02:00') - 402.118, 6);
  expect(parsed.droppedIterations).toBe(2);
  expect(parsed.metrics['http_req_failed']).toBe('rate');
});

test('a malformed JSON output is one line naming the file and line', () => {
  expect(() => parseK6JsonLines(fixture('malformed-points.json'), '/tmp/out/k6-points.json')).toThrow(UserError);
  expect(() => parseK6JsonLines(fixture('malformed-points.json'), '/tmp/out/k6-points.json')).toThrow(
    /^malformed k6 output \/tmp\/out\/k6-points\.json:4: not a JSON line: /,
  );
  expect(() => parseK6JsonLines('{"type":"Point","metric":"x"}\n', 'f.json')).toThrow(
    'malformed k6 output f.json:1: not a k6 Metric or Point',
  );
});

test('summary export: a true threshold is a FAILED one (legacy polarity); handleSummary ok is taken as is', () => {
  const failed = parseSummaryExport(fixture('seed-summary-failed.json'), 'f');
  expect(failed.thresholds).toEqual([
    { metric: 'http_req_duration', expression: 'p(95)<30000', ok: false },
    { metric: 'http_req_failed', expression: 'rate<0.01', ok: false },
    { metric: 'checks', expression: 'rate>0.99', ok: false },
  ]);
  expect(failed.httpReqs).toEqual({ count: 3, rate: 0.0857 });
  expect(parseSummaryExport(fixture('seed-summary-passed.json'), 'p').thresholds.every((t) => t.ok)).toBe(true);
  expect(parseSummaryExport(fixture('handle-summary-data.json'), 'h').thresholds).toEqual([
    { metric: 'http_req_failed', expression: 'rate<0.01', ok: true },
    { metric: 'checks', expression: 'rate>0.99', ok: false },
  ]);
  expect(() => parseSummaryExport('{', 'bad.json')).toThrow('malformed k6 summary export bad.json: not JSON');
});

test('command line and stderr helpers', () => {
  expect(k6Args({ script: 's.ts', env: { GATEWAY: 'http://127.0.0.1:1', VUS: '2' }, jsonFile: 'p.json', summaryFile: 's.json' })).toEqual([
    'run',
    '--quiet',
    '--out',
    'json=p.json',
    '--summary-export=s.json',
    '-e',
    'GATEWAY=http://127.0.0.1:1',
    '-e',
    'VUS=2',
    's.ts',
  ]);
  expect(lastStderrLine('a\ntime="x" level=error msg="thresholds on metrics \'checks\' have been crossed"\n\n')).toBe(
    "thresholds on metrics 'checks' have been crossed",
  );
  expect(lastStderrLine('panic: boom\n')).toBe('panic: boom');
});

test.describe('with the stand-in k6 on PATH', () => {
  let server: ObservingServer;
  test.beforeEach(async () => {
    server = await startObservingServer();
  });
  test.afterEach(async () => {
    await server.close();
  });

  test('a passing run: records, statuses and held thresholds', async () => {
    const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'k6-test-'));
    try {
      const result = await runK6({ script, gatewayUrl: server.url, env: { REQUESTS: '20', VUS: '4' }, processEnv: withStandIn, outDir });
      expect(result.engine).toBe('k6');
      expect(result.records).toHaveLength(20);
      expect(server.received).toHaveLength(20);
      expect(result.summary.byStatus).toEqual({ '200': 20 });
      expect(result.thresholds?.length).toBe(3);
      expect(result.thresholds?.every((t) => t.ok)).toBe(true);
      expect(server.maxInFlight).toBeLessThanOrEqual(4);
      expect(fs.existsSync(path.join(outDir, 'k6-points.json'))).toBe(true);
      const body = JSON.parse(server.received[0]?.body ?? '{}') as { model?: string; max_tokens?: number };
      expect(body).toMatchObject({ model: 'Qwen/Qwen3-Coder-30B-A3B-Instruct', max_tokens: 8 });
    } finally {
      fs.rmSync(outDir, { recursive: true, force: true });
    }
  });

  test('exit 99: a result with the crossed thresholds, not an exception', async () => {
    const result = await runK6({
      script,
      gatewayUrl: `${server.url}/status/429`,
      env: { REQUESTS: '6', VUS: '3' },
      processEnv: withStandIn,
    });
    expect(result.summary.byStatus).toEqual({ '429': 6 });
    const failed = (result.thresholds ?? [])
      .filter((t) => !t.ok)
      .map((t) => `${t.metric}: ${t.expression}`)
      .sort();
    expect(failed).toEqual(['checks: rate>0.99', 'gateway_ok: rate>0.99', 'http_req_failed: rate<0.01']);
  });

  test("any other exit: one line with k6's last stderr message", async () => {
    const run = runK6({ script, gatewayUrl: server.url, processEnv: { ...withStandIn, K6_STANDIN_FAULT: 'crash' } });
    await expect(run).rejects.toThrow(UserError);
    await expect(run).rejects.toThrow(/^k6 run failed \(exit 107\): TypeError: Cannot read property 'status' of undefined$/);
  });

  test('a malformed output file: one line naming the file and line', async () => {
    const run = runK6({
      script,
      gatewayUrl: server.url,
      env: { REQUESTS: '2', VUS: '1' },
      processEnv: { ...withStandIn, K6_STANDIN_FAULT: 'malformed-output' },
    });
    await expect(run).rejects.toThrow(/^malformed k6 output .*k6-points\.json:\d+: not a JSON line: \{"type":"Point"/);
  });
});

test('k6 missing from PATH: the one-line install hint', async () => {
  const emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'empty-path-'));
  try {
    const run = runK6({ script, gatewayUrl: 'http://127.0.0.1:9', processEnv: { PATH: emptyDir } });
    await expect(run).rejects.toThrow(UserError);
    await expect(run).rejects.toThrow(K6_NOT_FOUND);
  } finally {
    fs.rmSync(emptyDir, { recursive: true, force: true });
  }
  expect(K6_NOT_FOUND).toBe(
    'k6 not found on PATH: install it (https://grafana.com/docs/k6/latest/set-up/install-k6/) or use engine: builtin',
  );
});

test('a missing script and a remote gateway are refused before k6 runs', async () => {
  await expect(runK6({ script: '/nonexistent/x.ts', processEnv: withStandIn })).rejects.toThrow('k6 script not found: /nonexistent/x.ts');
  await expect(runK6({ script, gatewayUrl: 'http://10.1.2.3:18080', processEnv: withStandIn })).rejects.toThrow(/not a loopback address/);
});
