import { z } from '#zod';
import { ratio } from '../suites/schema-parts.ts';
import { defineCriterion } from './registry-types.ts';
import type { Observations } from './observations.ts';
import { pct, verdict, type Verdict } from './verdict.ts';

export interface KvTransferInput {
  /** `p2p` or `fs`. */
  backend: string;
  /** Share of decode requests that must find the prefill's KV. */
  minHitRate: number;
}

/**
 * KV transfer works: of the decode requests measured for the backend, at least minHitRate found the
 * prefill's KV instead of recomputing the prompt (the seed's FS setup, one emptyDir per pod, fails this).
 */
export function kvTransfer(input: KvTransferInput, obs: Observations): Verdict {
  const name = 'kvTransfer';
  const expected = `${input.backend} hit rate ≥ ${pct(input.minHitRate)}`;
  const rows = (obs.kvTransfer ?? []).filter((k) => k.backend.toLowerCase() === input.backend.toLowerCase());
  const requests = rows.reduce((a, r) => a + r.requests, 0);
  const hits = rows.reduce((a, r) => a + r.hits, 0);
  if (rows.length === 0 || requests === 0) {
    return verdict(
      name,
      false,
      `no KV transfer measurement for backend ${input.backend}`,
      { observed: (obs.kvTransfer ?? []).map((k) => k.backend) },
      { expected, cause: 'no-data' },
    );
  }
  const rate = hits / requests;
  const ok = rate >= input.minHitRate;
  const tokens = rows.every((r) => r.unit === 'tokens');
  const what = tokens
    ? 'prompt tokens of decode requests were matched in external KV when scheduled (vLLM counts a P2P load then, even if the tensor never comes)'
    : "decode requests reused the prefill's KV";
  const sources = rows.filter((r) => r.source).map((r) => r.source);
  const from = sources.length > 0 ? `; from ${sources.join(', ')}` : '';
  const summary = `${input.backend}: ${hits}/${requests} ${what} (${pct(rate)})${ok ? '' : `, below ${pct(input.minHitRate)}`}${from}`;
  return verdict(
    name,
    ok,
    summary,
    { backend: input.backend, requests, hits, hitRate: rate, sources: rows.map((r) => r.source ?? 'unknown') },
    { expected, actual: pct(rate) },
  );
}

/** The KV connectors a suite names: p2p (P2pNcclConnector), fs (ExampleConnector). */
export const CONNECTORS = ['p2p', 'fs'] as const;

export const kvTransferCriterion = defineCriterion({
  name: 'kvTransfer',
  description: "KV transfer works: decode finds the prefill's KV.",
  schema: z.strictObject({
    backend: z.enum(CONNECTORS),
    minHitRate: ratio("Share of decode requests that must reuse the prefill's KV cache"),
  }),
  failureCause: 'kv-transfer',
  evaluate: kvTransfer,
});
