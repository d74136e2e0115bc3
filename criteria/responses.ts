import { z } from '#zod';
import { defineCriterion } from './registry-types.ts';
import { formatOutcomes, outcomeCounts, totalRequests } from './load-facts.ts';
import type { Observations } from './observations.ts';
import { verdict, type Verdict } from './verdict.ts';

export interface ResponsesInput {
  status: number;
  /** At least this many responses have the status. */
  atLeast?: number;
  /** Every request got the status. */
  all?: boolean;
}

export function responses(input: ResponsesInput, obs: Observations): Verdict {
  const name = 'responses';
  const expected = input.all ? `all ${input.status}` : `≥${input.atLeast ?? 0} × ${input.status}`;
  if (!obs.load) return verdict(name, false, 'no load was run, so there are no responses to count', {}, { expected, cause: 'no-data' });
  const counts = outcomeCounts(obs.load);
  const total = totalRequests(obs.load);
  const matching = counts[String(input.status)] ?? 0;
  const ok = input.all ? total > 0 && matching === total : matching >= (input.atLeast ?? 0);
  const summary = ok
    ? `${matching}/${total} requests got ${input.status}`
    : input.all
      ? `${total - matching} of ${total} requests did not get ${input.status} (${formatOutcomes(counts)})`
      : `only ${matching} requests got ${input.status}, expected at least ${input.atLeast ?? 0} (${formatOutcomes(counts)})`;
  return verdict(name, ok, summary, { total, byOutcome: counts }, { expected, actual: `${matching}/${total} × ${input.status}` });
}

export const responsesCriterion = defineCriterion({
  name: 'responses',
  description: 'Counts of responses with a status.',
  schema: z
    .strictObject({
      status: z.int().min(100).max(599),
      atLeast: z.int().min(0).optional().describe('At least this many responses have the status.'),
      all: z.literal(true).optional().describe('Every response has the status.'),
    })
    .superRefine((r, ctx) => {
      if ((r.atLeast === undefined) === (r.all === undefined))
        ctx.addIssue({ code: 'custom', message: 'responses takes exactly one of atLeast or all: true' });
    }),
  failureCause: 'responses',
  evaluate: responses,
});
