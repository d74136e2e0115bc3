import type { Cluster } from '../cluster/driver.ts';
import type { ManifestObject } from '../cluster/manifests.ts';
import { parseRef } from '../cluster/refs.ts';
import type { Fault, Suite } from '../suites/schema.ts';
import { formatDuration } from '../suites/durations.ts';
import type { GuardSubject } from './guard.ts';
import { deploymentSelector, livePods } from './pods.ts';
import { seedFromText } from '../k8s-rules/prng.ts';
import { describeTrigger, triggerOf } from './schedule.ts';
import { choosePods, describeMode } from './select.ts';
import type { FaultKind, PodInfo, Trigger } from './types.ts';

/** What one fault will do, resolved against the cluster as it is now. */
export interface PlannedFault {
  index: number;
  kind: FaultKind;
  fault: Fault;
  trigger: Trigger;
  namespace: string;
  /** The label selector of the pods it acts on (a Deployment's for eppRestart). */
  selector?: string;
  /** Every pod the fault may act on now. */
  candidates: PodInfo[];
  /** The ones it would act on now (podKill: the mode's seeded pick; others: all candidates). */
  chosen: PodInfo[];
  /** podKill's seed (the same seed over the same pods picks the same ones). */
  seed?: number;
  /** What it does, in words. */
  action: string;
  /** Something a reader should know (e.g. nothing is injected on a real cluster). */
  note?: string;
  /** Why it cannot run on this target (judged before anything happens). */
  refusal?: string;
}

export interface PlanOptions {
  /** The twin: faults can use the simulators' /_twin/faults endpoints. */
  twin: boolean;
  /** Base seed; default the suite name (the `seed` option fixture, PD_HARNESS_SEED at the config, sets it). */
  seed?: string;
  /** The suite's deploy manifests: killed bare pods are re-created from them. */
  manifests?: ManifestObject[];
}

export function faultBody(fault: Fault): { kind: FaultKind; body: Record<string, unknown> & { namespace: string } } {
  const kind = Object.keys(fault)[0] as FaultKind;
  return { kind, body: (fault as Record<string, Record<string, unknown> & { namespace: string }>)[kind]! };
}

type FaultOf<K extends FaultKind> = Extract<Fault, Record<K, unknown>>[K];

/** The settings of a fault of a known kind (a fault is a one-key object). */
export function faultAs<K extends FaultKind>(fault: Fault, kind: K): FaultOf<K> {
  const body = (fault as Record<string, unknown>)[kind];
  if (!body) throw new Error(`not a ${kind} fault`);
  return body as FaultOf<K>;
}

export function faultSeed(base: string, index: number): number {
  return seedFromText(`${base}#${index}`);
}

/** Resolves every fault against the cluster (reads only). */
export async function planFaults(cluster: Cluster | undefined, suite: Suite, opts: PlanOptions): Promise<PlannedFault[]> {
  const base = opts.seed ?? suite.metadata.name;
  const out: PlannedFault[] = [];
  for (const [index, fault] of suite.spec.faults.entries()) {
    const { kind, body } = faultBody(fault);
    const trigger = triggerOf(fault);
    const namespace = body.namespace;
    const planned: PlannedFault = { index, kind, fault, trigger, namespace, candidates: [], chosen: [], action: '' };
    if (kind === 'eppRestart') {
      const ref = parseRef(faultAs(fault, 'eppRestart').ref, namespace);
      const selector = cluster ? await deploymentSelector(cluster, namespace, ref.name) : undefined;
      if (selector) planned.selector = selector;
      planned.action =
        faultAs(fault, 'eppRestart').how === 'rollout'
          ? `rollout restart ${faultAs(fault, 'eppRestart').ref}`
          : `kill the pod(s) of ${faultAs(fault, 'eppRestart').ref} (delete, grace 0)`;
      if (cluster && selector === undefined) planned.note = `${faultAs(fault, 'eppRestart').ref} not found in ${namespace}`;
    } else {
      planned.selector = body.selector as string;
    }
    if (cluster && planned.selector !== undefined) planned.candidates = await livePods(cluster, namespace, planned.selector);
    planned.chosen = planned.candidates;
    if (kind === 'podKill') {
      const pk = faultAs(fault, 'podKill');
      planned.seed = faultSeed(base, index);
      planned.chosen = choosePods(planned.candidates, pk.mode, planned.seed);
      const how = pk.gracePeriod === undefined ? 'SIGKILL (delete, grace 0)' : `delete with grace ${formatDuration(pk.gracePeriod)}`;
      planned.action = `${how}: mode ${describeMode(pk.mode)} of the pods ${pk.selector}`;
      const bare = planned.candidates.filter((p) => !p.ownerKind);
      const noManifest = bare.filter((p) => !manifestFor(opts.manifests ?? [], p));
      if (noManifest.length) {
        planned.refusal = `bare pod(s) ${noManifest.map((p) => p.name).join(', ')} have no manifest in spec.deploy: a killed bare pod could not be re-created`;
      } else if (bare.length) {
        planned.note = `bare pods are re-created from the suite's manifests right after the kill`;
      }
    } else if (kind === 'decodeIndexError') {
      const trig = faultAs(fault, 'decodeIndexError').trigger;
      const when =
        trig === 'abortedKv'
          ? 'when a KV block arrives for an aborted request'
          : 'afterRequests' in trig
            ? `after ${trig.afterRequests} requests`
            : `with probability ${trig.probability} (seed ${trig.seed})`;
      planned.action = `decode IndexError ${when}`;
      if (opts.twin) planned.note = "twin: POST the trigger to each pod's /_twin/faults";
      else
        planned.note =
          'real cluster: nothing is injected; the load pattern (concurrency, prompt length, client timeout) is what may provoke the IndexError';
    } else if (kind === 'latency') {
      const f = faultAs(fault, 'latency');
      planned.action = `add ${formatDuration(f.add)} latency${forHowLong(f.duration)}`;
      if (!opts.twin)
        planned.refusal = "latency faults use the twin simulators' fault endpoint; on a real cluster use a service mesh fault instead";
    } else if (kind === 'errorRate') {
      const f = faultAs(fault, 'errorRate');
      planned.action = `answer ${Math.round(f.rate * 100)}% of requests with ${f.status}${forHowLong(f.duration)}`;
      if (!opts.twin)
        planned.refusal = "errorRate faults use the twin simulators' fault endpoint; on a real cluster use a service mesh fault instead";
    }
    out.push(planned);
  }
  return out;
}

function forHowLong(ms: number | undefined): string {
  return ms !== undefined ? ` for ${formatDuration(ms)}` : ' until the load ends';
}

export function manifestFor(manifests: readonly ManifestObject[], pod: { name: string; namespace: string }): ManifestObject | undefined {
  return manifests.find((m) => m.kind === 'Pod' && m.metadata.name === pod.name && (m.metadata.namespace ?? 'default') === pod.namespace);
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
