import type { FaultName } from './faults/schemas.ts';

/** The faults a suite can declare, by their key in `spec.faults` (from the fault registry, chaos/faults/schemas.ts). */
export type FaultKind = FaultName;

/** A pod as the chaos code needs it: enough to choose, guard, act and verify. */
export interface PodInfo {
  name: string;
  namespace: string;
  uid: string;
  labels: Record<string, string>;
  podIP?: string;
  restartCount: number;
  /** Kind of the controlling owner (ReplicaSet for a Deployment's pod); absent for a bare pod. */
  ownerKind?: string;
  ready: boolean;
  /** Phase Succeeded (kubectl shows `Completed`): a Job's pod that ran to the end, e.g. k6-operator's initializer. */
  completed: boolean;
}

/** When a fault fires: `at` ms into the load, or once `afterRequests` requests have completed. */
export type Trigger = { at: number } | { afterRequests: number };

/** One thing a fault did, for the timeline and the report. */
export interface FaultEvent {
  /** Epoch ms. */
  t: number;
  fault: number;
  kind: FaultKind;
  targets: { pod: string; uidBefore?: string; uidAfter?: string }[];
  detail: string;
}

/** A pod that changed between two polls (new uid, phase, readiness or restart count). */
export interface PodChange {
  t: number;
  pod: string;
  namespace: string;
  uid: string;
  phase: string;
  ready: boolean;
  restartCount: number;
  /** created | changed | deleted */
  change: 'created' | 'changed' | 'deleted';
}
