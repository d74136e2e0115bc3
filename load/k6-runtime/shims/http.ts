import type { Cookie, CookieJar as ToughJar } from 'tough-cookie';
import { parseDurationMs } from '../../duration.ts';
import { goParseUrl } from '../go-url.ts';
import { failedReply, type HttpReply, type HttpTimings } from '../protocol.ts';
import { digestAuthorization, parseChallenge } from './digest-auth.ts';
import { gjsonGet } from './gjson.ts';
import { parseHTML, type Selection } from './html.ts';
import { stringTags } from './k6.ts';
import { baseTags, emit, httpSync, inInit, Unsupported, vu } from './state.ts';

/*
 * k6/http on a synchronous channel to the main thread (which sends the bytes with undici). Semantics from
 * k6 v2.2.0: js/modules/k6/http/request.go (params, bodies), lib/netext/httpext/request.go (redirects,
 * cookies, Request Failed), js/modules/k6/http/response.go (json/html), response_callback.go.
 */

const VERSION = '2.2.0';

// ---------- cookies (tough-cookie) ----------

type Tough = typeof import('tough-cookie');
let toughMod: Tough | undefined;
function tough(): Tough {
  toughMod ??= require('tough-cookie') as Tough;
  return toughMod;
}

interface CookieOptions {
  domain?: string;
  path?: string;
  expires?: string;
  max_age?: number;
  secure?: boolean;
  http_only?: boolean;
}

/**
 * k6's http.CookieJar (js/modules/k6/http/cookiejar.go). The tough-cookie jar behind it is made at the first
 * cookie stored: a jar nothing was stored in has no cookie for any URL, so most runs never load tough-cookie
 * (and its public-suffix list) in their VUs.
 */
export class CookieJar {
  private toughJar: ToughJar | undefined;
  private writable(): ToughJar {
    if (!this.toughJar) {
      const t = tough();
      this.toughJar = new t.CookieJar(new t.MemoryCookieStore(), {
        looseMode: true,
        rejectPublicSuffixes: false,
        allowSpecialUseDomain: true,
      });
    }
    return this.toughJar;
  }
  /** The cookies to send to `url` (tough-cookie's getCookiesSync). */
  cookies(url: string): Cookie[] {
    return this.toughJar ? this.toughJar.getCookiesSync(url) : [];
  }
  /** Stores a Set-Cookie header value received from `url`; an invalid one is ignored, as k6 does. */
  setCookie(header: string, url: string): void {
    this.writable().setCookieSync(header, url, { ignoreError: true });
  }
  cookiesForURL(url: string): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const c of this.cookies(urlOf(url))) (out[c.key] ??= []).push(c.value);
    return out;
  }
  set(url: string, name: string, value: string, opts: CookieOptions = {}): void {
    const parts = [`${name}=${value}`];
    if (opts.domain) parts.push(`Domain=${opts.domain}`);
    if (opts.path) parts.push(`Path=${opts.path}`);
    if (opts.expires) parts.push(`Expires=${opts.expires}`);
    if (opts.max_age !== undefined) parts.push(`Max-Age=${opts.max_age}`);
    if (opts.secure) parts.push('Secure');
    if (opts.http_only) parts.push('HttpOnly');
    this.setCookie(parts.join('; '), urlOf(url));
  }
  clear(url: string): void {
    this.remove(url, () => true);
  }
  delete(url: string, name: string): void {
    this.remove(url, (key) => key === name);
  }
  private remove(url: string, which: (key: string) => boolean): void {
    const u = new URL(urlOf(url));
    const jar = this.toughJar;
    if (!jar) return;
    for (const c of jar.getCookiesSync(u.href))
      if (which(c.key)) jar.store.removeCookie(c.domain ?? u.hostname, c.path ?? '/', c.key, () => undefined);
  }
}

/** The VU's jar, new for each iteration unless options.noCookiesReset (internal/js/runner.go runFn). */
let vuJar: CookieJar | undefined;
export function resetVuJar(): void {
  if (vu.options['noCookiesReset'] !== true || vuJar === undefined) vuJar = undefined;
}
export function cookieJar(): CookieJar {
  vuJar ??= new CookieJar();
  return vuJar;
}

// ---------- URLs ----------

