/** Scrapes each endpoint's /metrics for the vLLM gauges the scorers read. */
import { Agent, request } from 'undici';
import type { Datastore } from './datastore.ts';

export interface ScrapedMetrics {
  waiting: number;
  running: number;
  kvCacheUsage: number;
}

/** Sum of each wanted gauge over its label sets in Prometheus text format. */
export function parseVllmMetrics(text: string): ScrapedMetrics {
  const out: ScrapedMetrics = { waiting: 0, running: 0, kvCacheUsage: 0 };
  for (const raw of text.split('\n')) {
    if (raw === '' || raw.charCodeAt(0) === 35 /* # */) continue;
    const brace = raw.indexOf('{');
    const space = brace >= 0 ? raw.indexOf(' ', raw.lastIndexOf('}')) : raw.indexOf(' ');
    const name = raw.slice(0, brace >= 0 ? brace : space);
    const value = Number(raw.slice(space + 1).trim().split(' ')[0]);
    if (!Number.isFinite(value)) continue;
    if (name === 'vllm:num_requests_waiting') out.waiting += value;
    else if (name === 'vllm:num_requests_running') out.running += value;
    else if (name === 'vllm:kv_cache_usage_perc' || name === 'vllm:gpu_cache_usage_perc') out.kvCacheUsage += value;
  }
  return out;
}

export class Scraper {
  private timer: NodeJS.Timeout | undefined;
  private readonly busy = new Set<string>();
  private readonly agent = new Agent({ keepAliveTimeout: 10_000, connections: 2 });

  constructor(
    private readonly ds: Datastore,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.agent.close().catch(() => {});
  }

  private tick(): void {
    for (const e of this.ds.endpoints()) {
      if (this.busy.has(e.key)) continue;
      this.busy.add(e.key);
      void this.scrapeOne(e.key, `http://${e.hostPort}/metrics`).finally(() => this.busy.delete(e.key));
    }
  }

  private async scrapeOne(key: string, url: string): Promise<void> {
    try {
      const res = await request(url, {
        dispatcher: this.agent,
        headersTimeout: Math.max(1000, this.intervalMs * 5),
        bodyTimeout: Math.max(1000, this.intervalMs * 5),
      });
      const text = await res.body.text();
      if (res.statusCode === 200) this.ds.updateMetrics(key, parseVllmMetrics(text));
    } catch {
      // an unreachable endpoint keeps its last metrics; readiness is the watch's job
    }
  }
}
