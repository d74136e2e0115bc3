import { parseDurationMs } from '../../duration.ts';
import { httpSync, vu } from './state.ts';

interface Params {
  headers?: Record<string, string>;
  tags?: Record<string, string>;
  timeout?: string | number;
}

export interface Response {
  status: number;
  body: string;
  headers: Record<string, string>;
  error: string;
  error_code: number;
  timings: { duration: number; waiting: number };
  url: string;
  request: { method: string; url: string; body: string };
  json(selector?: string): unknown;
}

const SUPPORTED_PARAMS = new Set(['headers', 'tags', 'timeout']);

function encodeBody(body: unknown, headers: Record<string, string>): string | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (typeof body === 'object') {
    // k6 form-encodes an object body.
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/x-www-form-urlencoded';
    return new URLSearchParams(Object.entries(body as Record<string, unknown>).map(([k, v]): [string, string] => [k, String(v)])).toString();
  }
  throw new Error('k6 runtime: request bodies must be strings or objects (ArrayBuffer bodies are not supported)');
}

export function request(method: string, url: string, body?: unknown, params: Params = {}): Response {
  for (const key of Object.keys(params)) {
    if (!SUPPORTED_PARAMS.has(key)) throw new Error(`k6 runtime: unsupported http params option: ${key}`);
  }
  const headers = { ...(params.headers ?? {}) };
  const encoded = encodeBody(body, headers);
  const timeoutMs = params.timeout === undefined ? 60_000 : (parseDurationMs(params.timeout) ?? 60_000);
  const tags: Record<string, string> = { group: vu.group, scenario: vu.scenario, ...(params.tags ?? {}) };
  const upper = method.toUpperCase();
  const reply = httpSync({ method: upper, url, headers, timeoutMs, tags, ...(encoded !== undefined ? { body: encoded } : {}) });
  return {
    status: reply.status,
    body: reply.body,
    headers: reply.headers,
    error: reply.error ?? '',
    error_code: reply.errorCode ?? 0,
    timings: { duration: reply.durationMs, waiting: reply.waitingMs },
    url,
    request: { method: upper, url, body: encoded ?? '' },
    json(selector?: string) {
      if (selector !== undefined) throw new Error('k6 runtime: Response.json(selector) is not supported');
      return JSON.parse(reply.body);
    },
  };
}

export const get = (url: string, params?: Params): Response => request('GET', url, null, params);
export const head = (url: string, params?: Params): Response => request('HEAD', url, null, params);
export const del = (url: string, body?: unknown, params?: Params): Response => request('DELETE', url, body, params);
export const post = (url: string, body?: unknown, params?: Params): Response => request('POST', url, body, params);
export const put = (url: string, body?: unknown, params?: Params): Response => request('PUT', url, body, params);
export const patch = (url: string, body?: unknown, params?: Params): Response => request('PATCH', url, body, params);
export const options = (url: string, body?: unknown, params?: Params): Response => request('OPTIONS', url, body, params);

type BatchItem = string | [string, string, unknown?, Params?] | { method: string; url: string; body?: unknown; params?: Params };

/** k6 sends a batch in parallel; here each runs in turn (same results, less concurrency). */
export function batch(requests: BatchItem[] | Record<string, BatchItem>): Response[] | Record<string, Response> {
  const one = (r: BatchItem): Response => {
    if (typeof r === 'string') return get(r);
    if (Array.isArray(r)) return request(r[0], r[1], r[2], r[3]);
    return request(r.method, r.url, r.body, r.params);
  };
  if (Array.isArray(requests)) return requests.map(one);
  return Object.fromEntries(Object.entries(requests).map(([k, r]) => [k, one(r)]));
}

export default { request, get, head, del, post, put, patch, options, batch };