interface TaggedUrl {
  url: string;
  name: string;
  toString(): string;
}

/** http.url`...${x}` : the URL with a `name` tag of the template with `${}` for each value (k6 docs: URL grouping). */
export function url(strings: TemplateStringsArray, ...values: unknown[]): TaggedUrl {
  let u = strings[0] ?? '';
  let name = strings[0] ?? '';
  values.forEach((v, i) => {
    u += String(v) + (strings[i + 1] ?? '');
    name += '${}' + (strings[i + 1] ?? '');
  });
  return { url: u, name, toString: () => u };
}

function urlOf(u: unknown): string {
  if (u !== null && typeof u === 'object' && typeof (u as TaggedUrl).url === 'string') return (u as TaggedUrl).url;
  return String(u);
}

// ---------- params ----------

interface ExpectedStatuses {
  k6ExpectedStatuses: (number | { min: number; max: number })[];
}

interface Params {
  headers?: Record<string, unknown>;
  tags?: Record<string, unknown>;
  timeout?: string | number;
  cookies?: Record<string, string | { value: string; replace?: boolean }>;
  jar?: CookieJar | null;
  redirects?: number;
  responseType?: string;
  responseCallback?: ExpectedStatuses | null;
  auth?: string;
  compression?: string;
}

/** http.expectedStatuses(200, {min: 300, max: 399}) (js/modules/k6/http/response_callback.go). */
export function expectedStatuses(...args: unknown[]): ExpectedStatuses {
  const list: ExpectedStatuses['k6ExpectedStatuses'] = [];
  for (const a of args) {
    if (typeof a === 'number' && Number.isInteger(a)) list.push(a);
    else if (
      a !== null &&
      typeof a === 'object' &&
      Number.isInteger((a as { min?: unknown }).min) &&
      Number.isInteger((a as { max?: unknown }).max)
    ) {
      list.push({ min: (a as { min: number }).min, max: (a as { max: number }).max });
    } else throw new Error(`argument ${JSON.stringify(a)} is neither an integer nor an object like {min:100, max:329}`);
  }
  return { k6ExpectedStatuses: list };
}

const DEFAULT_CALLBACK = expectedStatuses({ min: 200, max: 399 });
let globalCallback: ExpectedStatuses | null = DEFAULT_CALLBACK;

export function setResponseCallback(cb: ExpectedStatuses | null): void {
  if (cb !== null && !Array.isArray(cb?.k6ExpectedStatuses)) {
    throw new Unsupported('a responseCallback other than http.expectedStatuses()', 'setResponseCallback');
  }
  globalCallback = cb;
}

function isExpected(cb: ExpectedStatuses, status: number): boolean {
  return cb.k6ExpectedStatuses.some((e) => (typeof e === 'number' ? e === status : status >= e.min && status <= e.max));
}

export function file(): never {
  throw new Unsupported('http.file() (multipart/form-data bodies)', 'http.file, multipart requests');
}

// ---------- bodies ----------

/** Go's url.QueryEscape: space as '+', everything but A-Z a-z 0-9 - _ . ~ percent-encoded. */
function queryEscape(s: string): string {
  return Array.from(new TextEncoder().encode(s), (b) => {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) return c;
    if (c === ' ') return '+';
    return `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }).join('');
}

/** k6 form-encodes an object body: url.Values, sorted by key, array values repeated (request.go handleObjectBody). */
export function formEncode(data: Record<string, unknown>): string {
  const pairs: string[] = [];
  for (const k of Object.keys(data).sort()) {
    const v = data[k];
    const vals = Array.isArray(v) ? v : [v];
    for (const x of vals) pairs.push(`${queryEscape(k)}=${queryEscape(formatFormVal(x))}`);
  }
  return pairs.join('&');
}

function formatFormVal(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (typeof v === 'object') throw new Unsupported('a nested object in a form body', 'http.post, form bodies');
  return String(v);
}

function encodeBody(body: unknown, headers: [string, string][]): string | Uint8Array | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  if (typeof body === 'object') {
    for (const v of Object.values(body as Record<string, unknown>)) {
      if (v !== null && typeof v === 'object' && 'k6File' in (v as object)) file();
    }
    if (!headers.some(([h]) => h.toLowerCase() === 'content-type')) headers.push(['Content-Type', 'application/x-www-form-urlencoded']);
    return formEncode(body as Record<string, unknown>);
  }
  return String(body);
}

// ---------- responses ----------

/** Go's http.CanonicalHeaderKey: k6 gives response header names as Go does (`Content-Type`). */
export function canonicalHeader(name: string): string {
  if (!/^[A-Za-z0-9!#$%&'*+\-.^_`|~]+$/.test(name)) return name;
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, a: string, b: string) => a + b.toUpperCase());
}

