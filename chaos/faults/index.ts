import type { FaultKind } from '../types.ts';
import { eppRestart } from './epp-restart.ts';
import { podKill } from './pod-kill.ts';
import { decodeIndexError, errorRate, latency } from './twin-faults.ts';
import type { FaultContext, FaultOutcome } from './types.ts';

export type { FaultContext, FaultOutcome } from './types.ts';

export const FAULTS: Record<FaultKind, (ctx: FaultContext) => Promise<FaultOutcome>> = {
  podKill,
  eppRestart,
  decodeIndexError,
  latency,
  errorRate,
};
