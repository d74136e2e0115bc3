/**
 * The faults, once: each is its spec (name, description, schema: chaos/faults/schemas.ts, from which the suite
 * schema's `spec.faults` items are built) paired with what it does: `plan` (chaos/plan.ts), `writes`
 * (chaos/write-set.ts) and `inject` (returns the outcome: the event, `restored`, `verify` and `undo`, the
 * restore). FAULT_DEFINITIONS is typed by fault name, so a fault spec without them does not compile, and
 * `FAULTS` is what the runner calls.
 */
import type { FaultName } from './schemas.ts';
import { eppRestartFault } from './epp-restart.ts';
import { podKillFault } from './pod-kill.ts';
import { decodeIndexErrorFault, errorRateFault, latencyFault } from './twin-faults.ts';
import type { PlannedWrite } from '../write-set.ts';
import type { FaultContext, FaultDefinition, FaultOutcome, FaultPlan, FaultPlanContext, FaultWriteContext } from './types.ts';

export type { FaultContext, FaultDefinition, FaultOutcome, FaultPlan, FaultPlanContext, FaultWriteContext } from './types.ts';

/** Every fault's definition, by name. */
export const FAULT_DEFINITIONS: { [K in FaultName]: FaultDefinition<K> } = {
  podKill: podKillFault,
  eppRestart: eppRestartFault,
  decodeIndexError: decodeIndexErrorFault,
  latency: latencyFault,
  errorRate: errorRateFault,
};

/** The injector of each fault, by name. */
export const FAULTS: Record<FaultName, (ctx: FaultContext) => Promise<FaultOutcome>> = Object.fromEntries(
  Object.values(FAULT_DEFINITIONS).map((d) => [d.name, d.inject]),
) as Record<FaultName, (ctx: FaultContext) => Promise<FaultOutcome>>;

/** Fault `name`'s plan, for its settings as the suite schema parsed them. */
export function planFault(name: FaultName, settings: unknown, ctx: FaultPlanContext): Promise<FaultPlan> {
  const plan = FAULT_DEFINITIONS[name].plan as (s: unknown, c: FaultPlanContext) => Promise<FaultPlan>;
  return plan(settings, ctx);
}

/** Fault `name`'s writes, for its settings as the suite schema parsed them. */
export function faultWrites(name: FaultName, settings: unknown, ctx: FaultWriteContext): PlannedWrite[] {
  const writes = FAULT_DEFINITIONS[name].writes as (s: unknown, c: FaultWriteContext) => PlannedWrite[];
  return writes(settings, ctx);
}
