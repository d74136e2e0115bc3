import { createHash } from 'node:crypto';
import type { K6RunReport } from './run.ts';
import { summaryValues, type SummaryValues } from './metrics-store.ts';
import { parseMetricName } from './thresholds.ts';
import { fmtTime, renderTextSummary, type SummaryData } from './text-summary.ts';

const DEFAULT_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'];

interface MetricRow {
  name: string;
  type: 'counter' | 'rate' | 'trend' | 'gauge';
  time: boolean;
  values: SummaryValues;
  /** expression → ok */
  thresholds: Record<string, boolean>;
}

function trendStats(report: K6RunReport): string[] {
  const s = report.options['summaryTrendStats'];
  return Array.isArray(s) && s.length > 0 ? s.map(String) : DEFAULT_TREND_STATS;
}

/** Metrics with samples, plus every (sub)metric a threshold names, sorted by name as k6 does. */
function rows(report: K6RunReport): MetricRow[] {
  const names = new Set<string>([...report.metrics.series.keys()]);
  for (const t of report.thresholds) names.add(t.metric);
  const runSeconds = report.durationMs / 1000;
  const out: MetricRow[] = [];
  for (const name of [...names].sort()) {
    const { base, filter } = parseMetricName(name);
    const series = report.metrics.series.get(base);
    const declared = report.metrics.declared.get(base);
    const type = series?.type ?? declared?.type ?? 'counter';
    const thresholds: Record<string, boolean> = {};
    for (const t of report.thresholds) if (t.metric === name) thresholds[t.expression] = t.ok;
    out.push({
      name,
      type,
      time: series?.time ?? declared?.time ?? false,
      values: summaryValues(series, type, filter, runSeconds, trendStats(report)),
      thresholds,
    });
  }
  return out;
}

interface Check {
  name: string;
  path: string;
  id: string;
  passes: number;
  fails: number;
}
interface Group {
  name: string;
  path: string;
  id: string;
  groups: Group[];
  checks: Check[];
}

const id = (p: string): string => createHash('md5').update(p).digest('hex');

/** The group tree with check counts, from the `checks` samples' group and check tags. */
function rootGroup(report: K6RunReport): Group {
  const root: Group = { name: '', path: '', id: id(''), groups: [], checks: [] };
  const series = report.metrics.series.get('checks');
  series?.values.forEach((v, i) => {
    const tags = series.tags[i] ?? {};
    let g = root;
    const parts = (tags['group'] ?? '').split('::').slice(1);
    for (const part of parts) {
      let child = g.groups.find((x) => x.name === part);
      if (!child) {
        const p = `${g.path}::${part}`;
        child = { name: part, path: p, id: id(p), groups: [], checks: [] };
        g.groups.push(child);
      }
      g = child;
    }
    const name = tags['check'] ?? '';
    let c = g.checks.find((x) => x.name === name);
    if (!c) {
      const p = `${g.path}::${name}`;
      c = { name, path: p, id: id(p), passes: 0, fails: 0 };
      g.checks.push(c);
    }
    if (v !== 0) c.passes++;
    else c.fails++;
  });
  return root;
}

/** The `handleSummary(data)` argument (k6 docs: handleSummary; js/summary.go). */
export function handleSummaryData(report: K6RunReport): unknown {
  const metrics: Record<string, unknown> = {};
  for (const r of rows(report)) {
    const m: Record<string, unknown> = {
      type: r.type,
      contains: r.time ? 'time' : r.name.startsWith('data_') ? 'data' : 'default',
      values: r.values,
    };
    if (Object.keys(r.thresholds).length) m['thresholds'] = Object.fromEntries(Object.entries(r.thresholds).map(([k, ok]) => [k, { ok }]));
    metrics[r.name] = m;
  }
  return {
    root_group: rootGroup(report),
    options: { summaryTrendStats: trendStats(report), summaryTimeUnit: '', noColor: false },
    state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: report.durationMs },
    metrics,
  };
}

/**
 * `k6 run --summary-export=FILE` (the legacy format, js/summary-wrapper.js oldJSONSummary): checks as an
 * object by name, metric values flattened, a rate as {passes, fails, value}, and a threshold's boolean
 * TRUE WHEN IT FAILED.
 */
export function summaryExport(report: K6RunReport): unknown {
  const groupOld = (g: Group): unknown => ({
    name: g.name,
    path: g.path,
    id: g.id,
    groups: Object.fromEntries(g.groups.map((c) => [c.name, groupOld(c)])),
    checks: Object.fromEntries(g.checks.map((c) => [c.name, c])),
  });
  const metrics: Record<string, unknown> = {};
  for (const r of rows(report)) {
    const v: Record<string, unknown> =
      r.type === 'rate' ? { passes: r.values['passes'], fails: r.values['fails'], value: r.values['rate'] } : { ...r.values };
    if (Object.keys(r.thresholds).length) v['thresholds'] = Object.fromEntries(Object.entries(r.thresholds).map(([k, ok]) => [k, !ok]));
    metrics[r.name] = v;
  }
  return {
    root_group: groupOld(rootGroup(report)),
    options: { summaryTrendStats: trendStats(report), summaryTimeUnit: '', noColor: false },
    state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: report.durationMs },
    metrics,
  };
}

/** k6's end-of-test text summary (the classic layout), then k6's closing `running (...)` line. */
export function textSummary(report: K6RunReport): string {
  const body = renderTextSummary(handleSummaryData(report) as SummaryData, { indent: ' ', enableColors: false });
  const it = report.iterations;
  const vusMax = Math.max(0, ...(report.metrics.series.get('vus_max')?.values ?? [0]));
  return `${body}\n\nrunning (${fmtTime(report.durationMs)}), 0/${vusMax} VUs, ${it.complete} complete and ${it.interrupted} interrupted iterations\n`;
}
