/**
 * The EPP's request handling, independent of transport: pick (schedule + log + count in flight + metrics)
 * and done. The HTTP server and the tests both drive this.
 */
import type { Datastore } from './datastore.ts';
import { RESOURCE_EXHAUSTED_ERROR, failedPickLines, pickLines, type LogMode } from './log.ts';
import type { EppMetrics } from './metrics.ts';
import { schedule, type Scheduler } from './scheduler.ts';
import type { PickRequest, Rng } from './types.ts';

export interface PickedEndpoint {
  address: string;
  pod: string;
}

export type PickOutcome =
  | { status: 200; body: { endpoints: PickedEndpoint[] } }
  | { status: 429 | 503; body: { error: string } };

export const NO_READY_ENDPOINTS_ERROR = 'ServiceUnavailable - no ready endpoints in the inference pool';

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
  private readonly started = new Map<string, { at: number; model: string }>();

  constructor(private readonly o: PickServiceOptions) {}

  pick(req: PickRequest): PickOutcome {
    const { scheduler, datastore, metrics } = this.o;
    const t0 = performance.now();
    datastore.expire();
    const r = schedule(scheduler, datastore.endpoints(), this.o.rng);
    const ms = Date.now();
    const mode = this.o.logMode ?? INSTRUMENTED;
    metrics?.requestTotal.inc({ model_name: req.model, target_model_name: req.model });
    if (!r.ok) {
      const code = r.reason === 'no-endpoints' ? 'ServiceUnavailable' : 'InferencePoolResourceExhausted';
      metrics?.requestErrorTotal.inc({ model_name: req.model, target_model_name: req.model, error_code: code });
      for (const l of failedPickLines(mode, scheduler, req, ms)) this.o.log(l);
      metrics?.schedulerE2e.observe((performance.now() - t0) / 1000);
      return r.reason === 'no-endpoints'
        ? { status: 503, body: { error: `inference gateway: ${NO_READY_ENDPOINTS_ERROR}` } }
        : { status: 429, body: { error: `inference gateway: ${RESOURCE_EXHAUSTED_ERROR}` } };
    }
    datastore.track(req.requestId, r.selected);
    if (this.started.size >= 10_000) this.forgetExpired();
    this.started.set(req.requestId, { at: t0, model: req.model });
    metrics?.schedulerE2e.observe((performance.now() - t0) / 1000);
    for (const l of pickLines(mode, scheduler, req, r, ms)) this.o.log(l);
    return {
      status: 200,
      body: { endpoints: r.selected.map((e) => ({ address: e.hostPort, pod: e.key })) },
    };
  }

  done(requestId: string): boolean {
    const s = this.started.get(requestId);
    if (s) {
      this.started.delete(requestId);
      this.o.metrics?.requestDuration.observe(
        { model_name: s.model, target_model_name: s.model },
        (performance.now() - s.at) / 1000,
      );
    }
    return this.o.datastore.done(requestId);
  }

  private forgetExpired(): void {
    const limit = performance.now() - this.o.scheduler.requestTimeoutMs;
    for (const [id, s] of this.started) if (s.at < limit) this.started.delete(id);
  }

  /** Twin-only debug view (GET /v1/state). */
  state() {
    const ds = this.o.datastore;
    ds.expire();
    this.forgetExpired();
    return {
      synced: ds.synced,
      profile: this.o.scheduler.profile.name,
      inFlightRequests: ds.inFlightRequests(),
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
