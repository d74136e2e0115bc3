/**
 * The vLLM Prometheus metrics the EPP scorers and the harness read (facts.md §2), on a registry per simulator
 * so several simulators can run in one process. Names, types, help texts and labels (`model_name`, `engine`="0")
 * follow vllm-project/vllm v0.15.0 vllm/v1/metrics/loggers.py PrometheusStatLogger; counters are declared
 * without `_total` there and exported with it by prometheus_client. The deprecated `vllm:gpu_cache_usage_perc`
 * is not exported (hidden since v0.10, gone from the v1 logger), so a scraper that asks for it reads nothing.
 * `vllm:kv_transfer_hits_total` / `vllm:kv_transfer_misses_total` are twin-only extensions (real vLLM has no such
 * counters; its `vllm:external_prefix_cache_hits_total` counts tokens, and counts a P2P load when it is scheduled).
 */
import { Counter, Gauge, Histogram, Registry } from '../prometheus.ts';

export interface EngineGaugeSource {
  running(): number;
  waiting(): number;
  kvCacheUsage(): number;
}

export interface SimMetrics {
  observeTtft(seconds: number): void;
  observeItl(seconds: number): void;
  finish(reason: 'length' | 'stop' | 'abort', e2eSeconds: number, promptTokens: number, generationTokens: number): void;
  kvHit(): void;
  kvMiss(): void;
  /** A request scheduled with a KV connector: `queried` prompt tokens, `hits` of them loaded from outside. */
  externalPrefixCache(queried: number, hits: number): void;
  render(): Promise<string>;
  contentType: string;
}

const TTFT_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560];
const ITL_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80];
const E2E_BUCKETS = [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920, 7680];

export function createSimMetrics(modelName: string, engine: EngineGaugeSource): SimMetrics {
  const registry = new Registry();
  const labels = { model_name: modelName, engine: '0' };
  const labelNames = ['model_name', 'engine'] as const;

  new Gauge({
    name: 'vllm:num_requests_running',
    help: 'Number of requests in model execution batches.',
    labelNames,
    registers: [registry],
    collect() {
      this.set(labels, engine.running());
    },
  });
  new Gauge({
    name: 'vllm:num_requests_waiting',
    help: 'Number of requests waiting to be processed.',
    labelNames,
    registers: [registry],
    collect() {
      this.set(labels, engine.waiting());
    },
  });
  new Gauge({
    name: 'vllm:kv_cache_usage_perc',
    help: 'KV-cache usage. 1 means 100 percent usage.',
    labelNames,
    registers: [registry],
    collect() {
      this.set(labels, engine.kvCacheUsage());
    },
  });
  const ttft = new Histogram({
    name: 'vllm:time_to_first_token_seconds',
    help: 'Histogram of time to first token in seconds.',
    labelNames,
    buckets: TTFT_BUCKETS,
    registers: [registry],
  });
  const itl = new Histogram({
    name: 'vllm:inter_token_latency_seconds',
    help: 'Histogram of inter-token latency in seconds.',
    labelNames,
    buckets: ITL_BUCKETS,
    registers: [registry],
  });
  const e2e = new Histogram({
    name: 'vllm:e2e_request_latency_seconds',
    help: 'Histogram of e2e request latency in seconds.',
    labelNames,
    buckets: E2E_BUCKETS,
    registers: [registry],
  });
  const success = new Counter({
    name: 'vllm:request_success_total',
    help: 'Count of successfully processed requests.',
    labelNames: ['model_name', 'engine', 'finished_reason'] as const,
    registers: [registry],
  });
  const promptTokens = new Counter({
    name: 'vllm:prompt_tokens_total',
    help: 'Number of prefill tokens processed.',
    labelNames,
    registers: [registry],
  });
  const generationTokens = new Counter({
    name: 'vllm:generation_tokens_total',
    help: 'Number of generation tokens processed.',
    labelNames,
    registers: [registry],
  });
  const prefixQueries = new Counter({
    name: 'vllm:prefix_cache_queries_total',
    help: 'Prefix cache queries, in terms of number of queried tokens.',
    labelNames,
    registers: [registry],
  });
  const prefixHits = new Counter({
    name: 'vllm:prefix_cache_hits_total',
    help: 'Prefix cache hits, in terms of number of cached tokens.',
    labelNames,
    registers: [registry],
  });
  const externalQueries = new Counter({
    name: 'vllm:external_prefix_cache_queries_total',
    help: 'External prefix cache queries from KV connector cross-instance cache sharing, in terms of number of queried tokens.',
    labelNames,
    registers: [registry],
  });
  const externalHits = new Counter({
    name: 'vllm:external_prefix_cache_hits_total',
    help: 'External prefix cache hits from KV connector cross-instance cache sharing, in terms of number of cached tokens.',
    labelNames,
    registers: [registry],
  });
  const hits = new Counter({
    name: 'vllm:kv_transfer_hits_total',
    help: 'Twin extension (not in real vLLM): decode requests whose KV block arrived from the prefill.',
    labelNames,
    registers: [registry],
  });
  const misses = new Counter({
    name: 'vllm:kv_transfer_misses_total',
    help: 'Twin extension (not in real vLLM): decode requests that recomputed the prompt because no KV block arrived.',
    labelNames,
    registers: [registry],
  });
  // Counters with a label only appear once incremented; start them at 0 so scrapers see the names at once.
  // The seed runs --no-enable-prefix-caching: the prefix cache counters stay at 0.
  for (const c of [promptTokens, generationTokens, prefixQueries, prefixHits, externalQueries, externalHits, hits, misses])
    c.inc(labels, 0);
  for (const r of ['length', 'stop', 'abort']) success.inc({ ...labels, finished_reason: r }, 0);

  // The text of the last render, kept while nothing in it can have changed: the EPP scrapes every pool endpoint
  // every 50 ms (its proxy passes the scrape on to this decode pod), and rendering the histograms is ~0.25 ms of
  // CPU each time, most of an idle pod's. Every write below bumps `writes`; the gauges read the engine when
  // rendered, so their inputs are part of the key. The text served is byte for byte what a new render would give.
  let writes = 0;
  let last: { key: string; text: string } | undefined;
  const keyNow = () => `${writes}|${engine.running()}|${engine.waiting()}|${engine.kvCacheUsage()}`;
  return {
    observeTtft: (s) => (writes++, ttft.observe(labels, s)),
    observeItl: (s) => (writes++, itl.observe(labels, s)),
    finish(reason, e2eSeconds, prompt, generated) {
      writes++;
      if (reason !== 'abort') success.inc({ ...labels, finished_reason: reason });
      e2e.observe(labels, e2eSeconds);
      promptTokens.inc(labels, prompt);
      generationTokens.inc(labels, generated);
    },
    kvHit: () => (writes++, hits.inc(labels)),
    kvMiss: () => (writes++, misses.inc(labels)),
    externalPrefixCache(queried, hit) {
      writes++;
      externalQueries.inc(labels, queried);
      externalHits.inc(labels, hit);
    },
    async render() {
      const key = keyNow();
      if (last?.key === key) return last.text;
      const text = await registry.metrics();
      // kept only if nothing changed while it rendered
      last = keyNow() === key ? { key, text } : undefined;
      return text;
    },
    contentType: registry.contentType,
  };
}
