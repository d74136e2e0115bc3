import { parseDurationMs, parseRatePerSecond } from './duration.ts';

/** One HTTP request shape; `{{i}}` (1-based request number) may appear in any string of path, headers, body. */
export interface RequestTemplate {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** An object is sent as JSON; a string as is; absent for no body. */
  body?: unknown;
}

/**
 * What the built-in engine runs. Closed model: `requests` at `concurrency`. Open model (when `rate` is set):
 * `rate` arrivals per second for `durationMs` (or `requests` arrivals), at most `maxInFlight` at once.
 */
export interface LoadPlan {
  requests?: number;
  concurrency?: number;
  rate?: number;
  durationMs?: number;
  maxInFlight?: number;
  /** Per-request limit; the request is aborted and recorded as `timeout` (the seed's `curl --max-time 35`). */
  timeoutMs: number;
  /** Requests sent before the measured run and not recorded. */
  warmup?: number;
  /** Expect SSE; a JSON object body without a `stream` key gets `stream: true`. */
  stream?: boolean;
  /** Hard bound on the whole run, after which in-flight requests are aborted. */
  maxDurationMs?: number;
  /** Response headers to keep on each record (lower case; authorization is never kept). */
  captureHeaders?: string[];
  request: RequestTemplate;
  /** Request variants taken in turn: request i uses variants[(i-1) % n]; records are tagged `variant`. */
  variants?: RequestVariant[];
}

/** A variant adds its headers to the request's; its path and body replace the request's. `{{variant}}` is its name. */
export interface RequestVariant {
  name: string;
  headers?: Record<string, string>;
  path?: string;
  body?: unknown;
}

export const DEFAULT_TIMEOUT_MS = 35_000;
export const DEFAULT_REQUEST: RequestTemplate = {
  method: 'POST',
  path: '/v1/chat/completions',
  headers: { 'content-type': 'application/json' },
};

export type LoadEngineName = 'builtin' | 'k6' | 'k6-operator';

/** The suite's `load` section converted: the plan plus what only other engines use. */
export interface SuiteLoad {
  engine: LoadEngineName;
  plan: LoadPlan;
  /** k6 script path (engine k6 / k6-operator, or a k6 script run by the built-in engine). */
  script?: string;
  /** k6-style thresholds: metric -> expressions. */
  thresholds?: Record<string, string[]>;
}

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function positiveInt(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? Math.floor(n) : undefined;
}

function duration(value: unknown, field: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const ms = parseDurationMs(value);
  if (ms === undefined) throw new Error(`load.${field}: not a duration: ${JSON.stringify(value)} (use e.g. 35s, 500ms, 2m)`);
  return ms;
}

function stringHeaders(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(record(value))) if (v !== undefined && v !== null) out[k] = String(v);
  return out;
}

function thresholds(value: unknown): Record<string, string[]> | undefined {
  if (value === undefined || value === null) return undefined;
  const out: Record<string, string[]> = {};
  for (const [metric, exprs] of Object.entries(record(value))) {
    const list = Array.isArray(exprs) ? exprs : [exprs];
    out[metric] = list.map((e) => (typeof e === 'string' ? e : String(record(e)['threshold'] ?? e)));
  }
  return out;
}

/**
 * Convert a suite's `load` section (as the suite schema parses it) into a plan. Tolerant: durations as
 * strings or milliseconds, rates as numbers or `10/s`, missing request parts from the seed's defaults.
 */
export function fromSuiteLoad(section: unknown): SuiteLoad {
  const s = record(section);
  const engine = (s['engine'] ?? 'builtin') as LoadEngineName;
  if (engine !== 'builtin' && engine !== 'k6' && engine !== 'k6-operator') {
    throw new Error(`load.engine: unknown engine ${JSON.stringify(engine)} (builtin, k6 or k6-operator)`);
  }
  const req = record(s['request']);
  const headers = { ...DEFAULT_REQUEST.headers, ...stringHeaders(req['headers']) };
  const request: RequestTemplate = {
    method: typeof req['method'] === 'string' ? req['method'].toUpperCase() : DEFAULT_REQUEST.method,
    path: typeof req['path'] === 'string' ? req['path'] : DEFAULT_REQUEST.path,
    headers,
  };
  if (req['body'] !== undefined) request.body = req['body'];
  const plan: LoadPlan = { timeoutMs: duration(s['timeout'], 'timeout') ?? DEFAULT_TIMEOUT_MS, request };
  const requests = positiveInt(s['requests']);
  const concurrency = positiveInt(s['concurrency']);
  const maxInFlight = positiveInt(s['maxInFlight']);
  const warmup = positiveInt(s['warmup']);
  const durationMs = duration(s['duration'], 'duration');
  const maxDurationMs = duration(s['maxDuration'], 'maxDuration');
  if (requests !== undefined) plan.requests = requests;
  if (concurrency !== undefined) plan.concurrency = concurrency;
  if (maxInFlight !== undefined) plan.maxInFlight = maxInFlight;
  if (warmup !== undefined) plan.warmup = warmup;
  if (durationMs !== undefined) plan.durationMs = durationMs;
  if (maxDurationMs !== undefined) plan.maxDurationMs = maxDurationMs;
  if (s['rate'] !== undefined && s['rate'] !== null) {
    const rate = parseRatePerSecond(s['rate']);
    if (rate === undefined) throw new Error(`load.rate: not a rate: ${JSON.stringify(s['rate'])} (use e.g. 10 or 10/s)`);
    plan.rate = rate;
  }
  if (typeof s['stream'] === 'boolean') plan.stream = s['stream'];
  if (Array.isArray(s['variants']) && s['variants'].length > 0) {
    plan.variants = s['variants'].map((v, n) => {
      const r = record(v);
      if (typeof r['name'] !== 'string') throw new Error(`load.variants[${n}]: a variant needs a name`);
      const variant: RequestVariant = { name: r['name'] };
      if (r['headers'] !== undefined) variant.headers = stringHeaders(r['headers']);
      if (typeof r['path'] === 'string') variant.path = r['path'];
      if (r['body'] !== undefined) variant.body = r['body'];
      return variant;
    });
  }
  const out: SuiteLoad = { engine, plan };
  if (typeof s['script'] === 'string') out.script = s['script'];
  const t = thresholds(s['thresholds']);
  if (t) out.thresholds = t;
  return out;
}
