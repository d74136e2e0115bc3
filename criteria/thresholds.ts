import type { ThresholdResult } from '../load/result.ts';
import { verdict, type Verdict } from './verdict.ts';

/** k6 thresholds (from k6, the k6 runtime, or a suite's thresholds over a built-in run): all must hold, as k6's exit 99 says. */
export function thresholdsVerdict(results: readonly ThresholdResult[]): Verdict {
  const crossed = results.filter((t) => !t.ok);
  const list = (ts: readonly ThresholdResult[]) => ts.map((t) => `${t.metric} ${t.expression}`).join(', ');
  return verdict(
    'thresholds',
    crossed.length === 0,
    crossed.length === 0 ? `k6 thresholds held: ${list(results)}` : `k6 thresholds crossed: ${list(crossed)}`,
    { thresholds: results },
    { cause: 'thresholds' },
  );
}
