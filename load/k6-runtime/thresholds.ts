import type { ThresholdResult } from '../result.ts';

/** Samples of one metric as k6 keeps them. */
export interface MetricSeries {
  type: 'counter' | 'rate' | 'trend' | 'gauge';
  values: number[];
}

const EXPR = /^\s*(count|rate|avg|min|max|med|value|p\(\s*(\d+(?:\.\d+)?)\s*\))\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/;

/** k6's trend percentile: linear interpolation between the closest ranks of the sorted samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const pos = (sorted.length - 1) * (p / 100);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] ?? 0;
  const b = sorted[hi] ?? 0;
  return a + (b - a) * (pos - lo);
}

/** The aggregate a threshold reads, with k6's meaning per metric type (rate of a counter is per second). */
export function aggregate(series: MetricSeries | undefined, agg: string, pct: number | undefined, runSeconds: number): number {
  const values = series?.values ?? [];
  const sum = values.reduce((a, b) => a + b, 0);
  switch (agg) {
    case 'count':
      return sum;
    case 'rate':
      if (series?.type === 'counter') return runSeconds > 0 ? sum / runSeconds : 0;
      return values.length === 0 ? 0 : values.filter((v) => v !== 0).length / values.length;
    case 'avg':
      return values.length === 0 ? 0 : sum / values.length;
    case 'min':
      return values.length === 0 ? 0 : Math.min(...values);
    case 'max':
      return values.length === 0 ? 0 : Math.max(...values);
    case 'value':
      return values.at(-1) ?? 0;
    case 'med':
      return percentile([...values].sort((a, b) => a - b), 50);
    default:
      return percentile([...values].sort((a, b) => a - b), pct ?? 0);
  }
}

/**
 * Evaluate `options.thresholds` the way k6 does: each expression `agg op number` on the metric's samples
 * over the whole run. Unsupported forms (submetrics `name{tag:v}`, unknown aggregates) throw one line.
 */
export function evaluateThresholds(
  thresholds: Record<string, unknown>,
  metrics: ReadonlyMap<string, MetricSeries>,
  runSeconds: number,
): ThresholdResult[] {
  const out: ThresholdResult[] = [];
  for (const [metric, spec] of Object.entries(thresholds)) {
    if (metric.includes('{')) throw new Error(`k6 runtime: threshold on a submetric is not supported: ${metric}`);
    const list = Array.isArray(spec) ? spec : [spec];
    for (const item of list) {
      const expression = typeof item === 'string' ? item : String((item as { threshold?: unknown })?.threshold ?? '');
      const m = EXPR.exec(expression);
      if (!m || m[1] === undefined || m[3] === undefined || m[4] === undefined) {
        throw new Error(`k6 runtime: unsupported threshold expression on ${metric}: ${expression}`);
      }
      const agg = m[1].startsWith('p(') ? 'p' : m[1];
      const v = aggregate(metrics.get(metric), agg, m[2] === undefined ? undefined : Number(m[2]), runSeconds);
      const x = Number(m[4]);
      const ok = { '<': v < x, '>': v > x, '<=': v <= x, '>=': v >= x, '==': v === x, '===': v === x, '!=': v !== x }[m[3]] ?? false;
      out.push({ metric, expression, ok });
    }
  }
  return out;
}
