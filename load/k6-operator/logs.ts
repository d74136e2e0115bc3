import { numberRecords, parseK6JsonLines, parseK6Time } from '../k6/output.ts';
import { evaluateThresholds, type MetricSeries } from '../k6-runtime/thresholds.ts';
import type { LoadResult, RequestRecord, ThresholdResult } from '../result.ts';
import { summarize } from '../summary.ts';

/**
 * Runner pod logs -> the result model. A runner's log holds k6's JSON points (`--out json=/dev/stdout`)
 * mixed with k6's own stderr lines (logfmt) and its end-of-test summary. Pure.
 */

/** What the runner read from one runner pod. */
export interface RunnerOutput {
  pod: string;
  log: string;
  /** The k6 container's exit code, when it terminated. */
  exitCode?: number;
}

const K6_JSON_LINE = /^\{"(?:type|metric)":/;

/**
 * The log with every line that is not one of k6's JSON lines blanked, so the JSON parser's line numbers are
 * the pod log's; and the other lines, for error messages.
 */
export function splitRunnerLog(log: string): { jsonText: string; otherLines: string[] } {
  const otherLines: string[] = [];
  const kept = log.split('\n').map((line) => {
    const t = line.trim();
    if (K6_JSON_LINE.test(t)) return t;
    if (t !== '') otherLines.push(t);
    return '';
  });
  return { jsonText: kept.join('\n'), otherLines };
}

/** k6 logs `thresholds on metrics 'a, b' have been crossed` when it exits 99; the metric names, if it did. */
export function crossedMetricsOfLog(lines: readonly string[]): string[] | undefined {
  for (const line of lines) {
    const m = /thresholds on metrics '([^']*)' (?:have been|were) crossed/.exec(line);
    if (m)
      return (m[1] ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    if (/some thresholds have failed/.test(line)) return [];
  }
  return undefined;
}

/** The message of a logfmt line (`level=error msg="..."`), else the line itself. */
export function messageOfLogLine(line: string): string {
  const m = /\bmsg="((?:[^"\\]|\\.)*)"/.exec(line);
  return m?.[1] !== undefined ? (m[1].split('\\n')[0] ?? '').replace(/\\"/g, '"') : line;
}

interface Declared {
  type: MetricSeries['type'];
  thresholds: string[];
}

const METRIC_TYPES = new Set(['counter', 'rate', 'trend', 'gauge']);

/** Metric declarations (type, threshold expressions) and every Point's value per metric. */
export function metricSeries(jsonText: string): {
  declared: Map<string, Declared>;
  series: Map<string, MetricSeries>;
  firstMs: number;
  lastMs: number;
} {
  const declared = new Map<string, Declared>();
  const raw = new Map<string, number[]>();
  let firstMs = Infinity;
  let lastMs = -Infinity;
  for (const line of jsonText.split('\n')) {
    if (line === '') continue;
    let o: { type?: string; metric?: string; data?: { type?: string; thresholds?: unknown; value?: unknown; time?: unknown } };
    try {
      o = JSON.parse(line) as typeof o;
    } catch {
      continue; // parseK6JsonLines reports malformed lines with their position
    }
    if (typeof o.metric !== 'string' || !o.data) continue;
    if (o.type === 'Metric') {
      const type = String(o.data.type ?? '');
      const thresholds = Array.isArray(o.data.thresholds) ? o.data.thresholds.map(String) : [];
      const prev = declared.get(o.metric);
      declared.set(o.metric, {
        type: METRIC_TYPES.has(type) ? (type as Declared['type']) : (prev?.type ?? 'trend'),
        thresholds: [...new Set([...(prev?.thresholds ?? []), ...thresholds])],
      });
    } else if (o.type === 'Point' && typeof o.data.value === 'number') {
      const values = raw.get(o.metric);
      if (values) values.push(o.data.value);
      else raw.set(o.metric, [o.data.value]);
      const t = typeof o.data.time === 'string' ? parseK6Time(o.data.time) : NaN;
      if (Number.isFinite(t)) {
        firstMs = Math.min(firstMs, t);
        lastMs = Math.max(lastMs, t);
      }
    }
  }
  const series = new Map<string, MetricSeries>();
  for (const [name, values] of raw) series.set(name, { type: declared.get(name)?.type ?? 'trend', values });
  return { declared, series, firstMs, lastMs };
}

/**
 * All runners' points as one run: records merged in start order, and the script's thresholds evaluated over
 * every runner's samples together (k6-operator without k6 Cloud has each runner judge only its own share).
 * A runner that exited 99 or logged crossed thresholds adds a failed threshold when the merged evaluation
 * found none, so a runner's own verdict is never lost.
 */
export function combineRunnerOutputs(outputs: readonly RunnerOutput[], startedAt: string): LoadResult {
  const records: RequestRecord[] = [];
  let dropped = 0;
  let jsonAll = '';
  const crossedByRunner: ThresholdResult[] = [];
  for (const out of outputs) {
    const { jsonText, otherLines } = splitRunnerLog(out.log);
    const parsed = parseK6JsonLines(jsonText, `runner pod ${out.pod} log`);
    records.push(...parsed.records);
    dropped += parsed.droppedIterations;
    jsonAll += `${jsonText}\n`;
    const crossed = crossedMetricsOfLog(otherLines);
    if (out.exitCode === 99 || crossed !== undefined) {
      const metrics = crossed && crossed.length > 0 ? crossed : ['(k6)'];
      for (const metric of metrics) crossedByRunner.push({ metric, expression: `crossed in runner ${out.pod}`, ok: false });
    }
  }
  numberRecords(records);

  const { declared, series, firstMs, lastMs } = metricSeries(jsonAll);
  const thresholdSpec: Record<string, string[]> = {};
  for (const [metric, d] of declared) {
    // submetric thresholds (`name{tag:v}`) are left to the runners' own verdict (exit 99)
    if (d.thresholds.length > 0 && !metric.includes('{')) thresholdSpec[metric] = d.thresholds;
  }
  const runSeconds = Number.isFinite(firstMs) && lastMs > firstMs ? (lastMs - firstMs) / 1000 : 0;
  const thresholds: ThresholdResult[] = [];
  for (const [metric, exprs] of Object.entries(thresholdSpec)) {
    try {
      thresholds.push(...evaluateThresholds({ [metric]: exprs }, series, runSeconds));
    } catch {
      // an expression form the evaluator does not know: the runners' own verdict (exit 99) stands for it
    }
  }
  if (!thresholds.some((t) => !t.ok)) thresholds.push(...crossedByRunner);

  const summary = summarize(records, dropped > 0 ? { dropped } : {});
  return { engine: 'k6-operator', startedAt, records, summary, thresholds };
}
