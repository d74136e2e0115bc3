/**
 * Whether a controller has acted on an object's latest spec: the `status.observedGeneration` convention
 * (Kubernetes API conventions, "Typical status properties": a controller sets it to the `metadata.generation`
 * it acted on). Pure rules here; reading the object and its CRD is the caller's.
 *
 * An object whose status has no `observedGeneration` yet is not taken as reconciled when its kind declares
 * one: its controller has not written its first status (a SchedulerInstall patched right after it was
 * applied, before its operator rendered it once). Only a kind that declares none — no controller reports
 * progress this way — is taken as reconciled at once.
 */

export interface ReconcileVerdict {
  done: boolean;
  state: string;
}

interface Generational {
  metadata?: { generation?: number };
  status?: unknown;
}

/**
 * Built-in kinds whose controllers write `status.observedGeneration` (k8s.io/api: apps/v1 Deployment,
 * StatefulSet, DaemonSet, ReplicaSet; autoscaling/v2 HorizontalPodAutoscaler).
 */
const BUILT_IN_REPORTING = new Set([
  'apps/v1/Deployment',
  'apps/v1/StatefulSet',
  'apps/v1/DaemonSet',
  'apps/v1/ReplicaSet',
  'autoscaling/v2/HorizontalPodAutoscaler',
]);

export function builtInReportsObservedGeneration(apiVersion: string, kind: string): boolean {
  return BUILT_IN_REPORTING.has(`${apiVersion}/${kind}`);
}

interface CrdLike {
  spec?: {
    versions?: {
      name?: string;
      schema?: { openAPIV3Schema?: { properties?: { status?: { properties?: Record<string, unknown> } } } };
    }[];
  };
}

/** Whether a CRD's schema for `version` declares `status.observedGeneration` (a top-level status field). */
export function crdDeclaresObservedGeneration(crd: CrdLike, version: string): boolean {
  const v = crd.spec?.versions?.find((x) => x.name === version);
  return v?.schema?.openAPIV3Schema?.properties?.status?.properties?.['observedGeneration'] !== undefined;
}

/** The verdict on one reading of the object; `reports`: its kind declares `status.observedGeneration`. */
export function judgeReconciled(obj: Generational, reports: boolean): ReconcileVerdict {
  const generation = obj.metadata?.generation;
  const observed = (obj.status as { observedGeneration?: number } | undefined)?.observedGeneration;
  if (generation === undefined) return { done: true, state: 'no metadata.generation' };
  if (observed === undefined) {
    return reports
      ? { done: false, state: `generation ${generation}, no status.observedGeneration yet (not reconciled once)` }
      : { done: true, state: 'its kind reports no status.observedGeneration' };
  }
  return { done: observed >= generation, state: `generation ${generation}, observed ${observed}` };
}
