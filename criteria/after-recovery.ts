import type { Observations } from './observations.ts';
import { proxiesChosen, type ProxiesChosenInput } from './proxies-chosen.ts';
import { verdict, type Verdict } from './verdict.ts';

/** EPP log lines at or after `sinceMs` (their zap `ts` is epoch seconds); lines without a ts are kept. */
export function eppLinesSince(lines: readonly string[], sinceMs: number): string[] {
  return lines.filter((line) => {
    const m = /"ts":\s*([0-9.]+)/.exec(line);
    return !m || Number(m[1]) * 1000 >= sinceMs;
  });
}

/**
 * proxiesChosen judged only on what happened after recovery (steady state held again after the faults):
 * EPP decisions logged from then on, and requests started from then on for the response-id cross-check.
 */
export function proxiesChosenAfterRecovery(input: ProxiesChosenInput, obs: Observations): Verdict {
  const at = obs.recovery?.recoveredAtMs;
  if (at === undefined) {
    return verdict(
      'proxiesChosen',
      false,
      'after recovery: no recovery point (no fault, or steady state never held again)',
      {},
      { expected: input },
    );
  }
  const { eppDecisions: _drop, ...rest } = obs;
  const windowed: Observations = {
    ...rest,
    ...(obs.eppLogLines ? { eppLogLines: eppLinesSince(obs.eppLogLines, at) } : {}),
    ...(obs.load ? { load: { ...obs.load, records: obs.load.records.filter((r) => r.startMs >= at) } } : {}),
  };
  const v = proxiesChosen(input, windowed);
  return { ...v, summary: `after recovery (${new Date(at).toISOString()}): ${v.summary}`, evidence: { ...v.evidence, recoveredAtMs: at } };
}
