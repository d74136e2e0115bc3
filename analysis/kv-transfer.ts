/**
 * Pure readings of KV-transfer evidence on vLLM decode pods (the `kvTransfer` criterion's data), for real vLLM and
 * the twin alike:
 *
 * - FS (ExampleConnector, formerly SharedStorageConnector): its scheduler side logs `External Cache Hit!` once per
 *   request whose block-aligned prompt it found on the storage path, and nothing on a miss
 *   (vllm-project/vllm vllm/distributed/kv_transfer/kv_connector/v1/example_connector.py
 *   `get_num_new_matched_tokens`, `logger.info("External Cache Hit!")`). Requests are the decode's uvicorn access
 *   lines for completions (`"POST /v1/completions HTTP/1.1" 200`), on unless `--disable-uvicorn-access-log`.
 * - P2P (P2pNcclConnector): the consumer claims len − 1 prompt tokens at scheduling, so the counters
 *   `vllm:external_prefix_cache_queries_total` / `vllm:external_prefix_cache_hits_total` (tokens; vllm/v1/metrics/
 *   loggers.py PrometheusStatLogger, filled by the scheduler's connector prefix-cache stats) count a P2P load when it
 *   is scheduled, even when the tensor never arrives and the request then hangs.
 */

export type KvBackend = 'p2p' | 'fs';

export interface KvConnectorArgs {
  connector: string;
  role: string | undefined;
  backend: KvBackend | undefined;
}

/** The `--kv-transfer-config` of a vLLM container's args (`--kv-transfer-config JSON` or `=JSON`), or undefined. */
export function kvConnectorOf(args: readonly string[]): KvConnectorArgs | undefined {
  let raw: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--kv-transfer-config') raw = args[i + 1];
    else if (a.startsWith('--kv-transfer-config=')) raw = a.slice('--kv-transfer-config='.length);
  }
  if (raw === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const { kv_connector: connector, kv_role: role } = parsed as { kv_connector?: unknown; kv_role?: unknown };
  if (typeof connector !== 'string') return undefined;
  return { connector, role: typeof role === 'string' ? role : undefined, backend: backendOfConnector(connector) };
}

/** `p2p` for P2pNcclConnector, `fs` for ExampleConnector (SharedStorageConnector before its rename). */
export function backendOfConnector(connector: string): KvBackend | undefined {
  if (connector === 'P2pNcclConnector') return 'p2p';
  if (connector === 'ExampleConnector' || connector === 'SharedStorageConnector') return 'fs';
  return undefined;
}

/** A pod that loads KV (decode): any role but kv_producer. */
export function loadsKv(c: KvConnectorArgs): boolean {
  return c.role !== 'kv_producer';
}

export const FS_HIT_LINE = 'External Cache Hit!';
const COMPLETION_ACCESS = /"POST \/v1\/(?:chat\/)?completions(?:\?\S*)? HTTP\/[\d.]+" (\d{3})/;

/**
 * FS reuse on one decode pod from its log lines: `requests` = completions it answered (access log), `hits` =
 * `External Cache Hit!` lines. Undefined when the log has no access lines (no denominator: not measurable).
 */
export function fsReuseFromLog(lines: readonly string[]): { requests: number; hits: number } | undefined {
  let requests = 0;
  let hits = 0;
  for (const line of lines) {
    if (line.includes(FS_HIT_LINE)) hits++;
    else if (COMPLETION_ACCESS.test(line)) requests++;
  }
  if (requests === 0) return undefined;
  return { requests, hits: Math.min(hits, requests) };
}

const QUERIES = 'vllm:external_prefix_cache_queries_total';
const HITS = 'vllm:external_prefix_cache_hits_total';

/** Sum of a counter's samples (every label set) in a Prometheus text exposition; undefined when absent. */
export function promCounter(text: string, name: string): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const value = Number(
      rest
        .slice(rest[0] === '{' ? rest.lastIndexOf('}') + 1 : 0)
        .trim()
        .split(/\s+/)[0],
    );
    if (Number.isFinite(value)) sum = (sum ?? 0) + value;
  }
  return sum;
}

/** External prefix-cache tokens of one pod from its /metrics text: queried and hit; undefined without the counters. */
export function externalPrefixCacheTokens(metricsText: string): { requests: number; hits: number } | undefined {
  const queries = promCounter(metricsText, QUERIES);
  const hits = promCounter(metricsText, HITS);
  if (queries === undefined || hits === undefined) return undefined;
  return { requests: queries, hits };
}
