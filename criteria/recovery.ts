import { z } from '#zod';
import { HOUR_MS, duration, ratio } from '../suites/schema-parts.ts';
import { defineCriterion } from './registry-types.ts';
import type { Observations } from './observations.ts';
import { pct, verdict, type Verdict } from './verdict.ts';

export interface RecoveryInput {
  /** Steady state must hold again this long after the fault, ms. */
  withinMs: number;
  /** Largest share of failed requests over the whole load. */
  maxErrorRate: number;
}

export function recovery(input: RecoveryInput, obs: Observations): Verdict {
  const name = 'recovery';
  const expected = { withinMs: input.withinMs, maxErrorRate: input.maxErrorRate };
  const m = obs.recovery;
  if (!m) return verdict(name, false, 'no recovery measurement (was a fault injected?)', {}, { expected, cause: 'no-data' });
  const recovered = m.recoveryMs !== null && Number.isFinite(m.recoveryMs);
  const problems: string[] = [];
  if (!recovered) problems.push(`never recovered (within the observation window)`);
  else if (m.recoveryMs! > input.withinMs) problems.push(`recovered after ${seconds(m.recoveryMs!)}, more than ${seconds(input.withinMs)}`);
  if (m.errorRate > input.maxErrorRate) problems.push(`error rate ${pct(m.errorRate)} over the allowed ${pct(input.maxErrorRate)}`);
  const ok = problems.length === 0;
  const summary = ok
    ? `recovered after ${seconds(m.recoveryMs!)} (≤ ${seconds(input.withinMs)}), errors for ${seconds(m.errorWindowMs)}, error rate ${pct(m.errorRate)}`
    : problems.join('; ');
  return verdict(
    name,
    ok,
    summary,
    { ...m, recoveryMs: recovered ? m.recoveryMs : null },
    { expected, actual: { recoveryMs: recovered ? m.recoveryMs : null, errorRate: m.errorRate } },
  );
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)}s`;
}

/** The recovery thresholds: the `recovery` criterion's settings, and `spec.recovery` (the same schema). */
export const RecoverySchema = z.strictObject({
  within: duration({ max: HOUR_MS, maxText: '1h' }).describe('Steady state must hold again this long after the fault.'),
  maxErrorRate: ratio('Largest share of failed requests allowed over the whole load'),
});

export const recoveryCriterion = defineCriterion({
  name: 'recovery',
  description: 'Recovery thresholds after faults.',
  schema: RecoverySchema,
  failureCause: 'recovery',
  evaluate: (settings, obs) => recovery({ withinMs: settings.within, maxErrorRate: settings.maxErrorRate }, obs),
});
