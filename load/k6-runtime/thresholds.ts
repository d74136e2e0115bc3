import type { ThresholdResult } from '../result.ts';

/** Samples of one metric as k6 keeps them; `tags[i]` are the tags of `values[i]` when the engine has them. */
export interface MetricSeries {
  type: 'counter' | 'rate' | 'trend' | 'gauge';
  values: number[];
  tags?: Record<string, string>[];
}

const EXPR = /^\s*(count|rate|avg|min|max|med|value|p\(\s*(\d+(?:\.\d+)?)\s*\))\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/;

/** Aggregations k6 accepts per metric type (metrics/metric_type.go supportedAggregationMethods). */
const AGGREGATIONS: Record<MetricSeries['type'], string[]> = {
  counter: ['count', 'rate'],
  gauge: ['value'],
  rate: ['rate'],
  trend: ['avg', 'min', 'max', 'med', 'p(N)'],
};

export interface ParsedThreshold {
  metric: string;
  /** The metric name without its `{tag:value}` part. */
  base: string;
  /** Submetric tag filter, k6's `metric{tag:value,...}` (metrics/metric.go ParseMetricName, AddSubmetric). */
  filter: [string, string][];
  expression: string;
  agg: string;
  pct: number | undefined;
  op: string;
  value: number;
  abortOnFail: boolean;
  delayAbortEvalMs: number | undefined;
}

