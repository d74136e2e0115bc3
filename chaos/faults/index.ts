/**
 * The faults, once: each is its spec (name, description, schema: chaos/faults/schemas.ts, from which the suite
 * schema's `spec.faults` items are built) paired with its injector (`inject` returns the outcome: the event,
 * `restored`, `verify` and `undo`, the restore). FAULT_DEFINITIONS is typed by fault name, so a fault spec
 * without an injector does not compile, and `FAULTS` is what the runner calls.
 */
import type { FaultName } from './schemas.ts';
import { eppRestartFault } from './epp-restart.ts';
import { podKillFault } from './pod-kill.ts';
import { decodeIndexErrorFault, errorRateFault, latencyFault } from './twin-faults.ts';
import type { FaultContext, FaultDefinition, FaultOutcome } from './types.ts';

export type { FaultContext, FaultDefinition, FaultOutcome } from './types.ts';

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
