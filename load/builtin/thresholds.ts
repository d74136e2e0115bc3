import { evaluateThresholds, type MetricSeries } from '../k6-runtime/thresholds.ts';
import type { LoadResult, RequestRecord, ThresholdResult } from '../result.ts';

/**
 * The k6 built-in HTTP metrics of a built-in engine run, so a suite's `load.thresholds` mean what they mean
 * in k6 whichever engine ran: http_reqs, http_req_duration, http_req_failed (a status >= 400 or no response,
 * k6's default expected_response), http_req_waiting (time to first byte).
 */
export function builtinMetrics(records: readonly RequestRecord[]): Map<string, MetricSeries> {
  const ok = (r: RequestRecord) => r.status !== undefined && r.status < 400;
  return new Map<string, MetricSeries>([
    ['http_reqs', { type: 'counter', values: records.map(() => 1) }],
    ['http_req_duration', { type: 'trend', values: records.filter((r) => r.status !== undefined).map((r) => r.latencyMs) }],
    ['http_req_failed', { type: 'rate', values: records.map((r) => (ok(r) ? 0 : 1)) }],
    ['http_req_waiting', { type: 'trend', values: records.flatMap((r) => (r.ttftMs === undefined ? [] : [r.ttftMs])) }],
  ]);
}

export function judgeThresholds(result: LoadResult, thresholds: Record<string, string[]>): ThresholdResult[] {
  return evaluateThresholds(thresholds, builtinMetrics(result.records), result.summary.durationMs / 1000);
}