/** k6's trend percentile (metrics/sink.go TrendSink.P): linear interpolation between the closest ranks. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * (p / 100);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] ?? 0;
  const b = sorted[hi] ?? 0;
  return a + (b - a) * (pos - lo);
}

/** `name{a:b, c:"d"}` → base name and tag pairs; one-line errors as k6 gives them. */
export function parseMetricName(name: string): { base: string; filter: [string, string][] } {
  const open = name.indexOf('{');
  const close = name.lastIndexOf('}');
  if (open === -1 && close === -1) return { base: name, filter: [] };
  if (open === -1 || close === -1 || close < open || close !== name.length - 1)
    throw new Error(`invalid threshold metric name ${JSON.stringify(name)}: malformed curly braces`);
  const filter: [string, string][] = [];
  for (const part of name.slice(open + 1, close).split(',')) {
    const at = part.indexOf(':');
    const value = at === -1 ? '' : part.slice(at + 1);
    if (value.trim() === '')
      throw new Error(`invalid threshold metric name ${JSON.stringify(name)}: tag expression ${JSON.stringify(part.trim())} is malformed`);
    const trim = (s: string) => s.trim().replace(/^["']+|["']+$/g, '');
    filter.push([trim(part.slice(0, at)), trim(value)]);
  }
  return { base: name.slice(0, open), filter };
}

/** Parse `options.thresholds` (strings or `{threshold, abortOnFail, delayAbortEval}` objects). */
export function parseThresholds(
  thresholds: Record<string, unknown>,
  parseDelay: (v: unknown) => number | undefined = () => undefined,
): ParsedThreshold[] {
  const out: ParsedThreshold[] = [];
  for (const [metric, spec] of Object.entries(thresholds)) {
    const { base, filter } = parseMetricName(metric);
    const list = Array.isArray(spec) ? spec : [spec];
    for (const item of list) {
      const obj =
        typeof item === 'string'
          ? { threshold: item }
          : ((item ?? {}) as { threshold?: unknown; abortOnFail?: unknown; delayAbortEval?: unknown });
      const expression = String(obj.threshold ?? '');
      const m = EXPR.exec(expression);
      if (!m || m[1] === undefined || m[3] === undefined || m[4] === undefined) {
        throw new Error(`unsupported threshold expression on ${metric}: ${expression}`);
      }
      out.push({
        metric,
        base,
        filter,
        expression,
        agg: m[1].startsWith('p(') ? 'p' : m[1],
        pct: m[2] === undefined ? undefined : Number(m[2]),
        op: m[3],
        value: Number(m[4]),
        abortOnFail: obj.abortOnFail === true,
        delayAbortEvalMs: obj.delayAbortEval === undefined ? undefined : parseDelay(obj.delayAbortEval),
      });
    }
  }
  return out;
}

/** k6's Thresholds.Validate: the metric must exist and the aggregation must suit its type. */
export function validateThreshold(t: ParsedThreshold, type: MetricSeries['type'] | undefined): string | undefined {
  if (type === undefined) return `invalid threshold defined on ${t.metric}; reason: no metric name "${t.base}" found`;
  const allowed = AGGREGATIONS[type];
  if (!allowed.includes(t.agg === 'p' ? 'p(N)' : t.agg)) {
    return `invalid threshold "${t.expression}" applied on metric ${t.metric}; reason: unsupported aggregation method ${t.agg === 'p' ? 'p(N)' : t.agg} on metric of type ${type}. supported aggregation methods for this metric are: ${allowed.join(', ')}`;
  }
  return undefined;
}

function matches(tags: Record<string, string> | undefined, filter: [string, string][]): boolean {
  if (filter.length === 0) return true;
  if (!tags) return false;
  return filter.every(([k, v]) => tags[k] === v);
}

/** The samples of a metric or submetric (NaN dropped, as k6's metrics.add does). */
export function selectValues(series: MetricSeries | undefined, filter: [string, string][]): number[] {
  if (!series) return [];
  if (filter.length > 0 && !series.tags)
    throw new Error('a threshold on a submetric needs tagged samples, which this engine does not keep');
  const out: number[] = [];
  series.values.forEach((v, i) => {
    if (!Number.isNaN(v) && matches(series.tags?.[i], filter)) out.push(v);
  });
  return out;
}

/**
 * The aggregate a threshold reads, with k6's meaning per metric type (metrics/thresholds.go Thresholds.Run):
 * rate of a counter is per second; an empty Rate has no `rate` (undefined: the threshold passes), an empty
 * Trend reads 0.
 */
export function aggregate(
  series: MetricSeries | undefined,
  agg: string,
  pct: number | undefined,
  runSeconds: number,
  filter: [string, string][] = [],
): number | undefined {
  const values = selectValues(series, filter);
  const sum = values.reduce((a, b) => a + b, 0);
  switch (agg) {
    case 'count':
      return sum;
    case 'rate':
      if (series?.type === 'counter') return runSeconds > 0 ? sum / runSeconds : undefined;
      return values.length === 0 ? undefined : values.filter((v) => v !== 0).length / values.length;
    case 'avg':
      return values.length === 0 ? 0 : sum / values.length;
    case 'min':
      return values.length === 0 ? 0 : values.reduce((a, b) => Math.min(a, b));
    case 'max':
      return values.length === 0 ? 0 : values.reduce((a, b) => Math.max(a, b));
    case 'value':
      return values.at(-1) ?? 0;
    case 'med':
      return percentile(
        [...values].sort((a, b) => a - b),
        50,
      );
    default:
      return percentile(
        [...values].sort((a, b) => a - b),
        pct ?? 0,
      );
  }
}

/** One threshold's verdict; a missing aggregate (no samples yet) passes, as in k6's runNoTaint. */
export function judge(t: ParsedThreshold, v: number | undefined): boolean {
  if (v === undefined) return true;
  const x = t.value;
  return { '<': v < x, '>': v > x, '<=': v <= x, '>=': v >= x, '==': v === x, '===': v === x, '!=': v !== x }[t.op] ?? false;
}

/**
 * Evaluate `options.thresholds` the way k6 does at the end of a run: each expression `agg op number` on the
 * metric's (or submetric's) samples over the whole run.
 */
export function evaluateThresholds(
  thresholds: Record<string, unknown>,
  metrics: ReadonlyMap<string, MetricSeries>,
  runSeconds: number,
): ThresholdResult[] {
  return parseThresholds(thresholds).map((t) => ({
    metric: t.metric,
    expression: t.expression,
    ok: judge(t, aggregate(metrics.get(t.base), t.agg, t.pct, runSeconds, t.filter)),
  }));
}
