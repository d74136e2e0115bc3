import type { TargetGuard } from '../suites/schema.ts';
import { matchesLabels, parseLabelSelector } from '../suites/selectors.ts';
import type { FaultKind } from './types.ts';

/** What one fault would act on, as the guard judges it. */
export interface GuardSubject {
  /** 0-based index in spec.faults. */
  index: number;
  kind: FaultKind;
  namespace: string;
  /** Every pod the fault may act on (all candidates, not only the ones a seeded mode picked). */
  pods: { name: string; labels: Record<string, string> }[];
}

export type GuardDecision = { ok: true } | { ok: false; problems: string[]; message: string };

/**
 * The guard: a fault may act only in `target.namespaces`, and, when `target.selectors` is given, only on
 * pods matching at least one of them. All faults are judged before any runs, so a refusal touches nothing.
 */
export function guardFaults(target: TargetGuard, subjects: readonly GuardSubject[]): GuardDecision {
  const namespaces = new Set(target.namespaces);
  const selectors = (target.selectors ?? []).map((text) => ({ text, reqs: parseLabelSelector(text) }));
  const problems: string[] = [];
  for (const s of subjects) {
    const name = `fault ${s.index + 1} (${s.kind})`;
    if (!namespaces.has(s.namespace)) {
      problems.push(`${name} targets namespace ${s.namespace}, outside spec.target.namespaces [${target.namespaces.join(', ')}]`);
      continue;
    }
    if (selectors.length === 0) continue;
    const outside = s.pods.filter((p) => !selectors.some((sel) => matchesLabels(sel.reqs, p.labels)));
    if (outside.length) {
      const names = outside.slice(0, 3).map((p) => p.name).join(', ') + (outside.length > 3 ? ` and ${outside.length - 3} more` : '');
      problems.push(`${name} would act on pod(s) ${names} in ${s.namespace}, matching none of spec.target.selectors [${selectors.map((x) => x.text).join('; ')}]`);
    }
  }
  if (problems.length === 0) return { ok: true };
  return { ok: false, problems, message: `refused by the target guard, nothing was touched: ${problems.join('; ')}` };
}

/** Throws the guard's one-line refusal. */
export function assertGuard(target: TargetGuard, subjects: readonly GuardSubject[]): void {
  const d = guardFaults(target, subjects);
  if (!d.ok) throw new GuardRefusal(d.message);
}

export class GuardRefusal extends Error {
  override name = 'GuardRefusal';
}
