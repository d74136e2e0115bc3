/** Pure helpers of the reconciler: drift detection and the SchedulerInstall status it writes. */

/**
 * True when every field the operator sets in `desired` has the same value in `actual`. Fields only in
 * `actual` (server defaults, status, `kubectl rollout restart`'s annotation) are not drift. Arrays
 * must match element for element, since the operator owns them whole.
 */
export function containsDesired(desired: unknown, actual: unknown): boolean {
  if (Array.isArray(desired)) {
    if (!Array.isArray(actual) || actual.length !== desired.length) return false;
    return desired.every((d, i) => containsDesired(d, actual[i]));
  }
  if (desired !== null && typeof desired === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
    const a = actual as Record<string, unknown>;
    return Object.entries(desired as Record<string, unknown>).every(([k, v]) => containsDesired(v, a[k]));
  }
  return desired === actual;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface SchedulerInstallStatus {
  observedGeneration?: number;
  conditions: Condition[];
}

export type Outcome = { ok: true; objects: number } | { ok: false; reason: string; message: string };

/**
 * The status to write after a reconcile, or undefined when the current one already says the same
 * (so a status write does not trigger another round). lastTransitionTime moves only when the
 * condition's status flips.
 */
export function nextStatus(
  current: Partial<SchedulerInstallStatus> | undefined,
  generation: number | undefined,
  outcome: Outcome,
  now: Date,
): SchedulerInstallStatus | undefined {
  const prev = current?.conditions?.find((c) => c.type === 'Ready');
  const status: Condition['status'] = outcome.ok ? 'True' : 'False';
  const reason = outcome.ok ? 'Reconciled' : outcome.reason;
  const message = outcome.ok ? `rendered ${outcome.objects} objects` : outcome.message;
  const same =
    prev?.status === status &&
    prev.reason === reason &&
    prev.message === message &&
    prev.observedGeneration === generation &&
    current?.observedGeneration === generation;
  if (same) return undefined;
  const ready: Condition = {
    type: 'Ready',
    status,
    reason,
    message,
    lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : now.toISOString(),
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
  const others = (current?.conditions ?? []).filter((c) => c.type !== 'Ready');
  return { ...(generation !== undefined ? { observedGeneration: generation } : {}), conditions: [...others, ready] };
}

/** Exponential backoff with a cap: 200 ms, 400 ms, ... up to maxMs. */
export function backoffMs(attempt: number, maxMs = 5_000): number {
  return Math.min(maxMs, 200 * 2 ** Math.max(0, Math.min(attempt, 16)));
}
