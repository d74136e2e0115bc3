import type { Dispatcher } from 'undici';
import type { RequestRecord } from '../result.ts';
import { classifyError, errorLine } from './errors.ts';
import { BodyCollector, ERROR_BODY_LIMIT, firstSseData, hasSseData, responseIdFrom } from './response.ts';
import type { RenderedRequest } from './template.ts';

export interface ExchangeOptions {
  timeoutMs: number;
  /** Aborts the request as `aborted` (run cancelled or hard bound reached). */
  runSignal: AbortSignal;
  captureHeaders?: readonly string[];
  basePath: string;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Send one request and turn whatever happens into a record; never throws. */
export async function exchange(
  dispatcher: Dispatcher,
  req: RenderedRequest,
  index: number,
  opts: ExchangeOptions,
): Promise<RequestRecord> {
  const startMs = Date.now();
  const t0 = performance.now();
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, opts.timeoutMs);
  const onRunAbort = (): void => controller.abort();
  opts.runSignal.addEventListener('abort', onRunAbort, { once: true });
  const body = new BodyCollector();
  let status: number | undefined;
  let ttftMs: number | undefined;
  try {
    const res = await dispatcher.request({
      method: req.method as Dispatcher.HttpMethod,
      path: opts.basePath + req.path,
      headers: req.headers,
      body: req.body ?? null,
      signal: controller.signal,
    });
    status = res.statusCode;
    const contentType = headerValue(res.headers['content-type']) ?? '';
    const sse = contentType.includes('text/event-stream');
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      body.push(chunk);
      if (ttftMs === undefined && (!sse || hasSseData(body.text()))) ttftMs = performance.now() - t0;
    }
    const record: RequestRecord = { index, startMs, latencyMs: performance.now() - t0, status, bytes: body.bytes };
    if (ttftMs !== undefined) record.ttftMs = ttftMs;
    const text = body.text();
    const id = responseIdFrom(sse ? (firstSseData(text) ?? '') : text);
    if (id !== undefined) record.responseId = id;
    if (status < 200 || status >= 300) record.errorBody = text.slice(0, ERROR_BODY_LIMIT);
    if (opts.captureHeaders && opts.captureHeaders.length > 0) {
      const kept: Record<string, string> = {};
      for (const name of opts.captureHeaders) {
        if (name === 'authorization' || name === 'proxy-authorization') continue;
        const v = headerValue(res.headers[name]);
        if (v !== undefined) kept[name] = v;
      }
      record.headers = kept;
    }
    return record;
  } catch (err) {
    // An error after the status arrived (reset mid-body, timeout mid-stream) still has no complete response.
    const record: RequestRecord = {
      index,
      startMs,
      latencyMs: performance.now() - t0,
      error: classifyError(err, timedOut),
      errorMessage: timedOut ? `no complete response within ${opts.timeoutMs} ms` : errorLine(err),
      bytes: body.bytes,
    };
    if (ttftMs !== undefined) record.ttftMs = ttftMs;
    if (status !== undefined) record.errorMessage = `after status ${status}: ${record.errorMessage ?? ''}`;
    return record;
  } finally {
    clearTimeout(timer);
    opts.runSignal.removeEventListener('abort', onRunAbort);
  }
}
