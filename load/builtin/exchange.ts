import type { Dispatcher } from 'undici';
import type { ErrorKind, RequestRecord } from '../result.ts';
import { classifyError, errorLine } from './errors.ts';
import type { InFlight, InFlightEntry } from './inflight.ts';
import {
  BodyCollector,
  ERROR_BODY_LIMIT,
  firstSseData,
  hasSseData,
  leadingJsonId,
  rawHeader,
  responseIdFrom,
  SseErrorScanner,
} from './response.ts';
import type { RenderedRequest } from './template.ts';

export interface ExchangeOptions {
  /** The run's requests in flight: every request is in it while it runs, with its timeout. */
  inFlight: InFlight;
  captureHeaders?: readonly string[];
  basePath: string;
  /**
   * Called when a request is cut before it reached a socket (still connecting or queued): it cannot be
   * aborted through undici yet, so the engine drops that connection.
   */
  discardConnection?: () => void;
}

/** Bytes of the body decoded to look for the id first; the whole kept head only when that fails. */
const ID_HEAD_BYTES = 4096;

/**
 * One request: its undici handler (the `dispatch()` handler API in its raw form: no Readable, no AbortSignal,
 * no parsed header object per request) and its entry in the run's in-flight registry.
 */
class Exchange implements InFlightEntry {
  deadline = 0;
  private readonly startMs = Date.now();
  private readonly t0 = performance.now();
  private readonly body = new BodyCollector();
  private abortRequest: ((err: Error) => void) | undefined;
  private status: number | undefined;
  private sse = false;
  /** Set for 2xx SSE responses: an error event in the stream makes the request a failure. */
  private sseErrors: SseErrorScanner | undefined;
  private ttftMs: number | undefined;
  private headers: Record<string, string> | undefined;
  private why: ErrorKind | undefined;
  private settled = false;

  constructor(
    private readonly index: number,
    private readonly opts: ExchangeOptions,
    private readonly resolve: (record: RequestRecord) => void,
  ) {}

  cut(kind: 'timeout' | 'aborted'): void {
    if (this.settled || this.why !== undefined) return;
    this.why = kind;
    const err = new Error(kind);
    if (this.abortRequest) this.abortRequest(err);
    else {
      // Not on a socket yet: record it now and have the engine drop the connection it waits for.
      this.onError(err);
      this.opts.discardConnection?.();
    }
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortRequest = abort;
    if (this.why !== undefined) abort(new Error(this.why));
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    if (statusCode < 200) return true; // 1xx informational
    this.status = statusCode;
    this.sse = (rawHeader(rawHeaders, 'content-type') ?? '').includes('text/event-stream');
    if (this.sse && statusCode < 300) this.sseErrors = new SseErrorScanner();
    const capture = this.opts.captureHeaders;
    if (capture && capture.length > 0) {
      this.headers = {};
      for (const name of capture) {
        if (name === 'authorization' || name === 'proxy-authorization') continue;
        const v = rawHeader(rawHeaders, name);
        if (v !== undefined) this.headers[name] = v;
      }
    }
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.body.push(chunk);
    this.sseErrors?.push(chunk);
    if (this.ttftMs === undefined && (!this.sse || hasSseData(this.body.text()))) this.ttftMs = performance.now() - this.t0;
    return true;
  }

  onComplete(): void {
    const code = this.status ?? 0;
    const body = this.body;
    const record: RequestRecord = {
      index: this.index,
      startMs: this.startMs,
      latencyMs: performance.now() - this.t0,
      status: code,
      bytes: body.bytes,
    };
    if (this.ttftMs !== undefined) record.ttftMs = this.ttftMs;
    if (body.bytes > 0) {
      const head = body.text(ID_HEAD_BYTES);
      const id = this.sse
        ? responseIdFrom(firstSseData(head) ?? firstSseData(body.text()) ?? '')
        : (leadingJsonId(head) ?? responseIdFrom(body.text()));
      if (id !== undefined) record.responseId = id;
    }
    if (code < 200 || code >= 300) record.errorBody = body.text(4 * ERROR_BODY_LIMIT).slice(0, ERROR_BODY_LIMIT);
    const streamError = this.sseErrors;
    streamError?.end();
    if (streamError?.message !== undefined) {
      // A 200 stream that carries an error event failed (vLLM after its engine died): keep the 200, count a failure.
      record.error = 'stream-error';
      record.errorMessage = streamError.message;
      if (streamError.payload !== undefined) record.errorBody = streamError.payload;
    }
    if (this.headers) record.headers = this.headers;
    this.settle(record);
  }

  onError(err: unknown): void {
    if (this.settled) return;
    const why = this.why;
    const kind = why ?? classifyError(err, false);
    let message =
      why === 'timeout'
        ? `no complete response within ${this.opts.inFlight.timeoutMs} ms`
        : why === 'aborted'
          ? 'run stopped'
          : errorLine(err);
    if (this.status !== undefined) message = `after status ${this.status}: ${message}`;
    const record: RequestRecord = {
      index: this.index,
      startMs: this.startMs,
      latencyMs: performance.now() - this.t0,
      error: kind,
      errorMessage: message,
      bytes: this.body.bytes,
    };
    if (this.ttftMs !== undefined) record.ttftMs = this.ttftMs;
    this.settle(record);
  }

  private settle(record: RequestRecord): void {
    if (this.settled) return;
    this.settled = true;
    this.opts.inFlight.delete(this);
    this.resolve(record);
  }
}

/** Send one request and turn whatever happens into a record; never rejects. */
export function exchange(dispatcher: Dispatcher, req: RenderedRequest, index: number, opts: ExchangeOptions): Promise<RequestRecord> {
  return new Promise<RequestRecord>((resolve) => {
    const x = new Exchange(index, opts, resolve);
    opts.inFlight.add(x);
    try {
      dispatcher.dispatch(
        { method: req.method as Dispatcher.HttpMethod, path: opts.basePath + req.path, headers: req.headers, body: req.body ?? null },
        x,
      );
    } catch (err) {
      x.onError(err);
    }
  });
}
