/**
 * The template of every generated suite-load script (load/k6-script/generate.ts): a suite's declarative `load:`
 * as a k6 script. The generator transpiles this file to plain JS and puts the suite's plan where
 * `__PD_HARNESS_PLAN__` stands, so the result runs unchanged on k6, k6-operator and pd-harness's built-in k6
 * runtime:
 *
 *   k6 run -e GATEWAY=http://127.0.0.1:18080 --summary-export summary.json --out json=points.json suite-load.js
 *
 * What the harness reads back (load/k6/output.ts): every request's `http_reqs` / `http_req_duration` /
 * `http_req_waiting` points, tagged `pd_request` (the request number, `{{i}}`) and `variant`; and one
 * `pd_harness_response` point per request (value: body length) tagged with the same `pd_request`, the
 * response's OpenAI `response_id` and, for a non-2xx answer, its first 512 characters as `error_body` (what the
 * criteria need and k6's own metrics do not carry); for a 2xx stream that carries an error event (vLLM's
 * `data: {"error": {...}}` then `data: [DONE]` after its engine died), `stream_error` (the message) and the event
 * as `error_body`: the harness counts that request as failed.
 */
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import type { Options } from 'k6/options';
import type { SuiteScriptPlan, SuiteScriptRequest } from './suite-load-plan';

declare const __PD_HARNESS_PLAN__: SuiteScriptPlan;
const PLAN: SuiteScriptPlan = __PD_HARNESS_PLAN__;

const GATEWAY = (__ENV['GATEWAY'] || PLAN.gateway).replace(/\/+$/, '');
const ERROR_BODY_LIMIT = 512;

export const options: Options = PLAN.options as Options;

const responses = new Counter('pd_harness_response');

function fill(text: string, i: number): string {
  return text.split('{{i}}').join(String(i));
}

/** The OpenAI `id` of a JSON body, or of an SSE stream's first `data:` event. */
function responseId(body: string): string | undefined {
  let json = body;
  if (PLAN.stream) {
    const m = /(?:^|\n)data:\s*([^\n]*)/.exec(body);
    json = m && m[1] !== undefined ? m[1] : '';
  }
  try {
    const parsed = JSON.parse(json) as { id?: unknown } | null;
    if (parsed !== null && typeof parsed === 'object' && typeof parsed.id === 'string') return parsed.id;
  } catch {
    const m = /"id"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(json.slice(0, 4096));
    if (m && m[1] !== undefined) return m[1];
  }
  return undefined;
}

/**
 * The first error event of an SSE body (`data: {"error": {"message", "type", "param", "code"}}`, as vLLM's
 * `create_streaming_error_response` writes it): its message and payload, or undefined.
 */
function streamError(body: string): { message: string; payload: string } | undefined {
  if (body.indexOf('"error"') < 0) return undefined;
  for (const line of body.split('\n')) {
    if (line.indexOf('data:') !== 0 || line.indexOf('"error"') < 0) continue;
    const payload = line.slice(5).trim();
    try {
      const parsed = JSON.parse(payload) as { error?: unknown } | null;
      const err = parsed !== null && typeof parsed === 'object' ? parsed.error : undefined;
      if (err === undefined || err === null) continue;
      const e = err as { message?: unknown; type?: unknown; code?: unknown };
      const text = typeof err === 'string' ? err : typeof e.message === 'string' ? e.message : payload;
      const kind = [typeof e.type === 'string' ? e.type : '', e.code !== undefined && e.code !== null ? String(e.code) : '']
        .filter((s) => s !== '')
        .join(' ');
      return { message: kind !== '' && typeof err !== 'string' ? kind + ': ' + text : text, payload: payload.slice(0, ERROR_BODY_LIMIT) };
    } catch {
      continue;
    }
  }
  return undefined;
}

export default function (): void {
  // The request number across the whole test (all k6-operator runners): k6's iterationInTest is 0-based.
  const i = exec.scenario.iterationInTest + 1;
  const req = PLAN.requests[(i - 1) % PLAN.requests.length] as SuiteScriptRequest;
  const headers: Record<string, string> = {};
  for (const name of Object.keys(req.headers)) headers[name] = fill(req.headers[name] as string, i);
  const tags: Record<string, string> = { pd_request: String(i) };
  if (req.variant !== undefined) tags['variant'] = req.variant;
  const body = req.body === undefined ? null : fill(req.body, i);
  const res = http.request(req.method, GATEWAY + fill(req.path, i), body, { headers, timeout: PLAN.timeout, tags });
  const text = typeof res.body === 'string' ? res.body : '';
  const out: Record<string, string> = { pd_request: String(i) };
  if (req.variant !== undefined) out['variant'] = req.variant;
  // k6 reports a body that broke after the response headers as status 0 with an error; its waiting time (first
  // byte) tells it from a request that got no response: a stream cut mid-way (a decode pod killed under it)
  if (res.status === 0 && res.error !== '' && res.timings.waiting > 0) out['cut_after_headers'] = res.error;
  const id = res.status > 0 ? responseId(text) : undefined;
  if (id !== undefined) out['response_id'] = id;
  if (res.status > 0 && (res.status < 200 || res.status >= 300)) out['error_body'] = text.slice(0, ERROR_BODY_LIMIT);
  else if (PLAN.stream && res.status >= 200 && res.status < 300) {
    const failed = streamError(text);
    if (failed !== undefined) {
      out['stream_error'] = failed.message;
      out['error_body'] = failed.payload;
    }
  }
  responses.add(text.length, out);
}
