import type { Cluster } from '../cluster/driver.ts';
import type { ManifestObject } from '../cluster/manifests.ts';
import type { Fault, Suite } from '../suites/schema.ts';
import type { GuardSubject } from './guard.ts';
import { faultBody, faultSeed } from './faults/common.ts';
import { planFault, type FaultPlan } from './faults/index.ts';
import { describeTrigger, triggerOf } from './schedule.ts';
import type { FaultKind, Trigger } from './types.ts';

/** What one fault will do, resolved against the cluster as it is now: its own plan (FaultPlan) and where it sits. */
export interface PlannedFault extends FaultPlan {
  index: number;
  kind: FaultKind;
  fault: Fault;
  trigger: Trigger;
  namespace: string;
}

export interface PlanOptions {
  /** The twin: faults can use the simulators' /_twin/faults endpoints. */
  twin: boolean;
  /** Base seed; default the suite name (the `seed` option fixture, PD_HARNESS_SEED at the config, sets it). */
  seed?: string;
  /** The suite's deploy manifests: killed bare pods are re-created from them. */
  manifests?: ManifestObject[];
}

/** Resolves every fault against the cluster (reads only): each fault's own plan (chaos/faults/), with its trigger. */
export async function planFaults(cluster: Cluster | undefined, suite: Suite, opts: PlanOptions): Promise<PlannedFault[]> {
  const base = opts.seed ?? suite.metadata.name;
  const out: PlannedFault[] = [];
  for (const [index, fault] of suite.spec.faults.entries()) {
    const { kind, body } = faultBody(fault);
    const own = await planFault(kind, body, { cluster, twin: opts.twin, seed: faultSeed(base, index), manifests: opts.manifests ?? [] });
    out.push({ index, kind, fault, trigger: triggerOf(fault), namespace: body.namespace, ...own });
  }
  return out;
}

export function guardSubjects(plan: readonly PlannedFault[]): GuardSubject[] {
  return plan.map((p) => ({ index: p.index, kind: p.kind, namespace: p.namespace, pods: p.candidates }));
}

/** Problems that stop the run before anything happens: refusals, and faults with nothing to act on. */
export function planProblems(plan: readonly PlannedFault[], opts: { requirePods: boolean }): string[] {
  const problems: string[] = [];
  for (const p of plan) {
    const name = `fault ${p.index + 1} (${p.kind})`;
    if (p.refusal) problems.push(`${name}: ${p.refusal}`);
    else if (opts.requirePods && p.candidates.length === 0)
      problems.push(`${name}: no pod matches ${p.selector ?? '(no selector)'} in ${p.namespace}${p.note ? ` (${p.note})` : ''}`);
  }
  return problems;
}

/** The plan as text: one block per fault, with the pods it would act on now. */
export function formatPlan(suiteName: string, plan: readonly PlannedFault[]): string {
  const lines = [`chaos plan for suite ${suiteName}: ${plan.length} fault(s)`];
  for (const p of plan) {
    lines.push(`${p.index + 1}. ${p.kind} ${describeTrigger(p.trigger)}, in ${p.namespace}: ${p.action}`);
    if (p.selector !== undefined) lines.push(`   selector: ${p.selector}`);
    if (p.seed !== undefined) lines.push(`   seed: ${p.seed}`);
    if (p.candidates.length === 0) lines.push('   pods now: none match');
    for (const pod of p.candidates) {
      const picked = p.chosen.some((c) => c.uid === pod.uid);
      lines.push(
        `   ${picked ? '*' : ' '} ${pod.name} uid ${pod.uid}${pod.podIP ? ` ip ${pod.podIP}` : ''}${pod.ownerKind ? ` (owned by a ${pod.ownerKind})` : ' (bare pod)'}${pod.ready ? '' : ' not ready'}`,
      );
    }
    if (p.note) lines.push(`   note: ${p.note}`);
    if (p.refusal) lines.push(`   REFUSED: ${p.refusal}`);
  }
  return `${lines.join('\n')}\n`;
}
