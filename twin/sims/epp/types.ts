import { seededRandom } from '../../../k8s-rules/prng.ts';
/** Shared shapes of the twin's EPP: endpoints as the scheduler sees them. */

export interface EndpointMetrics {
  /** vllm:num_requests_waiting */
  waiting: number;
  /** vllm:num_requests_running */
  running: number;
  /** the KV-cache usage metric the EPP is told to scrape (--kv-cache-usage-percentage-metric), 0..1 */
  kvCacheUsage: number;
  /** vllm:cache_config_info block_size / num_gpu_blocks labels (0 when not scraped) */
  cacheBlockSize: number;
  numGpuBlocks: number;
  /** vllm:lora_requests_info running_lora_adapters / waiting_lora_adapters / max_lora labels */
  activeModels: string[];
  waitingModels: string[];
  maxActiveModels: number;
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
  /** Index of `port` in the pool's targetPorts (the real datastore names the endpoint `pod-rank-N`); 0 when absent. */
  rank?: number;
  labels: Record<string, string>;
}

/** A live endpoint in the datastore: spec plus scraped metrics and the EPP's own in-flight count. */
export interface Endpoint extends EndpointSpec {
  /** "ns/name" (rank 0), "ns/name-rank-N" for the pod's other target ports */
  key: string;
  /** "ns/name-rank-N", the form the EPP's logs use */
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
  /** the raw request body (the EPP parses it as the real one does); absent: model/promptLength are used as given */
  body?: string;
  /** a request without a body (a GET): a random pod, not scheduled */
  noBody?: boolean;
}

export type Rng = () => number;

/** The simulators' seeded PRNG (mulberry32), typed as the EPP's Rng. */
export const seededRng: (seed: number) => Rng = seededRandom;
