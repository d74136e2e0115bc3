import type { TopLevelSpec } from 'vega-lite';
import type { RequestRecord } from '../load/result.ts';
import { renderSvg } from '../reporters/charts.ts';
import { isFailed } from './recovery.ts';
import type { FaultEvent, PodChange } from './types.ts';

/** Requests that ended in one second of the load. */
export interface TimelineBucket {
  /** Seconds from the load's start. */
  second: number;
  ok: number;
  failed: number;
}

export interface Timeline {
  /** Epoch ms of the load's start: every `s` below is seconds from here. */
  startMs: number;
  buckets: TimelineBucket[];
  faults: (FaultEvent & { s: number })[];
  pods: (PodChange & { s: number })[];
  recoveries: { fault: number; s: number; recoveredS?: number }[];
}

/** Per-second ok / failed counts by completion time; seconds with no request are present with zeros. */
export function bucketRequests(records: readonly RequestRecord[], startMs: number): TimelineBucket[] {
  if (records.length === 0) return [];
  const counts = new Map<number, TimelineBucket>();
  let last = 0;
  for (const r of records) {
    const second = Math.max(0, Math.floor((r.startMs + r.latencyMs - startMs) / 1000));
    last = Math.max(last, second);
    const b = counts.get(second) ?? { second, ok: 0, failed: 0 };
    if (isFailed(r)) b.failed++;
    else b.ok++;
    counts.set(second, b);
  }
  return Array.from({ length: last + 1 }, (_, s) => counts.get(s) ?? { second: s, ok: 0, failed: 0 });
}

const seconds = (t: number, startMs: number) => Math.round((t - startMs) / 100) / 10;

export function buildTimeline(input: {
  startMs: number;
  records: readonly RequestRecord[];
  faults: readonly FaultEvent[];
  pods: readonly PodChange[];
  recoveries: readonly { fault: number; faultAtMs: number; recoveredAtMs?: number }[];
}): Timeline {
  const { startMs } = input;
  return {
    startMs,
    buckets: bucketRequests(input.records, startMs),
    faults: input.faults.map((f) => ({ ...f, s: seconds(f.t, startMs) })),
    pods: input.pods.map((p) => ({ ...p, s: seconds(p.t, startMs) })),
    recoveries: input.recoveries.map((r) => ({
      fault: r.fault,
      s: seconds(r.faultAtMs, startMs),
      ...(r.recoveredAtMs !== undefined ? { recoveredS: seconds(r.recoveredAtMs, startMs) } : {}),
    })),
  };
}

/** The vega-lite spec of the chart: stacked ok/failed bars per second, fault and recovery rules, pod changes. */
export function timelineSpec(tl: Timeline): Record<string, unknown> {
  const bars = tl.buckets.flatMap((b) => [
    { s: b.second + 0.5, n: b.ok, outcome: 'ok' },
    { s: b.second + 0.5, n: b.failed, outcome: 'failed' },
  ]);
  const marks = [
    ...tl.faults.map((f) => ({ s: f.s, label: `fault ${f.fault + 1}: ${f.kind}`, what: 'fault' })),
    ...tl.recoveries
      .filter((r) => r.recoveredS !== undefined)
      .map((r) => ({ s: r.recoveredS, label: `recovered (fault ${r.fault + 1})`, what: 'recovered' })),
  ];
  const pods = tl.pods.map((p) => ({
    s: p.s,
    label: `${p.pod} ${p.change === 'deleted' ? 'gone' : `${p.phase}${p.ready ? ' ready' : ''}`}`,
    pod: p.pod,
  }));
  const maxS = Math.max(1, ...tl.buckets.map((b) => b.second + 1), ...marks.map((m) => m.s ?? 0), ...pods.map((p) => p.s));
  const x = { field: 's', type: 'quantitative', title: 'seconds into the load', scale: { domain: [0, Math.ceil(maxS)] } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'requests per second, faults and pod changes',
    vconcat: [
      {
        width: 640,
        height: 200,
        resolve: { scale: { color: 'independent' } },
        layer: [
          {
            data: { values: bars },
            mark: { type: 'bar', width: 8 },
            encoding: {
              x,
              y: { field: 'n', type: 'quantitative', stack: 'zero', title: 'requests ended' },
              color: { field: 'outcome', type: 'nominal', scale: { domain: ['ok', 'failed'], range: ['#4c9a2a', '#d62728'] } },
            },
          },
          {
            data: { values: marks },
            mark: { type: 'rule', strokeDash: [4, 3] },
            encoding: {
              x,
              color: {
                field: 'what',
                type: 'nominal',
                scale: { domain: ['fault', 'recovered'], range: ['#000000', '#1f77b4'] },
                legend: null,
              },
            },
          },
          {
            data: { values: marks },
            mark: { type: 'text', angle: 270, align: 'left', dx: 4, dy: -4, fontSize: 9 },
            encoding: { x, y: { value: 195 }, text: { field: 'label' } },
          },
        ],
      },
      {
        width: 640,
        height: Math.max(40, 14 * new Set(pods.map((p) => p.pod)).size),
        data: { values: pods.length ? pods : [{ s: 0, label: 'no pod changes', pod: '-' }] },
        mark: { type: 'point', filled: true },
        encoding: { x, y: { field: 'pod', type: 'nominal', title: null }, tooltip: { field: 'label' } },
      },
    ],
  };
}

/** The chart as SVG (vega-lite compiled, rendered headless by vega). */
export async function timelineSvg(tl: Timeline): Promise<string> {
  return renderSvg(timelineSpec(tl) as unknown as TopLevelSpec);
}
