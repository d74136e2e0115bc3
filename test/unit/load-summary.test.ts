import { expect, test } from '@playwright/test';
import { latencyStats, summarize } from '../../load/summary.ts';
import type { RequestRecord } from '../../load/result.ts';

/** HDR with 3 significant digits: each percentile within 0.1% of the exact value. */
function near(actual: number, exact: number): void {
  expect(Math.abs(actual - exact)).toBeLessThanOrEqual(exact * 0.001 + 1e-9);
}

test('percentiles of 1..1000 ms match the exact order statistics within HDR precision', () => {
  const values = Array.from({ length: 1000 }, (_, i) => i + 1);
  const stats = latencyStats(values.slice().reverse());
  near(stats.p50, 500);
  near(stats.p90, 900);
  near(stats.p95, 950);
  near(stats.p99, 990);
  expect(stats.max).toBe(1000);
  expect(stats.mean).toBeCloseTo(500.5, 9);
});

test('sub-millisecond latencies keep their resolution', () => {
  const stats = latencyStats([0.25, 0.25, 0.25, 0.5]);
  near(stats.p50, 0.25);
  expect(stats.max).toBe(0.5);
});

test('a skewed distribution: p99 sees the tail, p50 does not', () => {
  const values = [...Array.from({ length: 98 }, () => 10), 2000, 3000];
  const stats = latencyStats(values);
  near(stats.p50, 10);
  near(stats.p99, 2000);
  expect(stats.max).toBe(3000);
});

test('empty input gives zeros, not NaN', () => {
  expect(latencyStats([])).toEqual({ p50: 0, p90: 0, p95: 0, p99: 0, max: 0, mean: 0 });
  const s = summarize([]);
  expect(s.requests).toBe(0);
  expect(s.throughput).toBe(0);
});

test('summary counts statuses, error kinds, TTFT and throughput over the given duration', () => {
  const records: RequestRecord[] = [
    { index: 0, startMs: 1000, latencyMs: 10, status: 200, bytes: 5, ttftMs: 2 },
    { index: 1, startMs: 1001, latencyMs: 20, status: 200, bytes: 5, ttftMs: 4 },
    { index: 2, startMs: 1002, latencyMs: 30, status: 429, bytes: 5 },
    { index: 3, startMs: 1003, latencyMs: 35_000, error: 'timeout', bytes: 0 },
    { index: 4, startMs: 1004, latencyMs: 1, error: 'connection-refused', bytes: 0 },
    { index: 5, startMs: 1005, latencyMs: 1, bytes: 0 },
  ];
  const s = summarize(records, { durationMs: 2000, dropped: 3 });
  expect(s.requests).toBe(6);
  expect(s.byStatus).toEqual({ '200': 2, '429': 1 });
  expect(s.errors).toEqual({ timeout: 1, 'connection-refused': 1, other: 1 });
  expect(s.throughput).toBe(3);
  expect(s.dropped).toBe(3);
  expect(s.ttftMs?.max).toBe(4);
  expect(s.latencyMs.max).toBe(35_000);
});

test('duration defaults to the span from the first start to the last end', () => {
  const s = summarize([
    { index: 0, startMs: 100, latencyMs: 50, status: 200, bytes: 0 },
    { index: 1, startMs: 120, latencyMs: 80, status: 200, bytes: 0 },
  ]);
  expect(s.durationMs).toBe(100);
  expect(s.throughput).toBe(20);
  expect(s.ttftMs).toBeUndefined();
});
