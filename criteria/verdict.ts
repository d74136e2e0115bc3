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
}

export function verdict(
  name: string,
  ok: boolean,
  summary: string,
  evidence: Record<string, unknown>,
  extra: { expected?: unknown; actual?: unknown } = {},
): Verdict {
  return { name, ok, summary, evidence, ...extra };
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
