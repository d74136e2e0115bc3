import type { Dispatcher } from 'undici';
import type { ErrorKind, RequestRecord } from '../result.ts';
import { classifyError, errorLine } from './errors.ts';
import { BodyCollector, ERROR_BODY_LIMIT, firstSseData, hasSseData, responseIdFrom } from './response.ts';
import type { RenderedRequest } from './template.ts';

/** Stops one request in flight; the run keeps a set of these to stop them all. */
export type Stopper = () => void;

export interface ExchangeOptions {
  timeoutMs: number;
  /** Every in-flight request is in here while it runs; calling one records the request as `aborted`. */
  inFlight: Set<Stopper>;
  captureHeaders?: readonly string[];
  basePath: string;
  /**
   * Called when the timeout fires before the request reached a socket (still connecting or queued): the
   * request cannot be aborted through its controller yet, so the engine drops that connection.
   */
  discardConnection?: () => void;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * Send one request and turn whatever happens into a record; never rejects. Uses undici's `dispatch()` handler
 * API (below `request()`): no Readable stream and no AbortSignal per request, which is what keeps the
 * engine close to autocannon's throughput while it records every request.
 */
export function exchange(dispatcher: Dispatcher, req: RenderedRequest, index: number, opts: ExchangeOptions): Promise<RequestRecord> {
  return new Promise<RequestRecord>((resolve) => {
    const startMs = Date.now();
    const t0 = performance.now();
    const body = new BodyCollector();
    let controller: Dispatcher.DispatchController | undefined;
    let status: number | undefined;
    let sse = false;
    let ttftMs: number | undefined;
    let headers: Record<string, string> | undefined;
    let why: ErrorKind | undefined;
    let settled = false;

    const settle = (record: RequestRecord): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.inFlight.delete(stop);
      resolve(record);
    };
    const fail = (err: unknown): void => {
      const kind = why ?? classifyError(err, false);
      let message = why === 'timeout' ? `no complete response within ${opts.timeoutMs} ms` : why === 'aborted' ? 'run stopped' : errorLine(err);
      if (status !== undefined) message = `after status ${status}: ${message}`;
      const record: RequestRecord = { index, startMs, latencyMs: performance.now() - t0, error: kind, errorMessage: message, bytes: body.bytes };
      if (ttftMs !== undefined) record.ttftMs = ttftMs;
      settle(record);
    };
    const cut = (kind: ErrorKind): void => {
      if (settled) return;
      why = kind;
      const err = new Error(kind);
      if (controller) controller.abort(err);
      else {
        // Not on a socket yet: record it now and have the engine drop the connection it waits for.
        fail(err);
        opts.discardConnection?.();
      }
    };
    const stop: Stopper = () => cut('aborted');
    const timer = setTimeout(() => cut('timeout'), opts.timeoutMs);
    opts.inFlight.add(stop);

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (why !== undefined) c.abort(new Error(why));
      },
      onResponseStart(_c, statusCode, responseHeaders) {
        if (statusCode < 200) return; // 1xx informational
        status = statusCode;
        sse = (headerValue(responseHeaders['content-type']) ?? '').includes('text/event-stream');
        if (opts.captureHeaders && opts.captureHeaders.length > 0) {
          headers = {};
          for (const name of opts.captureHeaders) {
            if (name === 'authorization' || name === 'proxy-authorization') continue;
            const v = headerValue(responseHeaders[name]);
            if (v !== undefined) headers[name] = v;
          }
        }
      },
      onResponseData(_c, chunk) {
        body.push(chunk);
        if (ttftMs === undefined && (!sse || hasSseData(body.text()))) ttftMs = performance.now() - t0;
      },
      onResponseEnd() {
        const code = status ?? 0;
        const record: RequestRecord = { index, startMs, latencyMs: performance.now() - t0, status: code, bytes: body.bytes };
        if (ttftMs !== undefined) record.ttftMs = ttftMs;
        const text = body.text();
        const id = responseIdFrom(sse ? (firstSseData(text) ?? '') : text);
        if (id !== undefined) record.responseId = id;
        if (code < 200 || code >= 300) record.errorBody = text.slice(0, ERROR_BODY_LIMIT);
        if (headers) record.headers = headers;
        settle(record);
      },
      onResponseError(_c, err) {
        fail(err);
      },
    };
    try {
      dispatcher.dispatch(
        { method: req.method as Dispatcher.HttpMethod, path: opts.basePath + req.path, headers: req.headers, body: req.body ?? null },
        handler,
      );
    } catch (err) {
      fail(err);
    }
  });
}
