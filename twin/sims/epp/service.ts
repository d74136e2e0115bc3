/**
 * The EPP's request handling, independent of transport: pick (parse the body, schedule, log, count, metrics)
 * and done (ResponseComplete). The HTTP server and the tests both drive this. Sources (v1.2.0 unless noted):
 * gateway-api-inference-extension pkg/epp/handlers/server.go (body → JSON, request counter after a successful
 * HandleRequest, error metrics by code), handlers/request.go (a request without a body goes to a random pod,
 * not scheduled), requestcontrol/director.go (model required, candidate pods, scheduling errors),
 * util/request/body.go (completions vs chat-completions), util/error/error.go (`inference gateway: <code> - <msg>`).
 */
import type { Datastore } from './datastore.ts';
import { failedPickLines, pickLines, type LogMode } from './log.ts';
import type { EppMetrics } from './metrics.ts';
import type { SchedRequest } from './plugins.ts';
import { schedule, type Scheduler } from './scheduler.ts';
import type { PickRequest, Rng } from './types.ts';

export interface PickedEndpoint {
  address: string;
  pod: string;
}

export type PickOutcome =
  | { status: 200; body: { endpoints: PickedEndpoint[]; headers: Record<string, string>; scheduled: boolean } }
  /** body: the plain-text error the real EPP puts in its ImmediateResponse */
  | { status: 400 | 429 | 500 | 503; body: string };

export type ErrorCode = 'BadRequest' | 'Internal' | 'ServiceUnavailable' | 'InferencePoolResourceExhausted';

/** errutil.Error.Error() */
export function eppError(code: ErrorCode, msg: string): string {
  return `inference gateway: ${code} - ${msg}`;
}

/** buildErrResponse: the HTTP status Envoy answers for each code. */
export const STATUS_OF: Record<ErrorCode, 400 | 429 | 500 | 503> = {
  BadRequest: 400,
  Internal: 500,
  ServiceUnavailable: 503,
  InferencePoolResourceExhausted: 429,
};

/** For callers that still post without a body (the twin's older protocol): the body is not checked. */
export const NO_READY_ENDPOINTS_ERROR = eppError('ServiceUnavailable', 'failed to find candidate pods for serving the request');

/** The scheduling request from the raw body, or the real BadRequest error. */
export function parseRequestBody(text: string): { model: string; userInput: string } | { error: string } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { error: eppError('BadRequest', 'Error unmarshaling request body') };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { error: eppError('BadRequest', 'Error unmarshaling request body') };
  const b = body as Record<string, unknown>;
  if (typeof b.model !== 'string') return { error: eppError('BadRequest', 'model not found in request body') };
  const extract = (inner: string) => ({ error: eppError('BadRequest', `failed to extract request data: ${inner}`) });
  if (typeof b.prompt === 'string' && b.prompt !== '') return { model: b.model, userInput: b.prompt };
  // chat-completions: messages must decode as []Message (role string, content string or parts)
  const msgs = b.messages;
  if (msgs !== undefined && msgs !== null && !Array.isArray(msgs)) return extract(eppError('BadRequest', 'invalid request format'));
  const list = (msgs ?? []) as unknown[];
  if (list.some((m) => m !== null && (typeof m !== 'object' || Array.isArray(m))))
    return extract(eppError('BadRequest', 'invalid request format'));
  if (list.length === 0) {
    return extract(
      eppError(
        'BadRequest',
        `invalid chat-completions request: ${eppError('BadRequest', 'chat-completions request must have at least one message')}`,
      ),
    );
  }
  const userInput = JSON.stringify(
    list.map((m) => ({ role: (m as Record<string, unknown>)?.role ?? '', content: (m as Record<string, unknown>)?.content ?? '' })),
  );
  return { model: b.model, userInput };
}

export interface PickServiceOptions {
  scheduler: Scheduler;
  datastore: Datastore;
  rng: Rng;
  /** receives one JSON line per call */
  log: (line: string) => void;
  metrics?: EppMetrics;
  /** Which lines a pick writes (default: the instrumented image at -v=0, "Scoring decision" lines only). */
  logMode?: LogMode;
}

const INSTRUMENTED: LogMode = { instrumented: true, verbosity: 0 };

