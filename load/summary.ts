import * as hdr from 'hdr-histogram-js';
import type { ErrorKind, LatencyStats, LoadSummary, RequestRecord } from './result.ts';

/** Latencies are recorded in microseconds so sub-millisecond loopback requests keep their resolution. */
const MICROS_PER_MS = 1000;

/** Percentiles and max from an HDR histogram (3 significant digits), mean exact. Empty input gives zeros. */
export function latencyStats(valuesMs: readonly number[]): LatencyStats {
  if (valuesMs.length === 0) return { p50: 0, p90: 0, p95: 0, p99: 0, max: 0, mean: 0 };
  const histogram = hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3, autoResize: true });
  try {
    let sum = 0;
    let max = 0;
    for (const ms of valuesMs) {
      const safe = Number.isFinite(ms) && ms > 0 ? ms : 0;
      sum += safe;
      if (safe > max) max = safe;
      histogram.recordValue(Math.round(safe * MICROS_PER_MS));
    }
    const at = (p: number): number => Math.min(histogram.getValueAtPercentile(p) / MICROS_PER_MS, max);
    return { p50: at(50), p90: at(90), p95: at(95), p99: at(99), max, mean: sum / valuesMs.length };
  } finally {
    histogram.destroy();
  }
}

export interface SummaryOptions {
  /** Wall time of the run; computed from the records when absent. */
  durationMs?: number;
  /** Requests that never started (open model, max in flight reached). */
  dropped?: number;
}

/** The wall time the records span: first start to last end. */
export function spanMs(records: readonly RequestRecord[]): number {
  if (records.length === 0) return 0;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const r of records) {
    if (r.startMs < first) first = r.startMs;
    const end = r.startMs + r.latencyMs;
    if (end > last) last = end;
  }
  return Math.max(0, last - first);
}

/**
 * Summarize per-request records. Throughput counts every finished request (with a status or an error kind)
 * per second of `durationMs`.
 */
export function summarize(records: readonly RequestRecord[], options: SummaryOptions = {}): LoadSummary {
  const byStatus: Record<string, number> = {};
  const errors: Partial<Record<ErrorKind, number>> = {};
  const latencies: number[] = [];
  const ttfts: number[] = [];
  for (const r of records) {
    if (r.status !== undefined && r.error === undefined) byStatus[String(r.status)] = (byStatus[String(r.status)] ?? 0) + 1;
    else errors[r.error ?? 'other'] = (errors[r.error ?? 'other'] ?? 0) + 1;
    latencies.push(r.latencyMs);
    if (r.ttftMs !== undefined) ttfts.push(r.ttftMs);
  }
  const durationMs = options.durationMs ?? spanMs(records);
  const summary: LoadSummary = {
    requests: records.length,
    byStatus,
    errors,
    durationMs,
    throughput: durationMs > 0 ? records.length / (durationMs / 1000) : 0,
    latencyMs: latencyStats(latencies),
  };
  if (ttfts.length > 0) summary.ttftMs = latencyStats(ttfts);
  if (options.dropped !== undefined) summary.dropped = options.dropped;
  return summary;
}
