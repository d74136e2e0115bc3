import { UserError } from '../../core/errors.ts';
import type { ThresholdResult } from '../result.ts';

export interface K6SummaryExport {
  thresholds: ThresholdResult[];
  /** http_reqs count and rate, when present: count / rate is k6's own test run duration. */
  httpReqs?: { count: number; rate: number };
}

/**
 * Read the thresholds of `k6 run --summary-export=FILE`.
 *
 * Polarity, explicitly: the summary-export ("legacy") format stores `metrics.<name>.thresholds.<expr>` as a
 * boolean that is TRUE WHEN THE THRESHOLD FAILED. k6 builds it from the handleSummary data by writing
 * `!threshold.ok` (js/summary-wrapper.js, oldJSONSummary; before v0.30 it was the threshold's `LastFailed`).
 * So `{"rate<0.01": false}` means the threshold held. The handleSummary JSON (`data.metrics.<name>.thresholds
 * .<expr>.ok`) is accepted too, with `ok` taken as is.
 */
export function parseSummaryExport(text: string, file: string): K6SummaryExport {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new UserError(`malformed k6 summary export ${file}: not JSON`);
  }
  const metrics = (doc as { metrics?: unknown } | null)?.metrics;
  if (metrics === null || typeof metrics !== 'object') {
    throw new UserError(`malformed k6 summary export ${file}: no "metrics" object`);
  }
  const thresholds: ThresholdResult[] = [];
  let httpReqs: K6SummaryExport['httpReqs'];
  for (const [metric, body] of Object.entries(metrics as Record<string, unknown>)) {
    const m = (body ?? {}) as Record<string, unknown>;
    const t = m['thresholds'];
    if (t !== null && typeof t === 'object') {
      for (const [expression, verdict] of Object.entries(t as Record<string, unknown>)) {
        if (typeof verdict === 'boolean') thresholds.push({ metric, expression, ok: !verdict });
        else if (verdict !== null && typeof verdict === 'object' && typeof (verdict as { ok?: unknown }).ok === 'boolean') {
          thresholds.push({ metric, expression, ok: (verdict as { ok: boolean }).ok });
        }
      }
    }
    if (metric === 'http_reqs') {
      const values = (m['values'] as Record<string, unknown> | undefined) ?? m;
      if (typeof values['count'] === 'number' && typeof values['rate'] === 'number') {
        httpReqs = { count: values['count'], rate: values['rate'] };
      }
    }
  }
  const out: K6SummaryExport = { thresholds };
  if (httpReqs) out.httpReqs = httpReqs;
  return out;
}
