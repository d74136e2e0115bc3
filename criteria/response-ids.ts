import type { RequestRecord } from '../load/result.ts';

/**
 * The P/D proxies send `X-Request-Id: ___prefill_addr_{PREFILL}___decode_addr_{DECODE}_{uuid}` and vLLM
 * answers with ids like `cmpl-___prefill_addr_vllm-prefill-p2p:14579___decode_addr_vllm-decode-p2p:14579_{uuid}`
 * (completions) or `chatcmpl-___prefill_addr_...` (chat; vLLM serving_chat.py prefixes `chatcmpl-`): the prefill
 * service names the backend that served the request, whatever the prefix.
 */
const PREFILL = /___prefill_addr_([A-Za-z0-9.-]+)/;

/** `vllm-prefill-p2p` from a response id (or the X-Request-Id header), else undefined. */
export function prefillServiceOf(id: string): string | undefined {
  return PREFILL.exec(id)?.[1];
}

/** Requests per prefill service, from response ids or `x-request-id` response headers. */
export function countByPrefill(records: readonly RequestRecord[]): { byPrefill: Record<string, number>; withoutId: number } {
  const byPrefill: Record<string, number> = {};
  let withoutId = 0;
  for (const r of records) {
    const id = r.responseId ?? r.headers?.['x-request-id'];
    const svc = id ? prefillServiceOf(id) : undefined;
    if (svc === undefined) {
      if (r.status !== undefined && r.status < 300) withoutId++;
      continue;
    }
    byPrefill[svc] = (byPrefill[svc] ?? 0) + 1;
  }
  return { byPrefill, withoutId };
}

/**
 * The workload whose name shares the backend tag (`p2p`, `fs`: the prefill service's last segment) —
 * `vllm-prefill-p2p` → `vllm-p2p-proxy` — or undefined when none or several match.
 */
export function workloadForPrefill(prefillService: string, workloads: readonly string[]): string | undefined {
  const tag = prefillService.split('-').pop() ?? '';
  const hits = workloads.filter((w) => w.split('-').includes(tag));
  return hits.length === 1 ? hits[0] : undefined;
}
