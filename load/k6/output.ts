import { UserError } from '../../core/errors.ts';
import { CUT_AFTER_HEADERS, type ErrorKind, type RequestRecord } from '../result.ts';

/** One line of `k6 run --out json=FILE`. */
interface K6Point {
  type: 'Point';
  metric: string;
  data: { time: string; value: number; tags?: Record<string, string> | null };
}

export interface ParsedK6Output {
  records: RequestRecord[];
  /** Metric name -> type (counter, gauge, rate, trend), from the `Metric` declarations. */
  metrics: Record<string, string>;
  /** Sum of `dropped_iterations` points (constant-arrival-rate could not start an iteration). */
  droppedIterations: number;
}

/**
 * k6 error codes (https://grafana.com/docs/k6/latest/javascript-api/error-codes/) that name our error kinds;
 * a request with status 0 and any other code is `other`.
 */
const ERROR_CODE_KINDS: Record<string, ErrorKind> = {
  '1050': 'timeout', // request timeout
  '1211': 'timeout', // dial: i/o timeout
  '1212': 'connection-refused', // dial: connection refused
  '1201': 'reset', // broken pipe
  '1220': 'reset', // connection reset by peer
};

export function errorKindOfK6Code(code: string | undefined): ErrorKind {
  return (code !== undefined && ERROR_CODE_KINDS[code]) || 'other';
}

/** RFC 3339 with k6's nanoseconds to epoch ms (Date.parse is only specified for milliseconds). */
export function parseK6Time(time: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(time);
  if (!m || m[1] === undefined || m[3] === undefined) return NaN;
  const whole = Date.parse(`${m[1]}${m[3]}`);
  const frac = m[2] === undefined ? 0 : Number(`0.${m[2]}`) * 1000;
  return whole + frac;
}

/** Samples of one HTTP request share their time and tag set; that is how they are matched. */
function sampleKey(p: K6Point): string {
  const tags = p.data.tags ?? {};
  const sorted = Object.keys(tags)
    .sort()
    .map((k) => [k, tags[k]]);
  return `${p.data.time}\u0000${JSON.stringify(sorted)}`;
}

function take(map: Map<string, number[]>, key: string): number | undefined {
  const queue = map.get(key);
  return queue && queue.length > 0 ? queue.shift() : undefined;
}

function isPoint(v: unknown): v is K6Point {
  if (v === null || typeof v !== 'object') return false;
  const o = v as Record<string, unknown>;
  const data = o['data'] as Record<string, unknown> | undefined;
  return (
    o['type'] === 'Point' &&
    typeof o['metric'] === 'string' &&
    !!data &&
    typeof data['time'] === 'string' &&
    typeof data['value'] === 'number'
  );
}

/**
 * Parse k6's JSON lines into records: one per `http_reqs` point, latency from the `http_req_duration` point
 * with the same time and tags, TTFT from `http_req_waiting` (time to first byte). k6 stamps HTTP samples
 * when the response ends, so the start is that time minus the duration. A line that is not JSON is a
 * one-line UserError naming the file and line.
 */
export function parseK6JsonLines(text: string, file: string): ParsedK6Output {
  const metrics: Record<string, string> = {};
  const reqs: K6Point[] = [];
  const durations = new Map<string, number[]>();
  const waits = new Map<string, number[]>();
  let droppedIterations = 0;
  const responses = new Map<string, K6Point>();
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]?.trim() ?? '';
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new UserError(`malformed k6 output ${file}:${n + 1}: not a JSON line: ${line.slice(0, 60)}`);
    }
    const o = value as Record<string, unknown>;
    if (o && o['type'] === 'Metric') {
      const data = o['data'] as Record<string, unknown> | undefined;
      if (typeof o['metric'] === 'string') metrics[o['metric']] = String(data?.['type'] ?? '');
      continue;
    }
    if (!isPoint(value)) throw new UserError(`malformed k6 output ${file}:${n + 1}: not a k6 Metric or Point`);
    switch (value.metric) {
      case 'http_reqs':
        reqs.push(value);
        break;
      case 'http_req_duration':
        pushTo(durations, sampleKey(value), value.data.value);
        break;
      case 'http_req_waiting':
        pushTo(waits, sampleKey(value), value.data.value);
        break;
      case 'dropped_iterations':
        droppedIterations += value.data.value;
        break;
      case RESPONSE_METRIC: {
        const n = value.data.tags?.['pd_request'];
        if (n !== undefined) responses.set(n, value);
        break;
      }
    }
  }
  const records: RequestRecord[] = reqs.map((p) => {
    const key = sampleKey(p);
    const tags = { ...(p.data.tags ?? {}) };
    const latencyMs = take(durations, key) ?? 0;
    const end = parseK6Time(p.data.time);
    const record: RequestRecord = { index: 0, startMs: end - latencyMs, latencyMs, bytes: 0, tags };
    const status = Number(tags['status'] ?? '0');
    if (status > 0) record.status = status;
    else {
      record.error = errorKindOfK6Code(tags['error_code']);
      if (tags['error']) record.errorMessage = tags['error'];
    }
    const ttft = take(waits, key);
    if (ttft !== undefined && record.status !== undefined) record.ttftMs = ttft;
    const response = tags['pd_request'] !== undefined ? responses.get(tags['pd_request']) : undefined;
    if (response) withResponse(record, response);
    return record;
  });
  numberRecords(records);
  return { records, metrics, droppedIterations };
}

/**
 * The metric a generated suite script (k6/suite-load.ts) adds once per request, tagged with the request's
 * `pd_request`: value = body length, `response_id`, `error_body` (first 512 characters of a non-2xx body, or a
 * 2xx stream's error event), `stream_error` (the message of that event: the request failed, its status is kept).
 */
export const RESPONSE_METRIC = 'pd_harness_response';

/**
 * Index records in place: a generated suite script numbers its requests (`{{i}}` = tag `pd_request`), so the
 * index is the builtin engine's (`pd_request - 1`, records in that order); otherwise start order.
 */
export function numberRecords(records: RequestRecord[]): void {
  records.sort((a, b) => a.startMs - b.startMs);
  const numbered = records.length > 0 && records.every((r) => /^[1-9]\d*$/.test(r.tags?.['pd_request'] ?? ''));
  records.forEach((r, i) => (r.index = numbered ? Number(r.tags?.['pd_request']) - 1 : i));
  if (numbered) records.sort((a, b) => a.index - b.index);
}

function withResponse(record: RequestRecord, p: K6Point): void {
  const t = p.data.tags ?? {};
  record.bytes = p.data.value;
  if (t['response_id']) record.responseId = t['response_id'];
  if (t['error_body'] !== undefined && record.status !== undefined) record.errorBody = t['error_body'];
  if (t['cut_after_headers'] !== undefined && record.status === undefined) {
    record.errorMessage = `${CUT_AFTER_HEADERS}: ${t['cut_after_headers']}`;
  }
  if (t['stream_error'] !== undefined && record.status !== undefined) {
    record.error = 'stream-error';
    record.errorMessage = t['stream_error'];
  }
}

function pushTo(map: Map<string, number[]>, key: string, v: number): void {
  const q = map.get(key);
  if (q) q.push(v);
  else map.set(key, [v]);
}
