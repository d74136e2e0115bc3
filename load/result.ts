/**
 * The one result model every load engine returns (builtin, k6 binary, k6 script in the builtin runtime,
 * k6-operator). Criteria and reporters read only this.
 */
export type EngineName = 'builtin' | 'k6' | 'k6-script' | 'k6-operator';

/**
 * Why a request failed: with no HTTP status, or (`stream-error`) a 2xx SSE stream that carried an error event
 * (vLLM writes `data: {"error": {...}}` then `data: [DONE]` when its engine dies mid-stream).
 */
export type ErrorKind = 'timeout' | 'connection-refused' | 'reset' | 'aborted' | 'stream-error' | 'other';

export interface RequestRecord {
  /** 0-based index of the request in the run (the `{{i}}` of the template, 1-based there). */
  index: number;
  /** Wall-clock start, epoch milliseconds. */
  startMs: number;
  /** Time to the end of the response (or to the error), milliseconds. */
  latencyMs: number;
  /** HTTP status when a response arrived. */
  status?: number;
  /** Set when no response arrived, or (`stream-error`, with `status` kept) when a 2xx stream carried an error event. */
  error?: ErrorKind;
  /**
   * What went wrong. A response cut after its headers (a stream whose pod died) starts with `after status N: `
   * (the builtin engine saw the status) or `after the response headers: ` (k6 reports such a request as status 0
   * with an error, lib/netext/httpext/request.go; its first-byte time tells it apart): see isCutAfterHeaders.
   */
  errorMessage?: string;
  /** Time to first byte of the body (first token for SSE streams), milliseconds. */
  ttftMs?: number;
  /** Response body bytes received. */
  bytes: number;
  /** The OpenAI response `id` (e.g. `cmpl-___prefill_addr_...`) when the body had one. */
  responseId?: string;
  /** First 512 characters of a non-2xx body (or of a stream's error event), for negative criteria (e.g. InferencePoolResourceExhausted). */
  errorBody?: string;
  /** Headers worth keeping as evidence (never Authorization). */
  headers?: Record<string, string>;
  /** Engine tags of the request (k6: method, url, name, scenario, ...), when the engine has them. */
  tags?: Record<string, string>;
}

export interface LatencyStats {
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

export interface LoadSummary {
  requests: number;
  /** Count per HTTP status of the requests that did not fail otherwise, keys are status codes as strings. */
  byStatus: Record<string, number>;
  /** Count per error kind for requests with no status, and `stream-error` for 2xx streams that carried an error event. */
  errors: Partial<Record<ErrorKind, number>>;
  durationMs: number;
  /** Completed requests per second over the run. */
  throughput: number;
  latencyMs: LatencyStats;
  ttftMs?: LatencyStats;
  /** Requests (k6: iterations) that could not start because max in flight was reached (open model only). */
  dropped?: number;
}

export interface ThresholdResult {
  metric: string;
  expression: string;
  ok: boolean;
}

export interface LoadResult {
  engine: EngineName;
  /** ISO timestamp. */
  startedAt: string;
  records: RequestRecord[];
  summary: LoadSummary;
  /** k6 thresholds (or builtin equivalents) and whether they held. */
  thresholds?: ThresholdResult[];
  /** Set when the run stopped before its plan was done: cancelled, or its hard time bound reached. */
  incomplete?: { reason: 'maxDuration' | 'aborted'; notStarted: number };
}

/** The prefix of a k6 record's errorMessage when its response broke after the headers (load/k6/output.ts). */
export const CUT_AFTER_HEADERS = 'after the response headers';

/** A request whose response started (headers, 2xx for the builtin engine) and then broke: never a complete response. */
export function isCutAfterHeaders(r: RequestRecord): boolean {
  if (r.status !== undefined || r.error === undefined) return false;
  const m = r.errorMessage ?? '';
  return /^after status 2\d\d\b/.test(m) || m.startsWith(`${CUT_AFTER_HEADERS}: `);
}
