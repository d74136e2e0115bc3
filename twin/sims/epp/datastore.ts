/**
 * The EPP's view of the pool: endpoints (fed by any source: a Kubernetes watch or a static list),
 * their scraped metrics, and the requests in flight per endpoint as seen by this EPP.
 * No Kubernetes here, so unit tests can feed endpoints directly.
 */
import type { Endpoint, EndpointMetrics, EndpointSpec } from './types.ts';

interface InFlight {
  keys: string[];
  expiresAt: number;
}

export class Datastore {
  private readonly byKey = new Map<string, Endpoint>();
  private snapshot: Endpoint[] = [];
  private readonly inFlight = new Map<string, InFlight>();
  /** true once the source has delivered its first complete view */
  synced = false;

  constructor(
    private readonly requestTimeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Replace the whole endpoint set; endpoints that stay keep their metrics and in-flight counts. */
  setEndpoints(specs: readonly EndpointSpec[]): void {
    const next = new Map<string, Endpoint>();
    for (const s of specs) {
      const key = `${s.namespace}/${s.name}`;
      const old = this.byKey.get(key);
      const hostPort = `${s.address}:${s.port}`;
      if (old && old.hostPort === hostPort) {
        old.labels = s.labels;
        next.set(key, old);
      } else {
        next.set(key, {
          ...s,
          key,
          logName: `${key}-rank-0`,
          hostPort,
          metrics: { waiting: 0, running: 0, kvCacheUsage: 0, updatedAt: 0 },
          inFlight: old?.inFlight ?? 0,
        });
      }
    }
    this.byKey.clear();
    for (const [k, v] of next) this.byKey.set(k, v);
    this.snapshot = [...next.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Current endpoints, sorted by key. The array is replaced (not mutated) on change. */
  endpoints(): readonly Endpoint[] {
    return this.snapshot;
  }

  get(key: string): Endpoint | undefined {
    return this.byKey.get(key);
  }

  updateMetrics(key: string, m: Omit<EndpointMetrics, 'updatedAt'>): void {
    const e = this.byKey.get(key);
    if (!e) return;
    e.metrics.waiting = m.waiting;
    e.metrics.running = m.running;
    e.metrics.kvCacheUsage = m.kvCacheUsage;
    e.metrics.updatedAt = this.now();
  }

  /** Count a request against the endpoints it was sent to. A repeated requestId replaces the old entry. */
  track(requestId: string, selected: readonly Endpoint[]): void {
    this.expire();
    this.release(requestId);
    const keys = selected.map((e) => e.key);
    for (const e of selected) e.inFlight++;
    this.inFlight.set(requestId, { keys, expiresAt: this.now() + this.requestTimeoutMs });
  }

  /** The request ended: returns false when it was unknown (already done or expired). */
  done(requestId: string): boolean {
    return this.release(requestId);
  }

  /** Drop requests older than the request timeout. Map iteration is insertion order, so stop at the first live one. */
  expire(): void {
    const now = this.now();
    for (const [id, f] of this.inFlight) {
      if (f.expiresAt > now) break;
      this.release(id);
    }
  }

  inFlightRequests(): number {
    return this.inFlight.size;
  }

  private release(requestId: string): boolean {
    const f = this.inFlight.get(requestId);
    if (!f) return false;
    this.inFlight.delete(requestId);
    for (const k of f.keys) {
      const e = this.byKey.get(k);
      if (e && e.inFlight > 0) e.inFlight--;
    }
    return true;
  }
}
