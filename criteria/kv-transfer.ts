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
    return verdict(name, false, `no KV transfer measurement for backend ${input.backend}`, { observed: (obs.kvTransfer ?? []).map((k) => k.backend) }, { expected });
  }
  const rate = hits / requests;
  const ok = rate >= input.minHitRate;
  const summary = `${input.backend}: ${hits}/${requests} decode requests reused the prefill's KV (${pct(rate)})${ok ? '' : `, below ${pct(input.minHitRate)}`}`;
  return verdict(name, ok, summary, { backend: input.backend, requests, hits, hitRate: rate, sources: rows.map((r) => r.source ?? 'unknown') }, { expected, actual: pct(rate) });
}
