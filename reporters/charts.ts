import type { TopLevelSpec } from 'vega-lite';
import type { RequestRecord } from '../load/result.ts';

/**
 * Charts for the report, as vega-lite specs (pure builders) and one headless render to SVG.
 * A person would rather look than read: pick split per workload, latency histogram, throughput over
 * time, and a timeline of events (faults, recovery) the chaos runner can feed.
 */

const WIDTH = 560;
const HEIGHT = 220;

function base(title: string): { $schema: string; title: string; width: number; height: number; background: string } {
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title, width: WIDTH, height: HEIGHT, background: 'white' };
}

/** Picks per workload (the analyzer's `byWorkload`), one bar each, labelled with the count and share. */
export function pickSplitSpec(byWorkload: Record<string, number>, title = 'EPP picks per workload'): TopLevelSpec {
  const total = Object.values(byWorkload).reduce((a, b) => a + b, 0);
  const values = Object.entries(byWorkload)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([workload, picks]) => ({ workload, picks, label: `${picks} (${total ? ((picks / total) * 100).toFixed(0) : 0}%)` }));
  return {
    ...base(title),
    height: Math.max(60, 40 * values.length),
    data: { values },
    layer: [
      {
        mark: { type: 'bar', color: '#4c78a8' },
        encoding: { y: { field: 'workload', type: 'nominal', title: null }, x: { field: 'picks', type: 'quantitative', title: 'picks' } },
      },
      {
        mark: { type: 'text', align: 'left', dx: 4 },
        encoding: {
          y: { field: 'workload', type: 'nominal' },
          x: { field: 'picks', type: 'quantitative' },
          text: { field: 'label', type: 'nominal' },
        },
      },
    ],
  } as TopLevelSpec;
}

/** Latency of answered and failed requests, binned; colour by outcome (HTTP status or error kind). */
export function latencyHistogramSpec(records: readonly RequestRecord[], title = 'Latency histogram'): TopLevelSpec {
  const values = records.map((r) => ({ latencyMs: round(r.latencyMs), outcome: outcomeOf(r) }));
  return {
    ...base(title),
    data: { values },
    mark: 'bar',
    encoding: {
      x: { field: 'latencyMs', type: 'quantitative', bin: { maxbins: 30 }, title: 'latency (ms)' },
      y: { aggregate: 'count', type: 'quantitative', title: 'requests' },
      color: { field: 'outcome', type: 'nominal', title: 'outcome' },
    },
  } as TopLevelSpec;
}

export interface ThroughputPoint {
  /** Seconds since the first request started. */
  second: number;
  outcome: string;
  requests: number;
}

/** Completed requests per second (by completion time), per outcome. Pure: the chart reads these points. */
export function throughputSeries(records: readonly RequestRecord[]): ThroughputPoint[] {
  if (records.length === 0) return [];
  const t0 = Math.min(...records.map((r) => r.startMs));
  const counts = new Map<string, ThroughputPoint>();
  for (const r of records) {
    const second = Math.floor((r.startMs + r.latencyMs - t0) / 1000);
    const outcome = outcomeOf(r);
    const key = `${second}\u0000${outcome}`;
    const p = counts.get(key) ?? { second, outcome, requests: 0 };
    p.requests++;
    counts.set(key, p);
  }
  return [...counts.values()].sort((a, b) => a.second - b.second || a.outcome.localeCompare(b.outcome));
}

export function throughputSpec(records: readonly RequestRecord[], title = 'Throughput over time'): TopLevelSpec {
  return {
    ...base(title),
    data: { values: throughputSeries(records) },
    mark: { type: 'bar' },
    encoding: {
      x: { field: 'second', type: 'ordinal', title: 'second of the run' },
      y: { field: 'requests', type: 'quantitative', aggregate: 'sum', title: 'completed requests / s' },
      color: { field: 'outcome', type: 'nominal', title: 'outcome' },
    },
  } as TopLevelSpec;
}

/** One row of a timeline: an interval (fault active, pod not Ready) or an instant (endMs omitted). */
export interface TimelineEvent {
  /** The row, e.g. `fault`, `vllm-decode-p2p`, `errors`. */
  lane: string;
  label: string;
  startMs: number;
  endMs?: number;
}

/** Events on a shared time axis in seconds from the first event: bars for intervals, ticks for instants. */
export function timelineSpec(events: readonly TimelineEvent[], title = 'Timeline'): TopLevelSpec {
  const t0 = events.length ? Math.min(...events.map((e) => e.startMs)) : 0;
  const values = events.map((e) => ({
    lane: e.lane,
    label: e.label,
    start: round((e.startMs - t0) / 1000),
    end: round(((e.endMs ?? e.startMs) - t0) / 1000),
    instant: e.endMs === undefined,
  }));
  const lanes = new Set(values.map((v) => v.lane)).size;
  return {
    ...base(title),
    height: Math.max(60, 36 * lanes),
    data: { values },
    layer: [
      {
        transform: [{ filter: '!datum.instant' }],
        mark: { type: 'bar', cornerRadius: 2, opacity: 0.8 },
        encoding: {
          y: { field: 'lane', type: 'nominal', title: null },
          x: { field: 'start', type: 'quantitative', title: 'seconds' },
          x2: { field: 'end' },
          color: { field: 'label', type: 'nominal', title: null },
        },
      },
      {
        transform: [{ filter: 'datum.instant' }],
        mark: { type: 'tick', thickness: 2, color: '#d62728' },
        encoding: { y: { field: 'lane', type: 'nominal' }, x: { field: 'start', type: 'quantitative' } },
      },
      {
        mark: { type: 'text', align: 'left', dx: 3, dy: -10, fontSize: 10 },
        encoding: {
          y: { field: 'lane', type: 'nominal' },
          x: { field: 'start', type: 'quantitative' },
          text: { field: 'label', type: 'nominal' },
        },
      },
    ],
  } as TopLevelSpec;
}

export function outcomeOf(r: RequestRecord): string {
  if (r.status !== undefined) return r.error === undefined ? `HTTP ${r.status}` : `HTTP ${r.status} ${r.error}`;
  return r.error ? `error ${r.error}` : 'no answer';
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/**
 * Renders a vega-lite spec to SVG headlessly (no browser, no canvas). vega and vega-lite are loaded on first
 * use, as one file (`#charts`, the vendored bundle of common/build.mjs VENDOR).
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const { compile, parse, View } = await import('#charts');
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
