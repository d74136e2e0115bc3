/** vLLM's periodic engine stats line (vllm/v1/metrics/loggers.py), from engine totals sampled over an interval. */

export interface StatsSample {
  atMs: number;
  promptTokens: number;
  generationTokens: number;
}

export function statsLine(prev: StatsSample, now: StatsSample, running: number, waiting: number, kvUsage: number): string {
  const secs = Math.max(0.001, (now.atMs - prev.atMs) / 1000);
  const prompt = (now.promptTokens - prev.promptTokens) / secs;
  const gen = (now.generationTokens - prev.generationTokens) / secs;
  return (
    `Engine 000: Avg prompt throughput: ${prompt.toFixed(1)} tokens/s, Avg generation throughput: ${gen.toFixed(1)} tokens/s, ` +
    `Running: ${running} reqs, Waiting: ${waiting} reqs, GPU KV cache usage: ${(kvUsage * 100).toFixed(1)}%, Prefix cache hit rate: 0.0%`
  );
}

/** Log only when something happened since the last line, or requests are still in the engine (as vLLM does). */
export function shouldLogStats(prev: StatsSample, now: StatsSample, running: number, waiting: number): boolean {
  return running > 0 || waiting > 0 || now.promptTokens !== prev.promptTokens || now.generationTokens !== prev.generationTokens;
}
