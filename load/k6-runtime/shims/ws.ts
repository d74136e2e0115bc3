import { receiveMessageOnPort } from 'node:worker_threads';
import type { WsCommand, WsEvent } from '../protocol.ts';
import { canonicalHeader, cookieJar, CookieJar } from './http.ts';
import { stringTags } from './k6.ts';
import { baseTags, emit, flushSamples, inInit, Unsupported, vu } from './state.ts';

/*
 * k6/ws (k6 v2.2.0 internal/js/modules/k6/ws/ws.go): `connect(url, [params], fn)` blocks the iteration while
 * the socket is open. The main thread holds the socket (ws-main.ts); this VU runs ws.go's control loop: it
 * calls fn(socket), fires `open`, then handles socket events and the socket's own timers one at a time until
 * the socket is closed, and returns the handshake response. Metrics as ws.go pushes them: ws_sessions and
 * ws_connecting at the dial (also when it fails), ws_msgs_sent per send, ws_msgs_received per message,
 * ws_ping per pong answering one of our pings, ws_session_duration when connect returns; tags: the
 * iteration's, `url`, and from the handshake response `status` and `subproto`.
 */

const VERSION = '2.2.0';
const GOING_AWAY = 1001;

interface WsParams {
  headers?: Record<string, unknown> | null;
  tags?: Record<string, unknown> | null;
  jar?: CookieJar | null;
  compression?: unknown;
}

/** What connect returns (ws.go HTTPResponse): status 101 when the socket opened. */
export interface WsResponse {
  url: string;
  status: number;
  headers: Record<string, string>;
  body: string;
  error: string;
}

type Handler = (...args: unknown[]) => unknown;

/** A Go error as k6 hands it to `error` handlers: `e.error()` is its text. */
function goError(message: string): { error(): string; toString(): string } {
  return { error: () => message, toString: () => message };
}

let nextId = 1;

function post(cmd: WsCommand): void {
  vu.wsPort?.postMessage(cmd);
}

/** The next event of socket `id`, waiting at most until `deadline` (performance.now() ms); undefined on timeout. */
function nextEvent(id: number, deadline: number): WsEvent | undefined {
  const port = vu.wsPort;
  const flag = vu.wsFlag;
  if (!port || !flag) throw new Error('k6 runtime: no WebSocket channel');
  for (;;) {
    const seen = Atomics.load(flag, 0);
    const msg = receiveMessageOnPort(port);
    if (msg) {
      const e = msg.message as WsEvent;
      if (e.id === id) return e;
      continue; // a late event of an earlier socket
    }
    const wait = deadline - performance.now();
    if (wait <= 0) return undefined;
    flushSamples();
    Atomics.wait(flag, 0, seen, Number.isFinite(wait) ? wait : undefined);
  }
}

function headerMap(pairs: [string, string][]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of pairs) {
    const key = canonicalHeader(k);
    out[key] = out[key] === undefined ? v : `${out[key]}, ${v}`;
  }
  return out;
}

class Socket {
  private readonly handlers = new Map<string, Handler[]>();
  private readonly timers: { at: number; fn: Handler; every?: number }[] = [];
  private readonly pingsSent = new Map<string, number>();
  private pingCounter = 0;
  done = false;

  constructor(
    private readonly id: number,
    private readonly tags: Record<string, string>,
  ) {}

  on(event: string, handler: unknown): void {
    if (typeof handler === 'function') this.handlers.set(event, [...(this.handlers.get(event) ?? []), handler as Handler]);
  }

  /** Call the handlers of an event; an exception ends connect (ws.go handleEvent: common.Throw). */
  fire(event: string, ...args: unknown[]): void {
    for (const h of this.handlers.get(event) ?? []) h(...args);
  }

  send(message: unknown): void {
    if (this.done) this.fire('error', goError('websocket: close sent'));
    else post({ op: 'send', id: this.id, data: String(message) });
    emit('ws_msgs_sent', 'counter', 1, this.tags);
  }

  sendBinary(message: unknown): void {
    if (message === undefined || message === null) {
      throw new Error(
        message === undefined ? 'missing argument, expected ArrayBuffer' : 'expected ArrayBuffer as argument, received: null',
      );
    }
    if (!(message instanceof ArrayBuffer)) {
      const name = (message as { constructor?: { name?: string } }).constructor?.name ?? typeof message;
      throw new Error(`expected ArrayBuffer as argument, received: ${name}`);
    }
    if (this.done) this.fire('error', goError('websocket: close sent'));
    else post({ op: 'send', id: this.id, data: new Uint8Array(message.slice(0)) });
    emit('ws_msgs_sent', 'counter', 1, this.tags);
  }

  ping(): void {
    if (this.done) {
      this.fire('error', goError('websocket: close sent'));
      return;
    }
    const pingId = String(this.pingCounter++);
    this.pingsSent.set(pingId, performance.now());
    post({ op: 'ping', id: this.id, data: pingId });
  }

  setTimeout(fn: unknown, ms: unknown): void {
    this.schedule(fn, Number(ms), 'setTimeout', false);
  }

  setInterval(fn: unknown, ms: unknown): void {
    this.schedule(fn, Number(ms), 'setInterval', true);
  }

  private schedule(fn: unknown, ms: number, what: string, repeat: boolean): void {
    if (!(ms > 0)) throw new Error(`${what} requires a >0 timeout parameter, received ${ms.toFixed(2)}`);
    if (typeof fn !== 'function') throw new TypeError(`${what}: the first argument is not a function`);
    this.timers.push({ at: performance.now() + ms, fn: fn as Handler, ...(repeat ? { every: ms } : {}) });
  }

