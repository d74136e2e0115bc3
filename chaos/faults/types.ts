import type { Cluster } from '../../cluster/driver.ts';
import type { ManifestObject } from '../../cluster/manifests.ts';
import type { PlannedFault } from '../plan.ts';
import type { FaultEvent, PodInfo } from '../types.ts';
import type { FaultName, FaultSpec } from './schemas.ts';

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

/** A fault: its spec (name, description, the only schema of its settings) and the code that injects it. */
export interface FaultDefinition<N extends FaultName = FaultName> extends FaultSpec<N> {
  /** Injects the fault into the pods of `ctx`; the outcome says how to verify it, wait for it and undo it. */
  inject(ctx: FaultContext): Promise<FaultOutcome>;
}

/** Pairs a fault's spec with its injector. */
export function defineFault<N extends FaultName>(
  spec: FaultSpec<N>,
  inject: (ctx: FaultContext) => Promise<FaultOutcome>,
): FaultDefinition<N> {
  return { ...spec, inject };
}
