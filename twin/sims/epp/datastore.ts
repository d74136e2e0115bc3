/**
 * The EPP's view of the pool: endpoints (fed by any source: a Kubernetes watch or a static list),
 * their scraped metrics, and the requests in flight per endpoint as seen by this EPP.
 * No Kubernetes here, so unit tests can feed endpoints directly.
 */
import type { Endpoint, EndpointMetrics, EndpointSpec } from './types.ts';

/** One active-request entry: a request counted against a pod (active_request.go requestEntry "pod.requestId"). */
interface ActiveEntry {
  pod: string;
  expiresAt: number;
}

export class Datastore {
  private readonly byKey = new Map<string, Endpoint>();
  private snapshot: Endpoint[] = [];
  /** llm-d v0.4.0 scorer/active_request.go: podCounts (pods that left the pool keep theirs) and the TTL cache */
  private readonly counts = new Map<string, number>();
  private readonly active = new Map<string, ActiveEntry>();
  /** requestId → its "pod.requestId" keys */
  private readonly byRequest = new Map<string, string[]>();
  private readonly startedAt: number;
  private isSynced = false;
  private markSynced!: () => void;
  /** resolves the first time the source delivers a complete view (PoolHasSynced) */
  readonly whenSynced = new Promise<void>((r) => (this.markSynced = r));

  /** true once the source has delivered a complete view */
  get synced(): boolean {
    return this.isSynced;
  }

  set synced(v: boolean) {
    this.isSynced = v;
    if (v) this.markSynced();
  }

  constructor(
    private readonly requestTimeoutMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.startedAt = now();
  }

  /** Replace the whole endpoint set; endpoints that stay keep their metrics and in-flight counts. */
  setEndpoints(specs: readonly EndpointSpec[]): void {
    const next = new Map<string, Endpoint>();
    for (const s of specs) {
      const rank = s.rank ?? 0;
      const key = rank === 0 ? `${s.namespace}/${s.name}` : `${s.namespace}/${s.name}-rank-${rank}`;
      const old = this.byKey.get(key);
      const hostPort = `${s.address}:${s.port}`;
      if (old && old.hostPort === hostPort) {
        old.labels = s.labels;
        next.set(key, old);
      } else {
        next.set(key, {
          ...s,
          key,
          logName: `${s.namespace}/${s.name}-rank-${rank}`,
          hostPort,
          metrics: {
            waiting: 0,
            running: 0,
            kvCacheUsage: 0,
            cacheBlockSize: 0,
            numGpuBlocks: 0,
            activeModels: [],
            waitingModels: [],
            maxActiveModels: 0,
            updatedAt: 0,
          },
          inFlight: this.counts.get(key) ?? 0,
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

  /** A scrape: the metrics it found replace the old values; the ones it did not find keep theirs (promToPodMetrics). */
  updateMetrics(key: string, m: Partial<Omit<EndpointMetrics, 'updatedAt'>>): void {
    const e = this.byKey.get(key);
    if (!e) return;
    Object.assign(e.metrics, m);
    e.metrics.updatedAt = this.now();
  }

  /**
   * PreRequest of active-request-scorer: the request counts against each profile's first target ("pod.id" keys;
   * setting an existing key counts again, as ttlcache.Set plus incrementPodCount do).
   */
  track(requestId: string, pods: readonly string[]): void {
    this.expire();
    const expiresAt = this.now() + this.requestTimeoutMs;
    for (const pod of pods) {
      const k = `${pod}.${requestId}`;
      this.active.delete(k);
      this.active.set(k, { pod, expiresAt });
      const keys = this.byRequest.get(requestId);
      if (!keys) this.byRequest.set(requestId, [k]);
      else if (!keys.includes(k)) keys.push(k);
      this.bump(pod, +1);
    }
  }

  /**
   * ResponseComplete (the EPP saw the whole response body, or `data: [DONE]`): releases the request's entry on
   * the pod it was served by. False when unknown (never counted, already released or expired).
   */
  done(requestId: string, pod?: string): boolean {
    let released = false;
    const keys = this.byRequest.get(requestId) ?? [];
    for (const k of [...keys]) {
      const e = this.active.get(k);
      if (!e || (pod !== undefined && e.pod !== pod)) continue;
      this.drop(k, e);
      released = true;
    }
    return released;
  }

  /**
   * cleanCachePeriodically: a ticker of period requestTimeout (from start) deletes the entries expired at its
   * last tick, so an entry never released lives between one and two timeouts. Computed on demand.
   */
  expire(): void {
    const now = this.now();
    const lastTick = this.startedAt + Math.floor((now - this.startedAt) / this.requestTimeoutMs) * this.requestTimeoutMs;
    for (const [k, e] of this.active) {
      if (e.expiresAt >= lastTick) break; // ttlcache: expired when expiresAt is before the tick
      this.drop(k, e);
    }
  }

  /** Requests counted (entries in the TTL cache). */
  inFlightRequests(): number {
    return this.active.size;
  }

  /** The scorer's podCounts, including pods no longer in the pool. */
  activeCounts(): ReadonlyMap<string, number> {
    return this.counts;
  }

  private drop(k: string, e: ActiveEntry): void {
    this.active.delete(k);
    const id = k.slice(e.pod.length + 1);
    const keys = this.byRequest.get(id)?.filter((x) => x !== k);
    if (keys && keys.length > 0) this.byRequest.set(id, keys);
    else this.byRequest.delete(id);
    this.bump(e.pod, -1);
  }

  private bump(pod: string, d: number): void {
    const n = (this.counts.get(pod) ?? 0) + d;
    if (n <= 0) this.counts.delete(pod);
    else this.counts.set(pod, n);
    const e = this.byKey.get(pod);
    if (e) e.inFlight = Math.max(0, n);
  }
}
