import type { Criterion } from '../criteria/registry.ts';
import { verdict, type Verdict } from '../criteria/verdict.ts';
import type { Suite } from '../suites/schema.ts';
import type { FaultsPhaseResult } from './faults-phase.ts';

/** The suite's criteria, plus `recovery` from spec.recovery when the criteria do not name it themselves. */
export function criteriaOf(suite: Suite): Criterion[] {
  const criteria: Criterion[] = [...suite.spec.criteria];
  if (suite.spec.recovery && !suite.spec.criteria.some((c) => 'recovery' in c)) criteria.push({ recovery: suite.spec.recovery });
  return criteria;
}

/** A verdict that every fault fired and really happened (uid changed, restart counted, EPP pod replaced). */
export function faultsHappened(chaos: Pick<FaultsPhaseResult, 'events' | 'problems'>): Verdict {
  const ok = chaos.problems.length === 0;
  const summary = ok
    ? `${chaos.events.length} fault(s) happened: ${chaos.events.map((e) => `${e.kind} ${e.targets.map((t) => `${t.pod} ${short(t.uidBefore)}→${short(t.uidAfter)}`).join(', ')}`).join('; ')}`
    : chaos.problems.join('; ');
  return verdict('faultsHappened', ok, summary, { events: chaos.events, problems: chaos.problems }, { cause: 'faults' });
}

function short(uid: string | undefined): string {
  return uid ? uid.slice(0, 8) : '?';
}
