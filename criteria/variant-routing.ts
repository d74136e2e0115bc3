import { z } from '#zod';
import { defineCriterion } from './registry-types.ts';
import { countByPrefill, workloadForPrefill } from './response-ids.ts';
import type { Observations } from './observations.ts';
import { verdict, type Verdict } from './verdict.ts';

/** Variant name → the only workload that may serve its requests, e.g. `{nvlink: vllm-p2p-proxy, fs: vllm-fs-proxy}`. */
export type VariantRoutingInput = Record<string, string>;

/**
 * Static routing: every answered request of a variant (the load engine's `tags.variant`) was served by the
 * variant's workload, judged from the response id's prefill service (`vllm-prefill-p2p` → `vllm-p2p-proxy`).
 */
export function variantRouting(input: VariantRoutingInput, obs: Observations): Verdict {
  const name = 'variantRouting';
  const records = obs.load?.records ?? [];
  const workloads = [...new Set(Object.values(input))];
  const perVariant: Record<string, { requests: number; byPrefill: Record<string, number>; wrong: number; unattributed: number }> = {};
  const problems: string[] = [];
  for (const [variant, workload] of Object.entries(input)) {
    const mine = records.filter((r) => r.tags?.variant === variant && r.status !== undefined && r.status < 300 && r.error === undefined);
    const { byPrefill, withoutId } = countByPrefill(mine);
    let wrong = 0;
    for (const [svc, n] of Object.entries(byPrefill)) if (workloadForPrefill(svc, workloads) !== workload) wrong += n;
    perVariant[variant] = { requests: mine.length, byPrefill, wrong, unattributed: withoutId };
    if (mine.length === 0) problems.push(`no answered request of variant ${variant}`);
    else if (wrong > 0)
      problems.push(
        `${wrong} of ${mine.length} ${variant} requests were served by ${Object.keys(byPrefill)
          .filter((s) => workloadForPrefill(s, workloads) !== workload)
          .join(', ')}, not ${workload}`,
      );
    else if (withoutId === mine.length) problems.push(`no ${variant} response carried a ___prefill_addr_ id to attribute it`);
  }
  const ok = problems.length === 0;
  const summary = ok
    ? Object.entries(input)
        .map(([v, w]) => `${v} → ${w} (${perVariant[v]?.requests ?? 0})`)
        .join(', ')
    : problems.join('; ');
  return verdict(name, ok, summary, { perVariant }, { expected: input, actual: perVariant });
}

export const variantRoutingCriterion = defineCriterion({
  name: 'variantRouting',
  description:
    'Static routing: variant name -> the only workload that may serve its requests, e.g. {nvlink: vllm-p2p-proxy, fs: vllm-fs-proxy}.',
  schema: z
    .record(z.string(), z.string().min(1))
    .refine((m) => Object.keys(m).length > 0, 'names at least one variant')
    .meta({ minProperties: 1 }),
  failureCause: 'routing',
  evaluate: variantRouting,
});
