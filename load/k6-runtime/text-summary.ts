/**
 * k6's classic text summary rendered from the `handleSummary(data)` object: what k6's legacy summary
 * (internal/js/summary-legacy.js `generateTextSummary`, k6 v2.2.0) and the k6-summary jslib's `textSummary`
 * print: the group tree with its checks (`✓ name`, or `✗ name` and `↳  P% — ✓ passes / ✗ fails`), then one
 * line per metric sorted by name with sub-metrics under their parent, a ✓/✗ mark when it has thresholds,
 * dots up to the widest name, trends as `stat=value` for `summaryTrendStats`, rates as `P% ✓ n ✗ m`.
 * Pure: it also runs inside a VU (the `k6-summary` jslib stand-in).
 */
export interface SummaryCheck {
  name: string;
  passes: number;
  fails: number;
}
export interface SummaryGroup {
  name: string;
  groups: SummaryGroup[];
  checks: SummaryCheck[];
}
export interface SummaryMetric {
  type: string;
  contains: string;
  values: Record<string, number>;
  thresholds?: Record<string, { ok: boolean }>;
}
export interface SummaryData {
  root_group: SummaryGroup;
  metrics: Record<string, SummaryMetric>;
  options?: { summaryTrendStats?: string[]; summaryTimeUnit?: string };
  state?: { testRunDurationMs?: number };
}
export interface TextSummaryOptions {
  indent?: string;
  enableColors?: boolean;
  summaryTrendStats?: string[];
}

const GREEN = '32';
const RED = '31';
const CYAN = '36';

export function fmtTime(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1) return `${(ms * 1000).toFixed(2)}µs`;
  if (ms < 1000) return `${ms.toFixed(2)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)}s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${((ms - m * 60_000) / 1000).toFixed(1)}s`;
}

export function fmtData(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${u === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

export function fmtNum(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(6).replace(/0+$/, '').replace(/\.$/, '');
}

const displayName = (name: string): string => {
  const at = name.indexOf('{');
  return at < 0 ? name : `{ ${name.slice(at + 1, -1)} }`;
};
const nameIndent = (name: string): string => (name.includes('{') ? '  ' : '');

function metricText(m: SummaryMetric, runSeconds: number, stats: string[], paint: (t: string, c: string) => string): string {
  const v = m.values;
  if (m.type === 'trend')
    return stats
      .map((k) => {
        const x = v[k] ?? 0;
        return `${k}=${paint(k === 'count' ? String(x) : m.contains === 'time' ? fmtTime(x) : fmtNum(x), CYAN)}`;
      })
      .join(' ');
  if (m.type === 'rate') return `${paint(`${((v['rate'] ?? 0) * 100).toFixed(2)}%`, CYAN)} ✓ ${v['passes'] ?? 0} ✗ ${v['fails'] ?? 0}`;
  if (m.type === 'gauge') return `${paint(fmtNum(v['value'] ?? 0), CYAN)} min=${fmtNum(v['min'] ?? 0)} max=${fmtNum(v['max'] ?? 0)}`;
  const count = v['count'] ?? 0;
  const rate = v['rate'] ?? (runSeconds > 0 ? count / runSeconds : 0);
  if (m.contains === 'data') return `${paint(fmtData(count), CYAN)} ${fmtData(rate)}/s`;
  return `${paint(fmtNum(count), CYAN)} ${rate.toFixed(6)}/s`;
}

export function renderTextSummary(data: SummaryData, opts: TextSummaryOptions = {}): string {
  const indent = opts.indent ?? ' ';
  const paint = opts.enableColors ? (t: string, c: string) => `\x1b[${c}m${t}\x1b[0m` : (t: string) => t;
  const stats = opts.summaryTrendStats ?? data.options?.summaryTrendStats ?? ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'];
  const lines: string[] = [];
  const walk = (g: SummaryGroup, at: string): void => {
    let inner = at;
    if (g.name) {
      lines.push(`${at}█ ${g.name}\n`);
      inner = `${at}  `;
    }
    for (const c of g.checks) {
      if (c.fails === 0) lines.push(paint(`${inner}✓ ${c.name}`, GREEN));
      else
        lines.push(
          paint(
            `${inner}✗ ${c.name}\n${inner} ↳  ${Math.floor((100 * c.passes) / (c.passes + c.fails))}% — ✓ ${c.passes} / ✗ ${c.fails}`,
            RED,
          ),
        );
    }
    if (g.checks.length) lines.push('');
    for (const child of g.groups) walk(child, inner);
  };
  walk(data.root_group, `${indent}    `);
  const names = Object.keys(data.metrics).sort((a, b) => {
    const pa = a.split('{', 1)[0] ?? a;
    const pb = b.split('{', 1)[0] ?? b;
    return pa.localeCompare(pb) || a.slice(pa.length).localeCompare(b.slice(pb.length));
  });
  const width = Math.max(0, ...names.map((n) => nameIndent(n).length + displayName(n).length));
  const runSeconds = (data.state?.testRunDurationMs ?? 0) / 1000;
  for (const name of names) {
    const m = data.metrics[name];
    if (!m) continue;
    const th = Object.values(m.thresholds ?? {});
    const ok = th.every((t) => t.ok);
    const mark = th.length === 0 ? ' ' : paint(ok ? '✓' : '✗', ok ? GREEN : RED);
    const shown = displayName(name);
    const dots = '.'.repeat(Math.max(0, width - shown.length - nameIndent(name).length + 3));
    lines.push(`${indent}  ${nameIndent(name)}${mark} ${shown}${dots}: ${metricText(m, runSeconds, stats, paint)}`);
  }
  return lines.join('\n');
}
