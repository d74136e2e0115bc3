import { expect, test } from '@playwright/test';
import * as path from 'node:path';
import { UserError } from '../../cli/errors.ts';
import { runK6 } from '../../load/k6/runner.ts';
import { runK6Script } from '../../load/k6-runtime/run.ts';
import { evaluateThresholds, percentile, type MetricSeries } from '../../load/k6-runtime/thresholds.ts';
import type { LoadResult } from '../../load/result.ts';
import { startObservingServer, type ObservingServer } from './load-helpers.ts';

const root = path.resolve(import.meta.dirname, '../..');
const script = path.join(root, 'k6/gateway-load.ts');
const scripts = path.join(root, 'test/fixtures/k6/scripts');
const withStandIn = { ...process.env, PATH: `${path.join(root, 'test/bin')}${path.delimiter}${process.env['PATH'] ?? ''}` };

test('threshold semantics: rate of a Rate, rate of a Counter per second, trend percentiles', () => {
  const metrics = new Map<string, MetricSeries>([
    ['http_req_failed', { type: 'rate', values: [0, 0, 0, 1] }],
    ['http_reqs', { type: 'counter', values: [1, 1, 1, 1] }],
    ['http_req_duration', { type: 'trend', values: [10, 20, 30, 40, 1000] }],
  ]);
  const verdicts = evaluateThresholds(
    {
      http_req_failed: ['rate<0.01', 'rate<=0.25'],
      http_reqs: ['rate>1', 'count==4'],
      http_req_duration: ['p(95)<800', 'med<31', { threshold: 'avg>100' }],
      absent: ['rate<0.5'],
    },
    metrics,
    2,
  );
  expect(verdicts.map((v) => `${v.metric} ${v.expression} ${v.ok}`)).toEqual([
    'http_req_failed rate<0.01 false',
    'http_req_failed rate<=0.25 true',
    'http_reqs rate>1 true',
    'http_reqs count==4 true',
    'http_req_duration p(95)<800 false',
    'http_req_duration med<31 true',
    'http_req_duration avg>100 true',
    'absent rate<0.5 true',
  ]);
  expect(percentile([10, 20, 30, 40], 50)).toBe(25);
  expect(percentile([10, 20, 30, 40, 1000], 95)).toBeCloseTo(808, 9);
  // a sub-metric needs tagged samples; series without tags (e.g. from k6's JSON output) cannot answer it
  expect(() => evaluateThresholds({ 'http_req_duration{name:x}': ['p(95)<1'] }, metrics, 1)).toThrow('needs tagged samples');
  expect(() => evaluateThresholds({ checks: ['rate is high'] }, metrics, 1)).toThrow(
    'unsupported threshold expression on checks: rate is high',
  );
});

function shape(r: LoadResult): unknown {
  return {
    records: r.records.length,
    keys: Object.keys(r.summary).sort(),
    byStatus: r.summary.byStatus,
    thresholds: (r.thresholds ?? []).map((t) => `${t.metric} ${t.expression} ${t.ok}`).sort(),
  };
}

test.describe('the gateway script under the built-in k6 runtime and under the stand-in k6', () => {
  let server: ObservingServer;
  test.beforeEach(async () => {
    server = await startObservingServer();
  });
  test.afterEach(async () => {
    await server.close();
  });

  test('passing run: same result shape and the same verdict', async () => {
    const env = { REQUESTS: '12', VUS: '3' };
    const embedded = await runK6Script({ script, gatewayUrl: server.url, env });
    const standIn = await runK6({ script, gatewayUrl: server.url, env, processEnv: withStandIn });
    expect(embedded.engine).toBe('k6-script');
    expect(server.received).toHaveLength(24);
    expect(shape(embedded)).toEqual(shape(standIn));
    expect(embedded.thresholds?.every((t) => t.ok)).toBe(true);
    expect(embedded.records[0]?.responseId).toMatch(/^cmpl-/);
    const sent = JSON.parse(server.received[0]?.body ?? '{}') as { messages?: { content: string }[] };
    expect(sent.messages?.[0]?.content).toMatch(/^hello-\d+-\d+$/);
  });

  test('crossed thresholds: the same failed thresholds in both', async () => {
    const env = { REQUESTS: '6', VUS: '2' };
    const gatewayUrl = `${server.url}/status/429`;
    const embedded = await runK6Script({ script, gatewayUrl, env });
    const standIn = await runK6({ script, gatewayUrl, env, processEnv: withStandIn });
    expect(shape(embedded)).toEqual(shape(standIn));
    expect(
      embedded.thresholds
        ?.filter((t) => !t.ok)
        .map((t) => t.metric)
        .sort(),
    ).toEqual(['checks', 'gateway_ok', 'http_req_failed']);
  });

  test('the arrival scenario runs as constant-arrival-rate', async () => {
    const result = await runK6Script({
      script,
      gatewayUrl: server.url,
      env: { SCENARIO: 'arrival', RATE: '20', DURATION: '500ms', VUS: '4' },
    });
    expect(result.records.length + (result.summary.dropped ?? 0)).toBe(10);
    expect(result.thresholds?.every((t) => t.ok)).toBe(true);
  });

  test('k6 API subset: get/post/batch, check, group, sleep, custom metrics, constant-vus', async () => {
    const result = await runK6Script({ script: path.join(scripts, 'apis.js'), env: { GATEWAY: server.url } });
    expect(result.records.length).toBeGreaterThanOrEqual(6);
    expect(result.records.length % 3).toBe(0);
    expect(result.summary.byStatus).toEqual({ '200': result.records.length });
    const vus = new Set(
      server.received.filter((r) => r.path.startsWith('/ok?')).map((r) => new URL(r.path, 'http://x').searchParams.get('vu')),
    );
    expect(vus).toEqual(new Set(['1', '2']));
    const verdict = Object.fromEntries((result.thresholds ?? []).map((t) => [`${t.metric} ${t.expression}`, t.ok]));
    expect(verdict).toEqual({
      'my_iters count>0': true,
      'checks rate==1': true,
      'http_req_duration p(95)<5000': true,
      'my_body_bytes max<0': false,
    });
  });
});

test('an unsupported import fails with one line naming it', async () => {
  const run = runK6Script({ script: path.join(scripts, 'unsupported-import.js'), env: { GATEWAY: 'http://127.0.0.1:9' } });
  await expect(run).rejects.toThrow(UserError);
  await expect(run).rejects.toThrow(
    /unsupported-import\.js: unsupported import 'k6\/net\/grpc': gRPC is not supported by the built-in k6 runtime \(k6 docs: k6\/net\/grpc/,
  );
});
