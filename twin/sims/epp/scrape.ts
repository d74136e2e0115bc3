/** Scrapes each endpoint's /metrics for the vLLM gauges the scorers read. */
import * as http from 'node:http';
import type { Datastore } from './datastore.ts';
import type { EndpointMetrics } from './types.ts';

/**
 * The metric names the EPP scrapes: gateway-api-inference-extension v1.2.0 pkg/epp/server/runserver.go defaults,
 * overridden by the flags --total-queued-requests-metric, --kv-cache-usage-percentage-metric, --lora-info-metric,
 * --cache-info-metric (cmd/epp/runner/runner.go). v1.2.0 still defaults to vLLM's old `vllm:gpu_cache_usage_perc`:
 * against a vLLM that only exports `vllm:kv_cache_usage_perc`, the KV usage stays at its initial 0.
 */
export interface MetricNames {
  queued: string;
  kvCacheUsage: string;
  loraInfo: string;
  cacheInfo: string;
}

export const DEFAULT_METRIC_NAMES: MetricNames = {
  queued: 'vllm:num_requests_waiting',
  kvCacheUsage: 'vllm:gpu_cache_usage_perc',
  loraInfo: 'vllm:lora_requests_info',
  cacheInfo: 'vllm:cache_config_info',
};

export type ScrapedMetrics = Partial<Omit<EndpointMetrics, 'updatedAt'>>;

function parseLabels(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) out[m[1]!] = m[2]!.replace(/\\(.)/g, '$1');
  return out;
}

/**
 * promToPodMetrics: each configured family found updates its field (first sample; lora info: the sample with the
 * largest value, a timestamp); a family not found leaves the field out, so the old value stays.
 */
export function parseVllmMetrics(text: string, names: MetricNames = DEFAULT_METRIC_NAMES): ScrapedMetrics {
  const out: ScrapedMetrics = {};
  let loraBest = -Infinity;
  for (const raw of text.split('\n')) {
    if (raw === '' || raw.charCodeAt(0) === 35 /* # */) continue;
    const brace = raw.indexOf('{');
    const close = raw.lastIndexOf('}');
    const space = brace >= 0 ? raw.indexOf(' ', close) : raw.indexOf(' ');
    const name = raw.slice(0, brace >= 0 ? brace : space);
    const value = Number(
      raw
        .slice(space + 1)
        .trim()
        .split(' ')[0],
    );
    if (!Number.isFinite(value)) continue;
    if (name === names.queued) out.waiting ??= value;
    else if (name === 'vllm:num_requests_running') out.running ??= value;
    else if (name === names.kvCacheUsage) out.kvCacheUsage ??= value;
    else if (name === names.cacheInfo && out.cacheBlockSize === undefined) {
      const l = parseLabels(raw.slice(brace + 1, close));
      out.cacheBlockSize = Number(l.block_size) || 0;
      out.numGpuBlocks = Number(l.num_gpu_blocks) || 0;
    } else if (name === names.loraInfo && value > loraBest) {
      loraBest = value;
      const l = parseLabels(raw.slice(brace + 1, close));
      out.activeModels = l.running_lora_adapters ? l.running_lora_adapters.split(',') : [];
      out.waitingModels = l.waiting_lora_adapters ? l.waiting_lora_adapters.split(',') : [];
      out.maxActiveModels = Number(l.max_lora) || 0;
    }
  }
  return out;
}

export class Scraper {
  private timer: NodeJS.Timeout | undefined;
  private readonly busy = new Set<string>();
  // node:http rather than undici: importing undici costs the EPP ~0.2 s of CPU and ~8 MB at every start (it is
  // restarted by every suite), and a scrape is one small GET on a kept-alive connection
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 2 });

  constructor(
    private readonly ds: Datastore,
    private readonly intervalMs: number,
    private readonly names: MetricNames = DEFAULT_METRIC_NAMES,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.agent.destroy();
  }

  private tick(): void {
    for (const e of this.ds.endpoints()) {
      if (this.busy.has(e.key)) continue;
      this.busy.add(e.key);
      void this.scrapeOne(e.key, `http://${e.hostPort}/metrics`).finally(() => this.busy.delete(e.key));
    }
  }

  private scrapeOne(key: string, url: string): Promise<void> {
    // no answer (headers or body) within 5 intervals (at least 1 s): the scrape is dropped, the old values stay
    const timeout = Math.max(1000, this.intervalMs * 5);
    return new Promise((resolve) => {
      const req = http.get(url, { agent: this.agent, timeout }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode === 200) this.ds.updateMetrics(key, parseVllmMetrics(Buffer.concat(chunks).toString('utf8'), this.names));
        });
        res.on('close', () => resolve());
        res.on('error', () => resolve());
      });
      req.on('timeout', () => req.destroy(new Error(`scrape of ${url} timed out`)));
      // an unreachable endpoint keeps its last metrics; readiness is the watch's job
      req.on('error', () => resolve());
    });
  }
}
