import type { LoadResult, RequestRecord } from '../load/result.ts';

/** Requests per HTTP status (`"200"`), and per error kind for requests with no status (`"error:timeout"`). */
export function outcomeCounts(load: LoadResult): Record<string, number> {
  if (load.records.length === 0) {
    const out: Record<string, number> = { ...load.summary.byStatus };
    for (const [kind, n] of Object.entries(load.summary.errors)) if (n) out[`error:${kind}`] = n;
    return out;
  }
  const out: Record<string, number> = {};
  for (const r of load.records) {
    const key = outcomeKey(r);
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

/**
 * A record's outcome: its status (`"200"`), `error:<kind>` with no status, or status and kind
 * (`"200 stream-error"`: a 200 stream that carried an error event, which is not a `200` success).
 */
export function outcomeKey(r: Pick<RequestRecord, 'status' | 'error'>): string {
  if (r.status === undefined) return `error:${r.error ?? 'other'}`;
  return r.error === undefined ? String(r.status) : `${r.status} ${r.error}`;
}

export function totalRequests(load: LoadResult): number {
  return load.records.length > 0 ? load.records.length : load.summary.requests;
}

/** `200×58, 500×2` — readable status counts for summaries. */
export function formatOutcomes(counts: Record<string, number>): string {
  const entries = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? 'no requests' : entries.map(([k, n]) => `${k}×${n}`).join(', ');
}

/** What a record came back with, for "e.g." parts of summaries: `#3: 200`, `#7: timeout`. */
export function describeRecord(r: RequestRecord): string {
  const what = r.status !== undefined ? (r.error === undefined ? String(r.status) : `${r.status} ${r.error}`) : (r.error ?? 'no response');
  const body = r.errorBody ? ` "${r.errorBody.slice(0, 80).replace(/\s+/g, ' ')}"` : '';
  return `#${r.index + 1}: ${what}${body}`;
}
