import { randomBytes } from './crypto.ts';
import exec from './execution.ts';
import http from './http.ts';

/*
 * The HTTP instrumentation jslibs (grafana/jslib.k6.io lib/http-instrumentation-pyroscope/1.0.1/index.js,
 * lib/http-instrumentation-tempo/1.0.0 and 1.0.1/index.js), written from reading them: a Client whose
 * request/get/post/... add headers to each call and pass it on to k6/http, and `instrumentHTTP()`, which
 * replaces the methods of the k6/http default export with the Client's (http.batch is left alone).
 */

type Args = unknown[];
type RequestFn = (method: unknown, url: unknown, ...args: Args) => unknown;
type Headers = Record<string, string>;

/**
 * The arguments after the URL with `headers` added: no params → `{ headers }` (after a null body when there is
 * no body either); params → its `headers` object is created if missing and the headers assigned into it (the
 * caller's params object is changed, as the libraries do).
 */
export function instrumentArguments(headers: Headers, args: Args): Args {
  const out = [...args];
  if (out.length === 0) out.push(null);
  if (out.length === 1) out.push({ headers });
  else {
    if (out[1] === null || out[1] === undefined) out[1] = {};
    const params = out[1] as { headers?: Record<string, unknown> | null };
    if (params.headers === null || params.headers === undefined) params.headers = {};
    Object.assign(params.headers, headers);
  }
  return out;
}

/** The shorthand methods of both libraries, on top of a `request(method, url, ...args)`. */
export abstract class InstrumentedClient {
  abstract request(method: unknown, url: unknown, ...args: Args): unknown;
  del(url: unknown, ...args: Args): unknown {
    return this.request('DELETE', url, ...args);
  }
  get(url: unknown, ...args: Args): unknown {
    return this.request('GET', url, null, ...args);
  }
  head(url: unknown, ...args: Args): unknown {
    return this.request('HEAD', url, null, ...args);
  }
  options(url: unknown, ...args: Args): unknown {
    return this.request('OPTIONS', url, ...args);
  }
  patch(url: unknown, ...args: Args): unknown {
    return this.request('PATCH', url, ...args);
  }
  post(url: unknown, ...args: Args): unknown {
    return this.request('POST', url, ...args);
  }
  put(url: unknown, ...args: Args): unknown {
    return this.request('PUT', url, ...args);
  }
}

/** Replace the k6/http default export's methods with the client's (both libraries' instrumentHTTP). */
export function installClient(client: InstrumentedClient & { asyncRequest: RequestFn }): void {
  const target = http as unknown as Record<string, unknown>;
  for (const m of ['del', 'get', 'head', 'options', 'patch', 'post', 'put', 'request', 'asyncRequest'] as const) {
    target[m] = (client[m] as (...a: Args) => unknown).bind(client);
  }
}

/** The k6/http default export's request/asyncRequest as they are now. */
export function currentHttp(): { request: RequestFn; asyncRequest: RequestFn } {
  const h = http as unknown as { request: RequestFn; asyncRequest: RequestFn };
  return { request: h.request, asyncRequest: h.asyncRequest };
}

// ---------- tempo ----------

const HEX = '0123456789abcdef';
const randHex = (n: number): string => Array.from({ length: n }, () => HEX[Math.floor(16 * Math.random())]).join('');

/**
 * The library's trace id: "dc0718", then the bytes of Date.now() * 1e6 without leading zero bytes (its
 * longToByteArray starts one past the end, so the lowest byte is dropped and the rest lands one place
 * right), then random bytes up to 16 bytes in all: 32 hex digits.
 */
export function tempoTraceId(nowMs = Date.now()): string {
  const bytes = new Uint8Array(8);
  let long = nowMs * 1e6;
  for (let index = 8; index >= 0; index--) {
    const byte = long % 256;
    if (index < 8) bytes[index] = byte;
    long = (long - byte) / 256;
    if (long < 1) break;
  }
  let i = bytes.findIndex((b) => b !== 0);
  if (i < 0) i = bytes.length;
  let out = 'dc0718';
  for (; i < bytes.length; i++) out += (bytes[i] ?? 0).toString(16).padStart(2, '0');
  const n = out.length / 2;
  for (const b of new Uint8Array(randomBytes(16 - n))) out += b.toString(16).padStart(2, '0');
  return out;
}

