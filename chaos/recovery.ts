import type { RequestRecord } from '../load/result.ts';

/** Pure maths over load records and steady-state times: error window, error rate, time to recovery. */

/** No status, an error status, or a 2xx stream that carried an error event (`error: 'stream-error'`). */
export function isFailed(r: Pick<RequestRecord, 'status' | 'error'>): boolean {
  return r.status === undefined || r.status >= 400 || r.error !== undefined;
}

/** Failed requests over all requests, 0..1 (0 for no requests). */
export function errorRate(records: readonly RequestRecord[]): number {
  if (records.length === 0) return 0;
  return records.filter(isFailed).length / records.length;
}

/**
 * The error window after a fault: from the first failed request that ended at or after the fault (its start,
 * not earlier than the fault) to the end of the last such failure. 0 with no failure.
 */
export function errorWindow(
  records: readonly RequestRecord[],
  faultAtMs: number,
): { ms: number; firstMs?: number; lastMs?: number; failures: number } {
  const failed = records.filter((r) => isFailed(r) && r.startMs + r.latencyMs >= faultAtMs);
  if (failed.length === 0) return { ms: 0, failures: 0 };
  const firstMs = Math.min(...failed.map((r) => Math.max(r.startMs, faultAtMs)));
  const lastMs = Math.max(...failed.map((r) => r.startMs + r.latencyMs));
  return { ms: Math.max(0, lastMs - firstMs), firstMs, lastMs, failures: failed.length };
}

/** One fault's recovery: fault time and the first time steady state held again (undefined: never). */
export interface FaultRecovery {
  fault: number;
  faultAtMs: number;
  recoveredAtMs?: number;
}

export function recoveryMs(r: FaultRecovery): number | null {
  return r.recoveredAtMs === undefined ? null : Math.max(0, r.recoveredAtMs - r.faultAtMs);
}

export interface RecoverySummary {
  /** The slowest fault's recovery; null when any fault never recovered. */
  recoveryMs: number | null;
  /** Error window from the first fault on. */
  errorWindowMs: number;
  errorRate: number;
  /** When the last fault's steady state held again (epoch ms): decisions after this are "after recovery". */
  recoveredAtMs?: number;
  firstFaultAtMs?: number;
}

export function summarizeRecovery(records: readonly RequestRecord[], recoveries: readonly FaultRecovery[]): RecoverySummary {
  const rate = errorRate(records);
  if (recoveries.length === 0) return { recoveryMs: null, errorWindowMs: 0, errorRate: rate };
  const firstFaultAtMs = Math.min(...recoveries.map((r) => r.faultAtMs));
  const times = recoveries.map(recoveryMs);
  const never = times.some((t) => t === null);
  const recoveredAts = recoveries.map((r) => r.recoveredAtMs).filter((t): t is number => t !== undefined);
  return {
    recoveryMs: never ? null : Math.max(...(times as number[])),
    errorWindowMs: errorWindow(records, firstFaultAtMs).ms,
    errorRate: rate,
    ...(!never && recoveredAts.length ? { recoveredAtMs: Math.max(...recoveredAts) } : {}),
    firstFaultAtMs,
  };
}
