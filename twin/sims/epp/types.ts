/** Shared shapes of the twin's EPP: endpoints as the scheduler sees them. */

export interface EndpointMetrics {
  /** vllm:num_requests_waiting */
  waiting: number;
  /** vllm:num_requests_running */
  running: number;
  /** vllm:kv_cache_usage_perc, 0..1 */
  kvCacheUsage: number;
  /** epoch ms of the last successful scrape, 0 when never scraped */
  updatedAt: number;
}

/** What a source (Kubernetes watch or static list) knows about an endpoint. */
export interface EndpointSpec {
  namespace: string;
  name: string;
  /** IP address (no port) */
  address: string;
  port: number;
  labels: Record<string, string>;
}

/** A live endpoint in the datastore: spec plus scraped metrics and the EPP's own in-flight count. */
export interface Endpoint extends EndpointSpec {
  /** "ns/name" */
  key: string;
  /** "ns/name-rank-0", the form the EPP's logs use */
  logName: string;
  /** "IP:port" */
  hostPort: string;
  metrics: EndpointMetrics;
  inFlight: number;
}

export interface PickRequest {
  requestId: string;
  model: string;
  promptLength: number;
  headers: Record<string, string>;
}

export type Rng = () => number;

/** mulberry32: small seeded PRNG for reproducible tests. */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
