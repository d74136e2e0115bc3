import { expect, test } from '@playwright/test';
import type { RequestRecord } from '../../load/result.ts';
import {
  latencyHistogramSpec,
  outcomeOf,
  pickSplitSpec,
  renderSvg,
  throughputSeries,
  throughputSpec,
  timelineSpec,
} from '../../reporters/charts.ts';

function rec(index: number, startMs: number, latencyMs: number, status?: number): RequestRecord {
  return { index, startMs, latencyMs, bytes: 10, ...(status !== undefined ? { status } : { error: 'timeout' as const }) };
}

const RECORDS: RequestRecord[] = [
  rec(0, 1000, 100, 200),
  rec(1, 1100, 1500, 200),
  rec(2, 1200, 300, 429),
  rec(3, 2500, 35_000),
  rec(4, 2600, 200, 200),
];

test('throughputSeries counts completions per second and outcome', () => {
  expect(throughputSeries(RECORDS)).toEqual([
    { second: 0, outcome: 'HTTP 200', requests: 1 },
    { second: 0, outcome: 'HTTP 429', requests: 1 },
    { second: 1, outcome: 'HTTP 200', requests: 2 },
    { second: 36, outcome: 'error timeout', requests: 1 },
  ]);
  expect(throughputSeries([])).toEqual([]);
  expect(outcomeOf(rec(9, 0, 1))).toBe('error timeout');
});

test('pick split spec carries counts and shares per workload', () => {
  const spec = pickSplitSpec({ 'vllm-p2p-proxy': 32, 'vllm-fs-proxy': 28 }) as {
    data: { values: { workload: string; picks: number; label: string }[] };
  };
  expect(spec.data.values).toEqual([
    { workload: 'vllm-fs-proxy', picks: 28, label: '28 (47%)' },
    { workload: 'vllm-p2p-proxy', picks: 32, label: '32 (53%)' },
  ]);
});

test('latency histogram and timeline specs hold the records and events', () => {
  const h = latencyHistogramSpec(RECORDS) as { data: { values: { latencyMs: number; outcome: string }[] } };
  expect(h.data.values).toHaveLength(5);
  expect(h.data.values[3]).toEqual({ latencyMs: 35_000, outcome: 'error timeout' });
  const t = timelineSpec([
    { lane: 'fault', label: 'kill vllm-decode-p2p', startMs: 10_000 },
    { lane: 'errors', label: 'requests failing', startMs: 10_500, endMs: 14_000 },
  ]) as { data: { values: { lane: string; start: number; end: number; instant: boolean }[] } };
  expect(t.data.values).toEqual([
    { lane: 'fault', label: 'kill vllm-decode-p2p', start: 0, end: 0, instant: true },
    { lane: 'errors', label: 'requests failing', start: 0.5, end: 4, instant: false },
  ]);
});

test('every spec renders to an SVG headlessly, with its title and data in it', async () => {
  const pick = await renderSvg(pickSplitSpec({ 'vllm-p2p-proxy': 32, 'vllm-fs-proxy': 28 }));
  expect(pick.startsWith('<svg')).toBe(true);
  expect(pick).toContain('EPP picks per workload');
  expect(pick).toContain('vllm-fs-proxy');
  expect(pick).toContain('32 (53%)');
  const lat = await renderSvg(latencyHistogramSpec(RECORDS));
  expect(lat).toContain('latency (ms)');
  expect(lat).toContain('HTTP 429');
  const thr = await renderSvg(throughputSpec(RECORDS));
  expect(thr).toContain('completed requests / s');
  const tl = await renderSvg(
    timelineSpec([
      { lane: 'fault', label: 'kill decode', startMs: 0 },
      { lane: 'errors', label: 'failing', startMs: 100, endMs: 4000 },
    ]),
  );
  expect(tl).toContain('kill decode');
  expect(tl).toMatch(/<\/svg>\s*$/);
});