interface ResponseCookie {
  name: string;
  value: string;
  domain: string;
  path: string;
  http_only: boolean;
  secure: boolean;
  max_age: number;
  expires: number;
}

function responseCookies(headers: [string, string][]): Record<string, ResponseCookie[]> {
  const out: Record<string, ResponseCookie[]> = {};
  for (const [k, v] of headers) {
    if (k.toLowerCase() !== 'set-cookie') continue;
    const c = tough().Cookie.parse(v, { loose: true });
    if (!c) continue;
    const expires = c.expires instanceof Date ? c.expires.getTime() : 0;
    const maxAge = typeof c.maxAge === 'number' ? c.maxAge : 0;
    (out[c.key] ??= []).push({
      name: c.key,
      value: c.value,
      domain: c.domain ?? '',
      path: c.path ?? '',
      http_only: !!c.httpOnly,
      secure: !!c.secure,
      max_age: maxAge,
      expires,
    });
  }
  return out;
}

export class Response {
  remote_ip: string;
  remote_port: number;
  url: string;
  status: number;
  status_text: string;
  proto: string;
  headers: Record<string, string>;
  cookies: Record<string, ResponseCookie[]>;
  body: string | null;
  timings: HttpTimings & { looking_up: number };
  tls_version = '';
  tls_cipher_suite = '';
  ocsp = { produced_at: 0, this_update: 0, next_update: 0, revocation_reason: '', revoked_at: 0, status: '' };
  error: string;
  error_code: number;
  request: {
    method: string;
    url: string;
    headers: Record<string, string[]>;
    body: string;
    cookies: Record<string, { name: string; value: string; replace: boolean }[]>;
  };
  private cachedJson: unknown;

  constructor(reply: HttpReply, finalUrl: string, request: Response['request'], discard: boolean) {
    this.remote_ip = reply.remoteIp;
    this.remote_port = reply.remotePort;
    this.url = finalUrl;
    this.status = reply.status;
    this.status_text = reply.statusText;
    this.proto = reply.status === 0 ? '' : 'HTTP/1.1';
    const headers: Record<string, string> = {};
    for (const [k, v] of reply.headers) {
      const key = canonicalHeader(k);
      headers[key] = headers[key] === undefined ? v : `${headers[key]}, ${v}`;
    }
    this.headers = headers;
    this.cookies = reply.status === 0 ? {} : responseCookies(reply.headers);
    this.body = reply.error !== undefined || discard ? null : reply.body;
    this.timings = { ...reply.timings, looking_up: 0 };
    this.error = reply.error ?? '';
    this.error_code = reply.errorCode ?? 0;
    this.request = request;
  }

  json(selector?: string): unknown {
    if (this.body === null)
      throw new Error(
        "the body is null so we can't transform it to JSON - this likely was because of a request error getting the response",
      );
    if (selector !== undefined) {
      let doc: unknown;
      try {
        doc = JSON.parse(this.body);
      } catch {
        return undefined;
      }
      return gjsonGet(doc, selector);
    }
    if (this.cachedJson === undefined) {
      try {
        this.cachedJson = JSON.parse(this.body);
      } catch (err) {
        throw new Error(`cannot parse json due to an error at line 1: ${(err as Error).message}`, { cause: err });
      }
    }
    return this.cachedJson;
  }

  html(selector?: string): Selection {
    if (this.body === null)
      throw new Error(
        "the body is null so we can't transform it to HTML - this likely was because of a request error getting the response",
      );
    const sel = parseHTML(this.body);
    return selector === undefined ? sel : sel.find(selector);
  }

  submitForm(): never {
    throw new Unsupported('Response.submitForm()', 'Response.submitForm');
  }

