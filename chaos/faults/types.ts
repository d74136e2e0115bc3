import type { Cluster } from '../../cluster/driver.ts';
import type { ManifestObject } from '../../cluster/manifests.ts';
import type { PlannedFault } from '../plan.ts';
import type { FaultEvent, PodInfo } from '../types.ts';
import type { z } from '#zod';
import type { PlannedWrite, Verb } from '../write-set.ts';
import type { FaultName, FaultSchemas, FaultSpec } from './schemas.ts';

/** A fault's settings as the suite schema parsed them (defaults filled in). */
export type FaultSettings<N extends FaultName> = z.output<FaultSchemas[N]>;

export interface FaultPlanContext {
  /** The cluster as it is now; undefined for a static plan (the dry run on a twin not started yet). */
  cluster: Cluster | undefined;
  /** The twin: faults can use the simulators' /_twin/faults endpoints. */
  twin: boolean;
  /** This fault's seed (chaos/faults/common.ts faultSeed). */
  seed: number;
  /** The suite's deploy manifests: killed bare pods are re-created from them. */
  manifests: readonly ManifestObject[];
}

/** The fault's own part of its plan (chaos/plan.ts PlannedFault adds index, kind, trigger and namespace). */
export interface FaultPlan {
  /** The label selector of the pods it acts on (a Deployment's for eppRestart). */
  selector?: string;
  /** Every pod the fault may act on now. */
  candidates: PodInfo[];
  /** The ones it would act on now. */
  chosen: PodInfo[];
  /** The seed of a random pick, when the fault makes one. */
  seed?: number;
  /** What it does, in words. */
  action: string;
  /** Something a reader should know (e.g. nothing is injected on a real cluster). */
  note?: string;
  /** Why it cannot run on this target (judged before anything happens). */
  refusal?: string;
}

/** Builders for the writes a fault makes, from `spec.faults[i]` in its namespace (chaos/write-set.ts). */
export interface FaultWriteContext {
  /** Pods of the fault's namespace chosen when it fires (name `*`). */
  pods(what: string, verbs: Verb[]): PlannedWrite;
  /** One object named by a workload ref (`deploy/x`) in the fault's namespace. */
  ref(text: string, verbs: Verb[], what: string): PlannedWrite;
}

export interface FaultContext {
  cluster: Cluster;
  twin: boolean;
  planned: PlannedFault;
  /** The pods the fault acts on, resolved when it fires (and already passed by the guard). */
  pods: PodInfo[];
  manifests: readonly ManifestObject[];
  log: (line: string) => void;
}

export interface FaultOutcome {
  event: FaultEvent;
  /** Checked after recovery: returns a problem when the fault did not really happen. */
  verify(): Promise<string | undefined>;
  /**
   * What still has to come back before the fault counts as recovered (a replacement pod, a restart), or
   * undefined when it is back. Steady state must hold as well.
   */
  restored(): Promise<string | undefined>;
  /** Undo what the fault set outside Kubernetes (the twin's fault endpoints); called after the load. */
  undo?(): Promise<void>;
}

/** What a fault does besides its spec: its plan, its writes and its injection. */
export interface FaultBehaviour<N extends FaultName = FaultName> {
  /** Resolves what it will do against the cluster as it is now (reads only), or statically without one. */
  plan(settings: FaultSettings<N>, ctx: FaultPlanContext): Promise<FaultPlan>;
  /** Every write it makes, for the guard and the dry run (pure). */
  writes(settings: FaultSettings<N>, ctx: FaultWriteContext): PlannedWrite[];
  /** Injects the fault into the pods of `ctx`; the outcome says how to verify it, wait for it and undo it. */
  inject(ctx: FaultContext): Promise<FaultOutcome>;
}

/** A fault: its spec (name, description, the only schema of its settings), its plan, its writes and its injector. */
export interface FaultDefinition<N extends FaultName = FaultName> extends FaultSpec<N>, FaultBehaviour<N> {}

/** Pairs a fault's spec with what it does. */
export function defineFault<N extends FaultName>(spec: FaultSpec<N>, behaviour: FaultBehaviour<N>): FaultDefinition<N> {
  return { ...spec, ...behaviour };
}
