import fastJsonPatch, { type Operation } from 'fast-json-patch';
import { PatchStrategy } from '#client-node';
import { deployManifests } from '../cluster/deploy.ts';
import type { Cluster } from '../cluster/driver.ts';
import { waitCondition, waitExists, waitPodsReady, waitRollout } from '../cluster/observe.ts';
import { mergePatchBetween, stripServerFields } from '../cluster/patches.ts';
import { builtInReportsObservedGeneration, crdDeclaresObservedGeneration, judgeReconciled } from '../cluster/reconciled.ts';
import { parseRef, type ObjectRef } from '../cluster/refs.ts';
import { waitFor } from '../cluster/waits.ts';
import type { Suite } from '../suites/schema.ts';
import { DEFAULT_TIMEOUTS, type TimeoutConfig } from '../core/timeouts.ts';
import type { RunReporter } from './reporter.ts';

type SetupStep = Suite['spec']['setup'][number];
type WaitFor = Extract<SetupStep, { wait: unknown }>['wait']['for'];

export function describeSetupStep(step: SetupStep): string {
  if ('patch' in step && step.patch) return `patch ${step.patch.ref} -n ${step.patch.namespace}`;
  if ('apply' in step && step.apply) return `apply ${step.apply.file}`;
  if ('rolloutRestart' in step && step.rolloutRestart)
    return `rollout restart ${step.rolloutRestart.ref} -n ${step.rolloutRestart.namespace}`;
  if ('wait' in step && step.wait) return `wait for ${describeWait(step.wait.for)}`;
  return 'unknown step';
}

function describeWait(w: WaitFor): string {
  if ('podsReady' in w && w.podsReady) return `pods ${w.podsReady.selector ?? '(all)'} Ready in ${w.podsReady.namespace}`;
  if ('rollout' in w && w.rollout) return `rollout of ${w.rollout.ref} in ${w.rollout.namespace}`;
  if ('condition' in w && w.condition) return `${w.condition.ref} ${w.condition.type}=${w.condition.status}`;
  return '?';
}

/** One setup step; its waits take the suite's own `timeout` where it has one, else the run's named timeouts. */
export async function runSetupStep(cluster: Cluster, step: SetupStep, timeouts: Readonly<TimeoutConfig> = DEFAULT_TIMEOUTS): Promise<void> {
  if ('patch' in step && step.patch) {
    const ref = parseRef(step.patch.ref, step.patch.namespace);
    if (step.patch.merge) await cluster.mergePatch(ref, step.patch.merge);
    else await jsonPatch(cluster, ref, step.patch.json as Operation[]);
    await waitReconciled(cluster, ref, timeouts.reconcile);
  } else if ('apply' in step && step.apply) {
    await deployManifests(cluster, [step.apply.file], timeouts.deploy);
  } else if ('rolloutRestart' in step && step.rolloutRestart) {
    const ref = parseRef(step.rolloutRestart.ref, step.rolloutRestart.namespace);
    // the operator may not have rendered the Deployment yet (a SchedulerInstall applied just before, on a busy cluster)
    await waitExists(cluster, ref, step.rolloutRestart.timeout);
    await cluster.rolloutRestart(ref.namespace!, ref.name);
    await waitRollout(cluster, ref.namespace!, ref.name, step.rolloutRestart.timeout);
  } else if ('wait' in step && step.wait) {
    await runWait(cluster, step.wait.for, step.wait.timeout);
  }
}

async function runWait(cluster: Cluster, w: WaitFor, timeoutMs: number): Promise<void> {
  if ('podsReady' in w && w.podsReady) {
    await waitPodsReady(cluster, { namespace: w.podsReady.namespace, selector: w.podsReady.selector, timeoutMs });
  } else if ('rollout' in w && w.rollout) {
    const ref = parseRef(w.rollout.ref, w.rollout.namespace);
    await waitRollout(cluster, ref.namespace!, ref.name, timeoutMs);
  } else if ('condition' in w && w.condition) {
    await waitCondition(cluster, parseRef(w.condition.ref, w.condition.namespace), w.condition.type, w.condition.status, timeoutMs);
  }
}

/** RFC 6902 patch; the fields it touched are registered to be put back. */
async function jsonPatch(cluster: Cluster, ref: ObjectRef, ops: Operation[]): Promise<void> {
  const before = stripServerFields(await cluster.read(ref));
  // applied locally first: an op that does not apply (a missing path, a failed test) is refused before anything is sent
  let after: Record<string, unknown>;
  try {
    after = fastJsonPatch.applyPatch(structuredClone(before), ops, true, false).newDocument as Record<string, unknown>;
  } catch (err) {
    throw new Error(`JSON patch of ${ref.kind}/${ref.name}: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  const restore = mergePatchBetween(stripServerFields(after), before);
  cluster.cleanup.add({
    type: 'restore',
    ref: { apiVersion: ref.apiVersion, kind: ref.kind, name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
    patch: restore,
  });
  await cluster.patchRaw(ref, ops, PatchStrategy.JsonPatch);
}

/**
 * A controller-owned object (a SchedulerInstall) reports in status.observedGeneration when it has acted on
 * the new spec. Restarting the EPP before the operator re-rendered its ConfigMap would load the old profile.
 * An object not yet reconciled once (no observedGeneration, though its kind declares one: a SchedulerInstall
 * patched right after the suite applied it) is waited for as well (cluster/reconciled.ts).
 */
async function waitReconciled(cluster: Cluster, ref: ObjectRef, timeoutMs: number): Promise<void> {
  const reports = await reportsObservedGeneration(cluster, ref);
  await waitFor({
    name: `${ref.kind}/${ref.name} reconciled (status.observedGeneration = metadata.generation)`,
    timeoutMs,
    timeoutName: 'reconcile',
    probe: async () => judgeReconciled(await cluster.read(ref), reports),
  });
}

/**
 * Whether the kind's controller reports status.observedGeneration: the built-in workloads do; a custom resource
 * when its CRD's schema declares the field. A CRD that cannot be read (RBAC) counts as not declaring it: the
 * step then goes on as soon as the patch is accepted, as it did before observedGeneration was checked.
 */
async function reportsObservedGeneration(cluster: Cluster, ref: ObjectRef): Promise<boolean> {
  if (builtInReportsObservedGeneration(ref.apiVersion, ref.kind)) return true;
  const slash = ref.apiVersion.indexOf('/');
  if (slash < 0) return false; // core v1: none of its kinds reports it
  const resource = await cluster.resourceOf(ref.apiVersion, ref.kind).catch(() => undefined);
  if (!resource) return false;
  const crdName = `${resource.name}.${ref.apiVersion.slice(0, slash)}`;
  const crd = await cluster
    .tryRead({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: crdName })
    .catch(() => undefined);
  return (
    crd !== undefined &&
    crdDeclaresObservedGeneration(crd as Parameters<typeof crdDeclaresObservedGeneration>[0], ref.apiVersion.slice(slash + 1))
  );
}

export async function runSetup(cluster: Cluster, suite: Suite, rep: RunReporter, timeouts: Readonly<TimeoutConfig>): Promise<void> {
  for (const step of suite.spec.setup) {
    await rep.step(describeSetupStep(step), () => runSetupStep(cluster, step, timeouts));
  }
}
