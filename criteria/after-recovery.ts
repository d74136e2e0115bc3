import type { Observations } from './observations.ts';
import { verdict, type Verdict } from './verdict.ts';

/** EPP log lines at or after `sinceMs` (their zap `ts` is epoch seconds); lines without a ts are kept. */
export function eppLinesSince(lines: readonly string[], sinceMs: number): string[] {
  return lines.filter((line) => {
    const m = /"ts":\s*([0-9.]+)/.exec(line);
    return !m || Number(m[1]) * 1000 >= sinceMs;
  });
}

/**
 * A criterion judged only on what happened after recovery (steady state held again after the faults): EPP
 * decisions logged from then on, and requests started from then on (`proxiesChosen: {afterRecovery: true}`).
 */
export function judgedAfterRecovery(
  name: string,
  expected: unknown,
  obs: Observations,
  judge: (windowed: Observations) => Verdict,
): Verdict {
  const at = obs.recovery?.recoveredAtMs;
  if (at === undefined) {
    return verdict(
      name,
      false,
      'after recovery: no recovery point (no fault, or steady state never held again)',
      {},
      { expected, cause: 'no-data' },
    );
  }
  const { eppDecisions: _drop, ...rest } = obs;
  const windowed: Observations = {
    ...rest,
    ...(obs.eppLogLines ? { eppLogLines: eppLinesSince(obs.eppLogLines, at) } : {}),
    ...(obs.load ? { load: { ...obs.load, records: obs.load.records.filter((r) => r.startMs >= at) } } : {}),
  };
  const v = judge(windowed);
  return { ...v, summary: `after recovery (${new Date(at).toISOString()}): ${v.summary}`, evidence: { ...v.evidence, recoveredAtMs: at } };
}
