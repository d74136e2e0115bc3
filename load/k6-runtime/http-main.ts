import { STATUS_CODES } from 'node:http';
import { Agent } from '../../common/undici.ts';
import { classifyError } from '../builtin/errors.ts';
import { goParseUrl } from './go-url.ts';
import { isLoopbackHost } from '../loopback.ts';
import { CUT_AFTER_HEADERS, type RequestRecord } from '../result.ts';
import { failedReply, zeroTimings, type HttpCall, type HttpReply } from './protocol.ts';
import { SseErrorScanner } from '../builtin/response.ts';

/** k6's error codes (lib/netext/httpext/error_codes.go, k6 v2.2.0) for the error kinds undici gives. */
const K6_ERROR_CODES: Record<string, number> = { timeout: 1050, 'connection-refused': 1212, reset: 1220, aborted: 1000, other: 1000 };

export interface HttpSide {
  send(call: HttpCall): Promise<HttpReply>;
  /** A request to a non-loopback host was refused (the run must stop: load goes to loopback only). */
  refused: string | undefined;
  close(): Promise<void>;
}

/**
 * The main thread's side of a VU's HTTP call: one round trip with undici (no redirects: the VU follows them,
 * so each hop is a request, as in k6), recorded in the run's request records.
 */
export function httpSide(records: RequestRecord[], allowRemote: boolean): HttpSide {
  const agent = new Agent({ keepAliveTimeout: 10_000 });
  const side: HttpSide = {
    refused: undefined,
    async send(call) {
      const startMs = Date.now();
      const t0 = performance.now();
      const record: RequestRecord = { index: 0, startMs, latencyMs: 0, bytes: 0, tags: { ...call.tags } };
      // k6 parses with Go's url.Parse first (go-url.ts): its errors and its schemes, not WHATWG's
      const goUrl = goParseUrl(call.url);
      if ('error' in goUrl) return failedReply(`invalid URL: ${goUrl.error}`, 1020);
      if (goUrl.scheme !== 'http' && goUrl.scheme !== 'https') return failedReply(`unsupported protocol scheme "${goUrl.scheme}"`, 1000);
      let url: URL;
      try {
        url = new URL(call.url);
      } catch (err) {
        return failedReply(`invalid URL ${call.url}: ${(err as Error).message}`, 1020);
      }
      if (!allowRemote && !isLoopbackHost(url.hostname)) {
        side.refused ??= `refusing to send load to ${url.host}: not a loopback address (the built-in k6 runtime sends traffic to loopback only)`;
        return failedReply(side.refused, 1110);
      }
      const remoteIp = url.hostname.replace(/^\[|\]$/g, '') === 'localhost' ? '127.0.0.1' : url.hostname.replace(/^\[|\]$/g, '');
      const remotePort = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
      const body = call.body === undefined ? undefined : typeof call.body === 'string' ? call.body : Buffer.from(call.body);
      const sentBytes =
        (body === undefined ? 0 : Buffer.byteLength(body)) +
        call.headers.reduce((n, [k, v]) => n + k.length + v.length + 4, call.method.length + call.url.length + 12);
      let reply: HttpReply;
      // when the response headers came: a body cut after them keeps its waiting time, as k6's trail does
      let headersAt: number | undefined;
      try {
        const res = await agent.request({
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: call.method as 'GET',
          headers: call.headers.flat(),
          body: body ?? null,
          signal: AbortSignal.timeout(call.timeoutMs),
        });
        const tHeaders = performance.now();
        headersAt = tHeaders;
        const chunks: Buffer[] = [];
        let bytes = 0;
        for await (const c of res.body) {
          bytes += (c as Buffer).length;
          if (!call.discardBody) chunks.push(c as Buffer);
        }
        const tEnd = performance.now();
        const headers: [string, string][] = [];
        for (const [k, v] of Object.entries(res.headers)) {
          if (v === undefined) continue;
          for (const x of Array.isArray(v) ? v : [v]) headers.push([k, x]);
        }
        const text = call.discardBody ? '' : Buffer.concat(chunks).toString('utf8');
        const waiting = tHeaders - t0;
        const receiving = tEnd - tHeaders;
        reply = {
          status: res.statusCode,
          statusText: `${res.statusCode} ${STATUS_CODES[res.statusCode] ?? ''}`.trim(),
          headers,
          body: text,
          bodyBytes: bytes + headers.reduce((n, [k, v]) => n + k.length + v.length + 4, 17),
          sentBytes,
          timings: { blocked: 0, connecting: 0, tls_handshaking: 0, sending: 0, waiting, receiving, duration: waiting + receiving },
          remoteIp,
          remotePort,
        };
        record.status = res.statusCode;
        record.ttftMs = waiting;
        record.bytes = bytes;
        if (res.statusCode < 200 || res.statusCode >= 300) record.errorBody = text.slice(0, 512);
        else if ((headers.find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '').includes('text/event-stream')) {
          // as the builtin engine: a 2xx stream carrying an error event (vLLM's engine died mid-stream) failed
          const scan = new SseErrorScanner();
          scan.push(Buffer.from(text));
          scan.end();
          if (scan.message !== undefined) {
            record.error = 'stream-error';
            record.errorMessage = scan.message;
            if (scan.payload !== undefined) record.errorBody = scan.payload;
          }
        }
        const id = /"id"\s*:\s*"([^"]+)"/.exec(text.slice(0, 4096))?.[1];
        if (id) record.responseId = id;
      } catch (err) {
        const timedOut = (err as { name?: string }).name === 'TimeoutError';
        const kind = classifyError(err, timedOut);
        const duration = performance.now() - t0;
        const message = timedOut
          ? 'request timeout'
          : kind === 'connection-refused'
            ? `dial tcp ${url.host}: connect: connection refused`
            : kind === 'reset'
              ? `read tcp ${url.host}: read: connection reset by peer`
              : (err as Error).message;
        // k6 (lib/netext/httpext/request.go): a body that breaks after the headers is a failed request, status 0,
        // but its trail keeps the time to the first byte
        const timings =
          headersAt === undefined
            ? zeroTimings(duration)
            : { ...zeroTimings(duration), waiting: headersAt - t0, receiving: performance.now() - headersAt };
        reply = failedReply(message, K6_ERROR_CODES[kind] ?? 1000, { sentBytes, timings, remoteIp, remotePort });
        record.error = kind;
        // the record the suite script's response metric gives on k6 (load/k6/output.ts): cut after the headers
        record.errorMessage = headersAt === undefined ? message : `${CUT_AFTER_HEADERS}: ${message}`;
      }
      record.latencyMs = reply.timings.duration;
      if (record.tags) record.tags['status'] = String(reply.status);
      records.push(record);
      return reply;
    },
    async close() {
      await agent.destroy();
    },
  };
  return side;
}