const PROPAGATORS: Record<string, (sampled: () => boolean, traceId: string) => Headers> = {
  w3c: (sampled, traceId) => ({ traceparent: `00-${traceId}-${randHex(16)}-${sampled() ? '01' : '00'}` }),
  jaeger: (sampled, traceId) => ({ 'uber-trace-id': `${traceId}:${randHex(8)}:0:${sampled() ? '1' : '0'}` }),
};

function sampler(rate: unknown): () => boolean {
  // the library throws strings, as here
  if ((rate as number) < 0 || (rate as number) > 1) throw 'sampling rate must be between 0.0 and 1.0';
  const r = rate === undefined ? 1 : rate;
  if (r === 0) return () => false;
  if (r === 1) return () => true;
  return () => Math.random() < (r as number);
}

export interface TempoOptions {
  propagator?: string;
  sampling?: number;
}

/** The tempo library's Client: a trace context header per request, and the trace id as the VU's metadata meanwhile. */
export class TempoClient extends InstrumentedClient {
  #propagator: (sampled: () => boolean, traceId: string) => Headers = PROPAGATORS['w3c'] as never;
  #sampled: () => boolean = () => true;
  readonly #request: RequestFn;
  readonly #asyncRequest: RequestFn;

  constructor(opts: TempoOptions, originals = currentHttp()) {
    super();
    this.configure(opts);
    this.#request = originals.request;
    this.#asyncRequest = originals.asyncRequest;
  }

  configure(opts: TempoOptions): void {
    this.#sampled = sampler(opts.sampling);
    const p = PROPAGATORS[String(opts.propagator)];
    if (!p) throw `unknown propagator: ${opts.propagator}`;
    this.#propagator = p;
  }

  request(method: unknown, url: unknown, ...args: Args): unknown {
    const traceId = tempoTraceId();
    const instrumented = instrumentArguments(this.#propagator(this.#sampled, traceId), args);
    const metadata = exec.vu.metrics.metadata as Record<string, unknown>;
    try {
      metadata['trace_id'] = traceId;
      return this.#request(method, url, ...instrumented);
    } finally {
      delete metadata['trace_id'];
    }
  }

  async asyncRequest(method: unknown, url: unknown, ...args: Args): Promise<unknown> {
    const traceId = tempoTraceId();
    const instrumented = instrumentArguments(this.#propagator(this.#sampled, traceId), args);
    const metadata = exec.vu.metrics.metadata as Record<string, unknown>;
    let promise: unknown;
    try {
      metadata['trace_id'] = traceId;
      promise = this.#asyncRequest(method, url, ...instrumented);
    } finally {
      delete metadata['trace_id'];
    }
    return await promise;
  }
}

// ---------- pyroscope ----------

type HeaderGenerator = (url: unknown, ...args: Args) => Headers;

/** The pyroscope library's default headers: k6's test run, scenario and request name as baggage. */
function pyroscopeBaggage(url: unknown, _body?: unknown, params?: { tags?: { name?: unknown } } | null): Headers {
  const env = (globalThis as { __ENV?: Record<string, string> }).__ENV ?? {};
  const name = params?.tags?.name ? params.tags.name : url;
  return {
    baggage: `k6.test_run_id=${env['K6_CLOUDRUN_TEST_RUN_ID']}, k6.scenario=${exec.scenario.name}, k6.name=${String(name)}`,
  };
}

/** k6/http's request/asyncRequest when the module is loaded (pyroscope 1.0.1 and tempo 1.0.0 keep these). */
export const httpAtLoad = currentHttp();

/** The pyroscope library's Client: headers from `generateHeaders(url, ...args)` (default: the baggage above). */
export class PyroscopeClient extends InstrumentedClient {
  generateHeaders: HeaderGenerator;
  constructor(generateHeaders?: HeaderGenerator | null) {
    super();
    this.generateHeaders = generateHeaders ?? (pyroscopeBaggage as HeaderGenerator);
  }
  request(method: unknown, url: unknown, ...args: Args): unknown {
    return httpAtLoad.request(method, url, ...instrumentArguments(this.generateHeaders(url, ...args), args));
  }
  /** As the library: awaits the request and resolves to undefined (it does not return the response). */
  async asyncRequest(method: unknown, url: unknown, ...args: Args): Promise<void> {
    await httpAtLoad.asyncRequest(method, url, ...instrumentArguments(this.generateHeaders(url, ...args), args));
  }
}