  clickLink(): never {
    throw new Unsupported('Response.clickLink()', 'Response.clickLink');
  }
}

// ---------- request ----------

const KNOWN_PARAMS = new Set([
  'headers',
  'tags',
  'timeout',
  'cookies',
  'jar',
  'redirects',
  'responseType',
  'responseCallback',
  'auth',
  'compression',
]);

function redirectTarget(reply: HttpReply, current: string): string | undefined {
  if (![301, 302, 303, 307, 308].includes(reply.status)) return undefined;
  const loc = reply.headers.find(([k]) => k.toLowerCase() === 'location')?.[1];
  if (loc === undefined) return undefined;
  return new URL(loc, current).href;
}

function cookieHeader(
  jar: CookieJar | null,
  target: string,
  reqCookies: Record<string, { value: string; replace: boolean }>,
): string | undefined {
  const parts: string[] = [];
  for (const [k, c] of Object.entries(reqCookies)) parts.push(`${k}=${c.value}`);
  if (jar) {
    for (const c of jar.cookies(target)) {
      if (!reqCookies[c.key]?.replace) parts.push(`${c.key}=${c.value}`);
    }
  }
  return parts.length ? parts.join('; ') : undefined;
}

export function request(method: unknown, target: unknown, body?: unknown, params?: Params | null): Response {
  if (inInit()) throw new Error('Making http requests in the init context is not supported');
  // k6 parses the URL first (request.go parseRequest, Go's url.Parse): a URL it cannot parse is no request at
  // all, no metrics, a Response with the error or, with options.throw, the error thrown (handleParseRequestError)
  const parsed = goParseUrl(urlOf(target));
  if ('error' in parsed) return requestNotMade(failedReply(`invalid URL: ${parsed.error}`, 1020), urlOf(target));
  const p: Params = params ?? {};
  for (const key of Object.keys(p)) if (!KNOWN_PARAMS.has(key)) console.warn(`unknown http params key '${key}' ignored (as k6 does)`);
  if (p.compression !== undefined) throw new Unsupported(`params.compression '${p.compression}'`, 'Params, compression');
  if (p.responseType !== undefined && p.responseType !== 'text' && p.responseType !== 'none')
    throw new Unsupported(`params.responseType '${p.responseType}'`, 'Params, responseType');
  if (p.auth !== undefined && p.auth !== 'basic' && p.auth !== 'digest')
    throw new Unsupported(`params.auth '${p.auth}'`, 'Params, auth (ntlm)');
  const upper = String(method).toUpperCase();
  let current = urlOf(target);
  const nameTag =
    p.tags?.['name'] !== undefined
      ? String(p.tags['name'])
      : typeof target === 'object' && target !== null && 'name' in target
        ? String((target as TaggedUrl).name)
        : undefined;

  const headers: [string, string][] = Object.entries(p.headers ?? {}).map(([k, v]) => [k, String(v)]);
  const encoded = encodeBody(body, headers);
  const ua = vu.options['userAgent'];
  if (!headers.some(([h]) => h.toLowerCase() === 'user-agent') && ua !== '')
    headers.push(['User-Agent', typeof ua === 'string' ? ua : `k6/${VERSION} (https://k6.io/)`]);
  let digest: { username: string; password: string } | undefined;
  try {
    const u = new URL(current);
    if (u.username || u.password) {
      const username = decodeURIComponent(u.username);
      const password = decodeURIComponent(u.password);
      // digest: the credentials leave the URL and answer the server's 401 challenge (k6 digest_transport.go)
      if (p.auth === 'digest') digest = { username, password };
      else headers.push(['Authorization', `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`]);
      u.username = '';
      u.password = '';
      current = u.href;
    }
  } catch {
    // Go parsed it (above) but WHATWG does not: the main thread fails the request (http-main.ts)
  }
  const timeoutMs = p.timeout === undefined ? 60_000 : typeof p.timeout === 'number' ? p.timeout : (parseDurationMs(p.timeout) ?? 60_000);
  const jar = p.jar === null ? null : (p.jar ?? cookieJar());
  const reqCookies: Record<string, { value: string; replace: boolean }> = {};
  for (const [k, v] of Object.entries(p.cookies ?? {})) {
    reqCookies[k] =
      typeof v === 'object' && v !== null ? { value: String(v.value), replace: !!v.replace } : { value: String(v), replace: false };
  }
  const maxRedirects = p.redirects ?? (typeof vu.options['maxRedirects'] === 'number' ? (vu.options['maxRedirects'] as number) : 10);
  const callback = p.responseCallback === undefined ? globalCallback : p.responseCallback;
  // k6 request.go: with digest the very first response is expected to be a 401 (the callback is swapped once)
  let firstCallback: ExpectedStatuses | null | undefined = digest && callback !== null ? { k6ExpectedStatuses: [401] } : undefined;
  const discard = p.responseType === 'none' || (p.responseType === undefined && vu.options['discardResponseBodies'] === true);
  const userTags = { ...baseTags(), ...stringTags(p.tags) };

  let m = upper;
  let sendBody = encoded;
  let hopHeaders = headers;
  let reply: HttpReply;
  let firstRequest: Response['request'] | undefined;
  for (let hop = 0; ; hop++) {
    const cookie = cookieHeader(jar, current, reqCookies);
    const all: [string, string][] = cookie ? [...hopHeaders, ['Cookie', cookie]] : hopHeaders;
    const name = nameTag ?? current;
    const hopTags = { ...userTags, name, url: current, method: m };
    const send = (extra: [string, string][]) =>
      httpSync({
        method: m,
        url: current,
        headers: [...all, ...extra],
        timeoutMs,
        tags: hopTags,
        discardBody: discard,
        ...(sendBody !== undefined ? { body: sendBody } : {}),
      });
    reply = send([]);
    if (digest && reply.error === undefined && reply.status === 401) {
      // the 401 is a request of its own (metrics, callback), then the same request again with the answer
      emitRequestMetrics(reply, hopTags, firstCallback ?? callback);
      firstCallback = undefined;
      const challenge = reply.headers.find(([k]) => k.toLowerCase() === 'www-authenticate')?.[1] ?? '';
      const { items } = parseChallenge(challenge);
      const u = new URL(current);
      const entity = reply.body;
      reply = send([['Authorization', digestAuthorization(items, { method: m, uri: `${u.pathname}${u.search}`, entity, ...digest })]]);
    }
    firstRequest ??= {
      method: m,
      url: current,
      headers: Object.fromEntries(all.map(([k, v]) => [k, [v]])),
      body: sendBody === undefined ? '' : typeof sendBody === 'string' ? sendBody : Buffer.from(sendBody).toString(),
      cookies: Object.fromEntries(Object.entries(reqCookies).map(([k, c]) => [k, [{ name: k, value: c.value, replace: c.replace }]])),
    };
    emitRequestMetrics(reply, hopTags, firstCallback ?? callback);
    firstCallback = undefined;
    if (reply.error !== undefined) break;
    if (jar) for (const [k, v] of reply.headers) if (k.toLowerCase() === 'set-cookie') jar.setCookie(v, current);
    const next = redirectTarget(reply, current);
    if (next === undefined) break;
    if (hop + 1 > maxRedirects) {
      // k6 warns only when neither params.redirects nor options.maxRedirects was set (preq.Redirects.Valid)
      if (p.redirects === undefined && typeof vu.options['maxRedirects'] !== 'number')
        console.warn(
          `Stopped after ${hop + 1} redirects and returned the redirection; pass { redirects: n } in request params or set global maxRedirects to silence this`,
        );
      break;
    }
    if ([301, 302, 303].includes(reply.status) && m !== 'GET' && m !== 'HEAD') {
      m = 'GET';
      sendBody = undefined;
      hopHeaders = hopHeaders.filter(([k]) => !/^content-(type|length)$/i.test(k));
    }
    current = next;
  }
  if (reply.error !== undefined) failed(reply.error);
  return new Response(reply, current, firstRequest, discard);
}

