import { EXHAUSTED, PROFILE_FAILED, totalPicks } from '../analysis/epp-decisions.ts';
import { fairSplitExtremeProbability } from './binomial.ts';
import { countByPrefill, workloadForPrefill } from './response-ids.ts';
import { decisionsOf, type Observations } from './observations.ts';
import { pct, plural, verdict, type Verdict } from './verdict.ts';

export interface ProxiesChosenInput {
  workloads: string[];
  /** Smallest share of all picks each workload must get, 0..1. */
  minShare: number;
}

/** Fewest picks for which a monopoly is judged impossible by chance (fair-split probability ≤ k^(1−N)). */
export const MONOPOLY_MIN_PICKS = 10;
/** Largest difference between the EPP's share and the response ids' share of a workload before they "disagree grossly". */
export const CROSS_CHECK_TOLERANCE = 0.25;
/** Fewest requests on each side before the cross-check judges. */
export const CROSS_CHECK_MIN_SAMPLES = 10;

/**
 * The EPP's "Scoring decision" picks are spread over the workloads:
 *  1. there are decisions (none, with scheduling failures logged, names the failure);
 *  2. each workload's share of all picks is at least minShare;
 *  3. binomial sanity bound: with N ≥ 10 picks and k ≥ 2 workloads, one workload taking every pick fails.
 *     Under a fair split the chance of that is k^(1−N) (≤ 0.2% at N = 10, k = 2), so it signals a
 *     filter or scorer that pins traffic, not bad luck. The evidence carries the fair-split probability of
 *     the observed busiest share (union bound k·P(Bin(N, 1/k) ≥ max)) for any N;
 *  4. cross-check against the load's response ids (`___prefill_addr_vllm-prefill-p2p` vs `...-fs`): counts
 *     per backend go into the evidence, and a share differing from the EPP's by more than 25 points (both
 *     sides ≥ 10 samples) fails — the log and the responses then describe different traffic.
 */
export function proxiesChosen(input: ProxiesChosenInput, obs: Observations): Verdict {
  const name = 'proxiesChosen';
  const expected = { workloads: input.workloads, minShare: input.minShare };
  const epp = decisionsOf(obs);
  const idEvidence = obs.load ? countByPrefill(obs.load.records) : undefined;
  if (!epp) return verdict(name, false, 'no EPP log observed: cannot tell which proxies the EPP chose', { responseIds: idEvidence ?? null }, { expected });
  const picks = totalPicks(epp);
  if (epp.decisions === 0 || picks === 0) {
    const f = epp.failures;
    const rejected = (obs.load?.records ?? []).filter((r) => (r.errorBody ?? '').includes(EXHAUSTED)).length;
    const failures = f.InferencePoolResourceExhausted + f.failedToRunSchedulerProfile > 0;
    const summary = failures || rejected
      ? `no Scoring decision in the EPP log: the EPP logged ${f.InferencePoolResourceExhausted} ${EXHAUSTED} and ${f.failedToRunSchedulerProfile} "${PROFILE_FAILED}"${rejected ? `, ${plural(rejected, 'response')} carried ${EXHAUSTED}` : ''} — a filter left no candidate`
      : `no Scoring decision in the EPP log (${plural(epp.skippedLines, 'other line')}): is the EPP logging decisions, and did traffic reach it?`;
    return verdict(name, false, summary, { decisions: 0, failures: f, rejectedResponses: rejected, responseIds: idEvidence ?? null }, { expected, actual: epp.byWorkload });
  }
  const shares: Record<string, number> = {};
  for (const w of input.workloads) shares[w] = (epp.byWorkload[w] ?? 0) / picks;
  const others = Object.fromEntries(Object.entries(epp.byWorkload).filter(([w]) => !input.workloads.includes(w)));
  const problems: string[] = [];
  const below = input.workloads.filter((w) => (shares[w] ?? 0) < input.minShare);
  if (below.length) problems.push(below.map((w) => `${w} got ${epp.byWorkload[w] ?? 0}/${picks} picks (${pct(shares[w] ?? 0)} < ${pct(input.minShare)})`).join(', '));

  const k = input.workloads.length;
  const listedCounts = input.workloads.map((w) => epp.byWorkload[w] ?? 0);
  const listedPicks = listedCounts.reduce((a, b) => a + b, 0);
  const max = Math.max(...listedCounts);
  const busiest = input.workloads[listedCounts.indexOf(max)] ?? '';
  const pExtreme = fairSplitExtremeProbability(listedPicks, max, k);
  const monopoly = k >= 2 && listedPicks >= MONOPOLY_MIN_PICKS && max === listedPicks;
  if (monopoly) problems.push(`${busiest} took all ${listedPicks} picks (chance under a fair split: ${pExtreme.toExponential(1)})`);

  let crossCheck: Record<string, unknown> | null = null;
  if (idEvidence) {
    const idTotal = Object.values(idEvidence.byPrefill).reduce((a, b) => a + b, 0);
    const rows: Record<string, unknown>[] = [];
    let disagree = false;
    for (const [svc, n] of Object.entries(idEvidence.byPrefill)) {
      const w = workloadForPrefill(svc, input.workloads);
      const idShare = idTotal > 0 ? n / idTotal : 0;
      const eppShare = w ? (shares[w] ?? 0) : undefined;
      rows.push({ prefill: svc, workload: w ?? null, ids: n, idShare, eppShare: eppShare ?? null });
      const judged = idTotal >= CROSS_CHECK_MIN_SAMPLES && picks >= CROSS_CHECK_MIN_SAMPLES;
      if (w && eppShare !== undefined && judged && Math.abs(idShare - eppShare) > CROSS_CHECK_TOLERANCE) disagree = true;
    }
    if (disagree) {
      const ids = Object.entries(idEvidence.byPrefill).map(([svc, n]) => `${svc} ${n}`).join(', ');
      const split = input.workloads.map((w) => `${w} ${epp.byWorkload[w] ?? 0}`).join(', ');
      problems.push(`response ids (${ids}) disagree with the EPP split (${split}) by more than ${Math.round(CROSS_CHECK_TOLERANCE * 100)} points of share`);
    }
    crossCheck = { byPrefill: idEvidence.byPrefill, withoutId: idEvidence.withoutId, rows };
  }

  const ok = problems.length === 0;
  const split = input.workloads.map((w) => `${w} ${epp.byWorkload[w] ?? 0}`).join(' / ');
  const summary = ok ? `${split} of ${picks} picks (each ≥ ${pct(input.minShare)})` : problems.join('; ');
  return verdict(
    name,
    ok,
    summary,
    {
      decisions: epp.decisions,
      picks,
      byWorkload: epp.byWorkload,
      shares,
      ...(Object.keys(others).length ? { otherWorkloads: others } : {}),
      fairSplitProbabilityOfBusiest: pExtreme,
      responseIds: crossCheck,
      failures: epp.failures,
    },
    { expected, actual: epp.byWorkload },
  );
}
