import { z } from '#zod';
import { defineCriterion } from './registry-types.ts';
import { EXHAUSTED, PROFILE_FAILED } from '../analysis/epp-decisions.ts';
import { decisionsOf, type Observations } from './observations.ts';
import { plural, verdict, type Verdict } from './verdict.ts';

/** No InferencePoolResourceExhausted and no "failed to run scheduler profile", in EPP logs or response bodies. */
export function noSchedulingFailures(_input: Record<string, never> | object, obs: Observations): Verdict {
  const name = 'noSchedulingFailures';
  const epp = decisionsOf(obs);
  const records = obs.load?.records;
  if (!epp && !records)
    return verdict(name, false, 'neither EPP logs nor responses were observed: nothing to check', {}, { cause: 'no-data' });
  const bodies = (records ?? []).filter((r) => r.errorBody !== undefined);
  const exhaustedBodies = bodies.filter((r) => r.errorBody!.includes(EXHAUSTED));
  const profileBodies = bodies.filter((r) => r.errorBody!.toLowerCase().includes(PROFILE_FAILED));
  const logExhausted = epp?.failures.InferencePoolResourceExhausted ?? 0;
  const logProfile = epp?.failures.failedToRunSchedulerProfile ?? 0;
  const status429 = (records ?? []).filter((r) => r.status === 429).length;
  const evidence = {
    sources: [epp ? 'EPP log' : '', records ? 'response bodies' : ''].filter(Boolean),
    eppLog: epp ? { ...epp.failures } : null,
    responses: records
      ? { InferencePoolResourceExhausted: exhaustedBodies.length, failedToRunSchedulerProfile: profileBodies.length, status429 }
      : null,
    ...((exhaustedBodies[0] ?? profileBodies[0]) ? { sampleBody: (exhaustedBodies[0] ?? profileBodies[0])!.errorBody!.slice(0, 200) } : {}),
  };
  const parts: string[] = [];
  if (logExhausted || logProfile) parts.push(`the EPP log has ${logExhausted} ${EXHAUSTED} and ${logProfile} "${PROFILE_FAILED}" lines`);
  if (exhaustedBodies.length || profileBodies.length) {
    const n = new Set([...exhaustedBodies, ...profileBodies]).size;
    parts.push(`${plural(n, 'response')} ${n === 1 ? 'carries' : 'carry'} ${exhaustedBodies.length ? EXHAUSTED : `"${PROFILE_FAILED}"`}`);
  }
  const ok = parts.length === 0;
  const summary = ok ? `no scheduling failures in ${evidence.sources.join(' or ')}` : parts.join('; ');
  return verdict(name, ok, summary, evidence, {
    expected: 0,
    actual: logExhausted + logProfile + exhaustedBodies.length + profileBodies.length,
  });
}

export const noSchedulingFailuresCriterion = defineCriterion({
  name: 'noSchedulingFailures',
  description: 'No InferencePoolResourceExhausted and no "failed to run scheduler profile".',
  schema: z.union([z.strictObject({}), z.null()], { error: 'takes no settings: write noSchedulingFailures: {}' }).transform(() => ({})),
  failureCause: 'no-candidate',
  evaluate: noSchedulingFailures,
});