/** k6's handling of a request error: thrown with options.throw, else logged and returned in the Response. */
function failed(error: string): void {
  if (vu.options['throw'] === true) throw new Error(error);
  console.warn(`Request Failed error="${error}"`);
}

/** The Response of a request that was never made (k6: httpext.NewResponse with the error). */
function requestNotMade(reply: HttpReply, url: string): Response {
  failed(reply.error ?? '');
  return new Response(reply, url, { method: '', url: '', headers: {}, body: '', cookies: {} }, true);
}

function emitRequestMetrics(reply: HttpReply, tags: Record<string, string>, callback: ExpectedStatuses | null): void {
  const t: Record<string, string> = { ...tags, status: String(reply.status), proto: reply.status === 0 ? '' : 'HTTP/1.1' };
  if (reply.errorCode) {
    t['error_code'] = String(reply.errorCode);
    t['error'] = reply.error ?? '';
  }
  let failed: boolean | undefined;
  if (callback !== null) {
    failed = !isExpected(callback, reply.status);
    t['expected_response'] = String(!failed);
  }
  emit('http_reqs', 'counter', 1, t);
  const tm = reply.timings;
  emit('http_req_duration', 'trend', tm.duration, t, true);
  emit('http_req_blocked', 'trend', tm.blocked, t, true);
  emit('http_req_connecting', 'trend', tm.connecting, t, true);
  emit('http_req_tls_handshaking', 'trend', tm.tls_handshaking, t, true);
  emit('http_req_sending', 'trend', tm.sending, t, true);
  emit('http_req_waiting', 'trend', tm.waiting, t, true);
  emit('http_req_receiving', 'trend', tm.receiving, t, true);
  if (failed !== undefined) emit('http_req_failed', 'rate', failed ? 1 : 0, t);
  emit('data_sent', 'counter', reply.sentBytes, t);
  emit('data_received', 'counter', reply.bodyBytes, t);
}

