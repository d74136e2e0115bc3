/**
 * Why a verdict failed, typed: set by the evaluator (or the criterion's `failureCause`), never read from the
 * summary text. Report categories (reporters/categories.ts) are derived from it.
 */
export const FAILURE_CAUSES = [
  /** The criterion's settings are invalid, or there is no such criterion. */
  'invalid-criterion',
  /** What the criterion needs was not observed (no EPP log, no load, no recovery measurement, ...). */
  'no-data',
  /** The deployed configuration is not as required: HTTPRoute backend / conditions, EPP plugins. */
  'config',
  /** The EPP left no candidate: InferencePoolResourceExhausted, "failed to run scheduler profile". */
  'no-candidate',
  /** Load did not split over the proxies as required, or a variant went to the wrong proxy. */
  'routing',
  /** Requests did not get the expected statuses (or were not rejected as expected). */
  'responses',
  /** Decode did not reuse the prefill's KV often enough. */
  'kv-transfer',
  /** After a fault, recovery took too long, never came, or too many requests failed. */
  'recovery',
  /** k6 thresholds crossed. */
  'thresholds',
  /** A fault did not fire or did not really happen. */
  'faults',
  /** The evaluator itself failed (a harness bug). */
  'evaluator-error',
] as const;

export type FailureCause = (typeof FAILURE_CAUSES)[number];

/** The outcome of one success criterion, with what it saw. */
export interface Verdict {
  /** The criterion's key, e.g. `proxiesChosen`. */
  name: string;
  ok: boolean;
  /** One line a person reads first: what held or what broke, with numbers. */
  summary: string;
  /** A small JSON object with the facts behind the verdict. */
  evidence: Record<string, unknown>;
  expected?: unknown;
  actual?: unknown;
  /** Why it failed; present exactly when `ok` is false. */
  cause?: FailureCause;
}

export function verdict(
  name: string,
  ok: boolean,
  summary: string,
  evidence: Record<string, unknown>,
  extra: { expected?: unknown; actual?: unknown; cause?: FailureCause } = {},
): Verdict {
  const { cause, ...rest } = extra;
  return { name, ok, summary, evidence, ...rest, ...(!ok && cause ? { cause } : {}) };
}

/** The verdict with its cause settled: `fallback` when it failed without one, none when it passed. */
export function withCause(v: Verdict, fallback: FailureCause): Verdict {
  if (v.ok) {
    if (v.cause === undefined) return v;
    const { cause: _drop, ...rest } = v;
    return rest;
  }
  return v.cause ? v : { ...v, cause: fallback };
}

/** `1 request` / `3 requests`. */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** `0.533` → `53.3%`. */
export function pct(ratio: number): string {
  return `${(ratio * 100).toFixed(1)}%`;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