  close(code?: unknown): void {
    this.closeConnection(code === undefined ? GOING_AWAY : Math.trunc(Number(code)));
  }

  /** ws.go closeConnection: once; the close frame goes out, then the `close` handlers run. */
  closeConnection(code: number): void {
    if (this.done) return;
    this.done = true;
    post({ op: 'close', id: this.id, code });
    this.fire('close', code);
  }

  /** ws.go's control loop: socket events and the socket's timers, one at a time, until the socket is closed. */
  loop(): void {
    while (!this.done) {
      this.timers.sort((a, b) => a.at - b.at);
      const timer = this.timers[0];
      const e = nextEvent(this.id, timer ? timer.at : Infinity);
      if (e === undefined) {
        if (!timer) continue;
        if (timer.every === undefined) this.timers.shift();
        else timer.at += timer.every;
        try {
          timer.fn();
        } catch (err) {
          this.closeConnection(GOING_AWAY);
          throw err;
        }
        continue;
      }
      this.dispatch(e);
    }
  }

  private dispatch(e: WsEvent): void {
    flushSamples();
    if (e.ev === 'message') {
      emit('ws_msgs_received', 'counter', 1, this.tags);
      if (typeof e.data === 'string') this.fire('message', e.data);
      else this.fire('binaryMessage', e.data.buffer.slice(e.data.byteOffset, e.data.byteOffset + e.data.byteLength));
    } else if (e.ev === 'ping') this.fire('ping');
    else if (e.ev === 'pong') {
      const sentAt = this.pingsSent.get(e.data);
      if (sentAt !== undefined) emit('ws_ping', 'trend', performance.now() - sentAt, this.tags, true);
      this.fire('pong');
    } else if (e.ev === 'error') this.fire('error', goError(e.message));
    else if (e.ev === 'close') this.closeConnection(e.code);
  }
}

function parseArgs(args: unknown[]): { params: WsParams; fn: (s: Socket) => unknown } {
  let params: unknown;
  let fn: unknown;
  if (args.length === 2) [params, fn] = args;
  else if (args.length === 1) [fn] = args;
  else throw new Error('invalid number of arguments to ws.connect');
  if (typeof fn !== 'function') throw new Error('last argument to ws.connect must be a function');
  return { params: (params ?? {}) as WsParams, fn: fn as (s: Socket) => unknown };
}

/** gorilla's dialer reads and stores cookies for the http(s) form of the URL. */
const httpForm = (url: string): string => url.replace(/^ws(s?):/i, 'http$1:');

export function connect(url: string, ...args: unknown[]): WsResponse {
  if (inInit()) throw new Error('using websockets in the init context is not supported');
  const { params, fn } = parseArgs(args);
  if (params.compression !== undefined && String(params.compression).trim() !== '')
    throw new Unsupported('ws.connect params.compression', 'k6/ws, connect');
  const ua = vu.options['userAgent'];
  const headers = new Map<string, [string, string]>([
    ['user-agent', ['User-Agent', typeof ua === 'string' ? ua : `k6/${VERSION} (https://k6.io/)`]],
  ]);
  for (const [k, v] of Object.entries(params.headers ?? {})) headers.set(canonicalHeader(k).toLowerCase(), [canonicalHeader(k), String(v)]);
  const jar = params.jar ?? cookieJar();
  let cookies: string[] = [];
  try {
    cookies = jar.cookies(httpForm(url)).map((c) => `${c.key}=${c.value}`);
  } catch {
    // not a URL: the main thread reports it
  }
  if (cookies.length) headers.set('cookie', ['Cookie', cookies.join('; ')]);
  const tags: Record<string, string> = { ...baseTags(), ...stringTags(params.tags), url };

  const id = nextId++;
  flushSamples();
  const t0 = performance.now();
  post({ op: 'open', id, url, headers: [...headers.values()] });
  const first = nextEvent(id, Infinity) as Extract<WsEvent, { ev: 'open' | 'failed' }>;
  const response = first.ev === 'open' ? first : first.response;
  if (response) {
    tags['status'] = String(response.status);
    tags['subproto'] = response.headers.find(([k]) => k.toLowerCase() === 'sec-websocket-protocol')?.[1] ?? '';
    for (const [k, v] of response.headers) {
      if (k.toLowerCase() === 'set-cookie') jar.setCookie(v, httpForm(url));
    }
  }
  emit('ws_sessions', 'counter', 1, tags);
  emit('ws_connecting', 'trend', first.connectingMs, tags, true);
  const sessionEnd = (): void => emit('ws_session_duration', 'trend', performance.now() - t0, tags, true);

  if (first.ev === 'failed') {
    sessionEnd();
    if (vu.options['throw'] === true) throw new Error(first.error);
    if (!first.response) return { url: '', status: 0, headers: {}, body: '', error: first.error };
    return { url: '', status: first.response.status, headers: headerMap(first.response.headers), body: first.response.body, error: '' };
  }
  const socket = new Socket(id, tags);
  try {
    try {
      fn(socket);
    } catch (err) {
      socket.closeConnection(GOING_AWAY);
      throw err;
    }
    socket.fire('open');
    socket.loop();
  } catch (err) {
    // ws.go: the deferred socket.Close() still closes it (and runs the close handlers) when an exception ends connect
    try {
      socket.closeConnection(GOING_AWAY);
    } catch {
      // the first exception is the one connect throws
    }
    throw err;
  } finally {
    sessionEnd();
  }
  return { url, status: first.status, headers: headerMap(first.headers), body: '', error: '' };
}

export default { connect };