export const get = (u: unknown, params?: Params): Response => request('GET', u, null, params);
export const head = (u: unknown, params?: Params): Response => request('HEAD', u, null, params);
export const del = (u: unknown, body?: unknown, params?: Params): Response => request('DELETE', u, body, params);
export const post = (u: unknown, body?: unknown, params?: Params): Response => request('POST', u, body, params);
export const put = (u: unknown, body?: unknown, params?: Params): Response => request('PUT', u, body, params);
export const patch = (u: unknown, body?: unknown, params?: Params): Response => request('PATCH', u, body, params);
export const options = (u: unknown, body?: unknown, params?: Params): Response => request('OPTIONS', u, body, params);
export const asyncRequest = (m: unknown, u: unknown, body?: unknown, params?: Params): Promise<Response> => {
  try {
    return Promise.resolve(request(m, u, body, params));
  } catch (err) {
    return Promise.reject(err);
  }
};

type BatchItem =
  string | TaggedUrl | [string, unknown, unknown?, Params?] | { method: string; url: unknown; body?: unknown; params?: Params };

/** k6 sends a batch in parallel; here each request runs in turn (same requests and results, less concurrency). */
export function batch(requests: BatchItem[] | Record<string, BatchItem>): Response[] | Record<string, Response> {
  const one = (r: BatchItem): Response => {
    if (typeof r === 'string' || (typeof r === 'object' && r !== null && !Array.isArray(r) && !('method' in r))) return get(r);
    if (Array.isArray(r)) return request(r[0], r[1], r[2], r[3]);
    return request(r.method, r.url, r.body, r.params);
  };
  if (Array.isArray(requests)) return requests.map(one);
  return Object.fromEntries(Object.entries(requests).map(([k, r]) => [k, one(r)]));
}

export const TLS_1_0 = 'tls1.0';
export const TLS_1_1 = 'tls1.1';
export const TLS_1_2 = 'tls1.2';
export const TLS_1_3 = 'tls1.3';
export const OCSP_STATUS_GOOD = 'good';
export const OCSP_STATUS_REVOKED = 'revoked';
export const OCSP_STATUS_UNKNOWN = 'unknown';

export default {
  request,
  get,
  head,
  del,
  post,
  put,
  patch,
  options,
  batch,
  asyncRequest,
  url,
  file,
  cookieJar,
  CookieJar,
  expectedStatuses,
  setResponseCallback,
  TLS_1_0,
  TLS_1_1,
  TLS_1_2,
  TLS_1_3,
  OCSP_STATUS_GOOD,
  OCSP_STATUS_REVOKED,
  OCSP_STATUS_UNKNOWN,
};
