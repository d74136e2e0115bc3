import { expect, test } from '@playwright/test';
import { thresholdsVerdict } from '../../criteria/thresholds.ts';
import { builtinMetrics, judgeThresholds } from '../../load/builtin/thresholds.ts';
import type { LoadResult, RequestRecord } from '../../load/result.ts';
import { summarize } from '../../load/summary.ts';

const rec = (index: number, status: number | undefined, latencyMs: number): RequestRecord => ({
  index,
  startMs: 1_000 + index * 10,
  latencyMs,
  bytes: 10,
  ...(status === undefined ? { error: 'timeout' as const } : { status }),
});

function result(records: RequestRecord[]): LoadResult {
  return { engine: 'builtin', startedAt: new Date(0).toISOString(), records, summary: summarize(records) };
}

test('built-in runs expose k6 metrics: failed = status >= 400 or no response', () => {
  const m = builtinMetrics([rec(0, 200, 10), rec(1, 429, 5), rec(2, undefined, 35_000), rec(3, 200, 30)]);
  expect(m.get('http_req_failed')?.values).toEqual([0, 1, 1, 0]);
  expect(m.get('http_reqs')?.values).toEqual([1, 1, 1, 1]);
  expect(m.get('http_req_duration')?.values).toEqual([10, 5, 30]);
});

test('suite thresholds judge a built-in run the way k6 would', () => {
  const records = Array.from({ length: 100 }, (_, i) => rec(i, i < 98 ? 200 : 500, i + 1));
  const out = judgeThresholds(result(records), {
    http_req_failed: ['rate<0.01', 'rate<0.05'],
    http_req_duration: ['p(95)<90', 'max<=100'],
  });
  expect(out.map((t) => [t.metric, t.expression, t.ok])).toEqual([
    ['http_req_failed', 'rate<0.01', false],
    ['http_req_failed', 'rate<0.05', true],
    ['http_req_duration', 'p(95)<90', false],
    ['http_req_duration', 'max<=100', true],
  ]);
  const v = thresholdsVerdict(out);
  expect(v.ok).toBe(false);
  expect(v.summary).toBe('k6 thresholds crossed: http_req_failed rate<0.01, http_req_duration p(95)<90');
  expect(thresholdsVerdict(out.filter((t) => t.ok)).summary).toBe(
    'k6 thresholds held: http_req_failed rate<0.05, http_req_duration max<=100',
  );
});
