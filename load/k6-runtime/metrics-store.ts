import type { Sample } from './protocol.ts';
import { percentile, selectValues, type MetricSeries } from './thresholds.ts';

/** k6's built-in metrics (metrics/builtin.go, k6 v2.2.0) that an HTTP or k6/ws script can produce, with their types. */
export const BUILTIN_METRICS: Record<string, { type: Sample['type']; time: boolean }> = {
  vus: { type: 'gauge', time: false },
  vus_max: { type: 'gauge', time: false },
  iterations: { type: 'counter', time: false },
  iteration_duration: { type: 'trend', time: true },
  dropped_iterations: { type: 'counter', time: false },
  data_received: { type: 'counter', time: false },
  data_sent: { type: 'counter', time: false },
  checks: { type: 'rate', time: false },
  group_duration: { type: 'trend', time: true },
  http_reqs: { type: 'counter', time: false },
  http_req_failed: { type: 'rate', time: false },
  http_req_duration: { type: 'trend', time: true },
  http_req_blocked: { type: 'trend', time: true },
  http_req_connecting: { type: 'trend', time: true },
  http_req_tls_handshaking: { type: 'trend', time: true },
  http_req_sending: { type: 'trend', time: true },
  http_req_waiting: { type: 'trend', time: true },
  http_req_receiving: { type: 'trend', time: true },
  ws_sessions: { type: 'counter', time: false },
  ws_msgs_sent: { type: 'counter', time: false },
  ws_msgs_received: { type: 'counter', time: false },
  ws_ping: { type: 'trend', time: true },
  ws_session_duration: { type: 'trend', time: true },
  ws_connecting: { type: 'trend', time: true },
};

export interface StoredSeries extends MetricSeries {
  tags: Record<string, string>[];
  time: boolean;
}

/** All samples of a run, by metric, with their tags (for submetrics). */
export class MetricStore {
  readonly series = new Map<string, StoredSeries>();
  readonly declared = new Map<string, { type: Sample['type']; time: boolean }>(Object.entries(BUILTIN_METRICS));

  /** `onAdd` sees every kept sample (NaN is dropped, as k6 does), e.g. for `--out json`. */
  constructor(private readonly onAdd?: (s: Sample) => void) {}

  declare(name: string, type: Sample['type'], time: boolean): void {
    if (!this.declared.has(name)) this.declared.set(name, { type, time });
  }

  add(s: Sample): void {
    if (Number.isNaN(s.value)) return;
    this.onAdd?.(s);
    let m = this.series.get(s.metric);
    if (!m) {
      const d = this.declared.get(s.metric);
      m = { type: d?.type ?? s.type, time: d?.time ?? !!s.time, values: [], tags: [] };
      this.series.set(s.metric, m);
    }
    m.values.push(s.value);
    m.tags.push(s.tags);
  }

  typeOf(name: string): Sample['type'] | undefined {
    return this.series.get(name)?.type ?? this.declared.get(name)?.type;
  }

  count(name: string, filter: [string, string][] = []): number {
    return selectValues(this.series.get(name), filter).reduce((a, b) => a + b, 0);
  }
}

export type SummaryValues = Record<string, number>;

/** The values k6's summary shows for a (sub)metric (metrics/sink.go Format, summaryTrendStats). */
export function summaryValues(
  series: MetricSeries | undefined,
  type: Sample['type'],
  filter: [string, string][],
  runSeconds: number,
  trendStats: readonly string[],
): SummaryValues {
  const values = selectValues(series, filter);
  const sum = values.reduce((a, b) => a + b, 0);
  switch (type) {
    case 'counter':
      return { count: sum, rate: runSeconds > 0 ? sum / runSeconds : 0 };
    case 'gauge':
      return { value: values.at(-1) ?? 0, min: values.length ? Math.min(...values) : 0, max: values.length ? Math.max(...values) : 0 };
    case 'rate': {
      const passes = values.filter((v) => v !== 0).length;
      return { rate: values.length ? passes / values.length : 0, passes, fails: values.length - passes };
    }
    default: {
      const sorted = [...values].sort((a, b) => a - b);
      const out: SummaryValues = {};
      for (const stat of trendStats) {
        if (stat === 'avg') out[stat] = values.length ? sum / values.length : 0;
        else if (stat === 'min') out[stat] = sorted[0] ?? 0;
        else if (stat === 'max') out[stat] = sorted.at(-1) ?? 0;
        else if (stat === 'med') out[stat] = percentile(sorted, 50);
        else if (stat === 'count') out[stat] = values.length;
        else {
          const p = /^p\((\d+(?:\.\d+)?)\)$/.exec(stat);
          if (p) out[stat] = percentile(sorted, Number(p[1]));
        }
      }
      return out;
    }
  }
}
