import { createHash } from 'node:crypto';
import type { K6RunReport } from './run.ts';
import { summaryValues, type SummaryValues } from './metrics-store.ts';
import { parseMetricName } from './thresholds.ts';

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

function fmtTime(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1) return `${(ms * 1000).toFixed(2)}µs`;
  if (ms < 1000) return `${ms.toFixed(2)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${((ms - m * 60_000) / 1000).toFixed(1)}s`;
}

function fmtData(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

function fmtNum(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(6).replace(/0+$/, '').replace(/\.$/, '');
}

/** k6's end-of-test text summary (the classic layout: checks, ✓/✗ thresholds, one line per metric). */
export function textSummary(report: K6RunReport): string {
  const lines: string[] = [];
  const root = rootGroup(report);
  const walk = (g: Group, indent: string): void => {
    if (g.name) lines.push(`${indent}█ ${g.name}`, '');
    const inner = g.name ? `${indent}  ` : indent;
    for (const c of g.checks) {
      const all = c.fails === 0;
      lines.push(`${inner}${all ? '✓' : '✗'} ${c.name}`);
      if (!all) lines.push(`${inner} ↳  ${Math.floor((100 * c.passes) / (c.passes + c.fails))}% — ✓ ${c.passes} / ✗ ${c.fails}`);
    }
    if (g.checks.length) lines.push('');
    for (const child of g.groups) walk(child, inner);
  };
  walk(root, '     ');
  const all = rows(report);
  const width =
    Math.max(...all.map((r) => (r.name.includes('{') ? r.name.length - parseMetricName(r.name).base.length + 4 : r.name.length)), 20) + 3;
  const runSeconds = report.durationMs / 1000;
  for (const r of all) {
    const th = Object.values(r.thresholds);
    const mark = th.length === 0 ? ' ' : th.every(Boolean) ? '✓' : '✗';
    const sub = r.name.includes('{');
    const label = sub
      ? `  { ${parseMetricName(r.name)
          .filter.map(([k, v]) => `${k}:${v}`)
          .join(', ')} }`
      : r.name;
    const v = r.values;
    let text: string;
    if (r.type === 'trend')
      text = Object.entries(v)
        .map(([k, x]) => `${k}=${r.time ? fmtTime(x) : fmtNum(x)}`)
        .join(' ');
    else if (r.type === 'rate') text = `${((v['rate'] ?? 0) * 100).toFixed(2)}% ✓ ${v['passes']} ✗ ${v['fails']}`;
    else if (r.type === 'gauge') text = `${fmtNum(v['value'] ?? 0)} min=${fmtNum(v['min'] ?? 0)} max=${fmtNum(v['max'] ?? 0)}`;
    else if (r.name.startsWith('data_'))
      text = `${fmtData(v['count'] ?? 0)} ${fmtData(runSeconds > 0 ? (v['count'] ?? 0) / runSeconds : 0)}/s`;
    else text = `${fmtNum(v['count'] ?? 0)} ${(v['rate'] ?? 0).toFixed(6)}/s`;
    lines.push(`   ${mark} ${label.padEnd(width, '.')}: ${text}`);
  }
  lines.push('');
  const it = report.iterations;
  lines.push(
    `running (${fmtTime(report.durationMs)}), 0/${Math.max(0, ...(report.metrics.series.get('vus_max')?.values ?? [0]))} VUs, ${it.complete} complete and ${it.interrupted} interrupted iterations`,
  );
  return `${lines.join('\n')}\n`;
}
