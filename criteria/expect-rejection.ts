import { z } from '#zod';
import { defineCriterion } from './registry-types.ts';
import { describeRecord, formatOutcomes, outcomeCounts } from './load-facts.ts';
import { decisionsOf, type Observations } from './observations.ts';
import { verdict, type Verdict } from './verdict.ts';

export interface ExpectRejectionInput {
  status: number;
  /** Text each rejected body must contain, e.g. `InferencePoolResourceExhausted`. */
  reason?: string;
  /** At least this many rejections; absent = every request. */
  atLeast?: number;
}

/** Negative suites: requests are rejected with `status` and `reason` in the body (every one, or `atLeast`). */
export function expectRejection(input: ExpectRejectionInput, obs: Observations): Verdict {
  const name = 'expectRejection';
  const what = `${input.status}${input.reason ? ` ${input.reason}` : ''}`;
  const expected = input.atLeast === undefined ? `every request ${what}` : `≥${input.atLeast} × ${what}`;
  const records = obs.load?.records ?? [];
  if (records.length === 0)
    return verdict(name, false, 'no request records to check the rejection against', {}, { expected, cause: 'no-data' });
  const rejected = records.filter(
    (r) => r.status === input.status && (input.reason === undefined || (r.errorBody ?? '').includes(input.reason)),
  );
  const others = records.filter((r) => !rejected.includes(r));
  const ok = input.atLeast === undefined ? others.length === 0 : rejected.length >= input.atLeast;
  const epp = decisionsOf(obs);
  const evidence: Record<string, unknown> = {
    requests: records.length,
    rejected: rejected.length,
    byOutcome: outcomeCounts(obs.load!),
    ...(rejected[0]?.errorBody ? { sampleBody: rejected[0].errorBody.slice(0, 200) } : {}),
    ...(others.length ? { notRejected: others.slice(0, 5).map(describeRecord) } : {}),
    ...(epp ? { eppFailures: epp.failures, eppDecisions: epp.decisions } : {}),
  };
  const summary = ok
    ? `${rejected.length}/${records.length} requests rejected with ${what}, as expected`
    : input.atLeast === undefined
      ? `${others.length} of ${records.length} requests were not rejected with ${what} (${formatOutcomes(outcomeCounts(obs.load!))}; e.g. ${describeRecord(others[0]!)})`
      : `only ${rejected.length} of ${records.length} requests were rejected with ${what}, expected at least ${input.atLeast}`;
  return verdict(name, ok, summary, evidence, { expected, actual: `${rejected.length}/${records.length}` });
}

export const expectRejectionCriterion = defineCriterion({
  name: 'expectRejection',
  description: 'Negative suite: requests are rejected with this status and reason.',
  schema: z.strictObject({
    status: z.int().min(400).max(599),
    reason: z.string().min(1).optional().describe('Text the response body must contain, e.g. InferencePoolResourceExhausted.'),
    atLeast: z.int().min(1).optional().describe('At least this many rejections; left out = every request is rejected.'),
  }),
  failureCause: 'responses',
  evaluate: expectRejection,
});