export class PickService {
  /** scheduled requests not yet complete: for the latency metric and the pod ResponseComplete releases */
  private readonly started = new Map<string, { at: number; model: string; pod: string }>();

  constructor(private readonly o: PickServiceOptions) {}

  pick(req: PickRequest): PickOutcome {
    const { scheduler, datastore, metrics } = this.o;
    if (req.noBody) {
      // HandleRequestHeaders with EndOfStream: a random pod, no scheduling, no counting
      const pods = datastore.endpoints();
      if (pods.length === 0) return { status: 500, body: eppError('Internal', 'no pods available in datastore') };
      const e = pods[Math.floor(this.o.rng() * pods.length)]!;
      return { status: 200, body: { endpoints: [{ address: e.hostPort, pod: e.key }], headers: {}, scheduled: false } };
    }
    let model = req.model;
    let userInput = '';
    if (req.body !== undefined) {
      const parsed = parseRequestBody(req.body);
      if ('error' in parsed) {
        metrics?.requestErrorTotal.inc({ model_name: '', target_model_name: '', error_code: 'BadRequest' });
        return { status: 400, body: parsed.error };
      }
      model = parsed.model;
      userInput = parsed.userInput;
    }
    const t0 = performance.now();
    datastore.expire();
    const sreq: SchedRequest = { requestId: req.requestId, model, userInput, headers: req.headers };
    const r = schedule(scheduler, datastore.endpoints(), this.o.rng, sreq, datastore.activeCounts());
    metrics?.schedulerE2e.observe((performance.now() - t0) / 1000);
    const ms = Date.now();
    const mode = this.o.logMode ?? INSTRUMENTED;
    const logReq = { ...req, model };
    if (!r.ok) {
      metrics?.requestErrorTotal.inc({ model_name: model, target_model_name: model, error_code: r.code });
      for (const l of failedPickLines(mode, scheduler, logReq, eppError(r.code, r.message), ms)) this.o.log(l);
      return { status: STATUS_OF[r.code], body: eppError(r.code, r.message) };
    }
    // RecordRequestCounter runs only after HandleRequest succeeded
    metrics?.requestTotal.inc({ model_name: model, target_model_name: model });
    const primary = r.outcome.results.get(r.outcome.primaryProfile)!.targets;
    if (scheduler.countsActiveRequests) {
      datastore.track(
        req.requestId,
        [...r.outcome.results.values()].map((x) => x.targets[0]!.key),
      );
    }
    if (this.started.size >= 10_000) this.forgetExpired();
    this.started.set(req.requestId, { at: t0, model, pod: primary[0]!.key });
    const port = r.outcome.portOverride;
    for (const l of pickLines(mode, scheduler, logReq, r, ms, port)) this.o.log(l);
    return {
      status: 200,
      body: {
        endpoints: primary.map((e) => ({ address: port !== undefined ? `${e.address}:${port}` : e.hostPort, pod: e.key })),
        headers: r.outcome.headers,
        scheduled: true,
      },
    };
  }

  /** ResponseComplete: the EPP saw the end of the response. Releases the request on the pod that served it. */
  done(requestId: string): boolean {
    const s = this.started.get(requestId);
    if (!s) return this.o.datastore.done(requestId);
    this.started.delete(requestId);
    this.o.metrics?.requestDuration.observe({ model_name: s.model, target_model_name: s.model }, (performance.now() - s.at) / 1000);
    return this.o.datastore.done(requestId, s.pod);
  }

  private forgetExpired(): void {
    const limit = performance.now() - 2 * this.o.scheduler.requestTimeoutMs;
    for (const [id, s] of this.started) if (s.at < limit) this.started.delete(id);
  }

  /** Twin-only debug view (GET /v1/state). */
  state() {
    const ds = this.o.datastore;
    ds.expire();
    return {
      synced: ds.synced,
      profile: this.o.scheduler.profile.name,
      inFlightRequests: ds.inFlightRequests(),
      activeCounts: Object.fromEntries(ds.activeCounts()),
      endpoints: ds.endpoints().map((e) => ({
        pod: e.key,
        address: e.hostPort,
        labels: e.labels,
        inFlight: e.inFlight,
        metrics: { ...e.metrics },
      })),
    };
  }
}
