import { z } from '#zod';
import { ratio } from '../suites/schema-parts.ts';
import { judgedAfterRecovery } from './after-recovery.ts';
import { defineCriterion } from './registry-types.ts';
import { EXHAUSTED, PROFILE_FAILED, SOURCE_LABELS, totalPicks, type DecisionCounts } from '../analysis/epp-decisions.ts';
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
/** Largest difference between two sources' share of a workload before they "disagree grossly". */
export const CROSS_CHECK_TOLERANCE = 0.25;
/** Fewest requests on each side before the cross-check judges. */
export const CROSS_CHECK_MIN_SAMPLES = 10;

/** Where the split comes from, strongest first. */
export type PickSource = 'decisions' | 'request-log' | 'responses';

export const PICK_SOURCE_LABELS: Record<PickSource, string> = {
  decisions: SOURCE_LABELS.decisions,
  'request-log': SOURCE_LABELS['request-log'],
  responses: 'proxy responses',
};

interface Split {
  source: PickSource;
  byWorkload: Record<string, number>;
  picks: number;
  /** The raw evidence of this source. */
  raw: Record<string, unknown>;
}

/**
 * Requests per workload from what the proxies answered: the P/D proxies' response ids carry their backend
 * (`___prefill_addr_vllm-prefill-p2p...`), which names the proxy that served the request. EPP-independent.
 */
export function responseSplit(obs: Observations, workloads: readonly string[]): Split | undefined {
  if (!obs.load) return undefined;
  const ids = countByPrefill(obs.load.records);
  const byWorkload: Record<string, number> = {};
  for (const [svc, n] of Object.entries(ids.byPrefill)) {
    const w = workloadForPrefill(svc, workloads) ?? svc;
    byWorkload[w] = (byWorkload[w] ?? 0) + n;
  }
  const picks = Object.values(byWorkload).reduce((a, b) => a + b, 0);
  return { source: 'responses', byWorkload, picks, raw: { byPrefill: ids.byPrefill, withoutId: ids.withoutId } };
}

function eppSplit(epp: DecisionCounts): Split | undefined {
  const picks = totalPicks(epp);
  if (picks === 0) return undefined;
  if (epp.source === 'request-log' && epp.requestLog) {
    return {
      source: 'request-log',
      byWorkload: epp.byWorkload,
      picks,
      raw: {
        lines: epp.requestLog.lines,
        byAddress: epp.requestLog.byAddress,
        byEndpoint: epp.requestLog.byEndpoint,
        unresolvedAddresses: epp.requestLog.unresolved,
      },
    };
  }
  return { source: 'decisions', byWorkload: epp.byWorkload, picks, raw: { decisions: epp.decisions, byEndpoint: epp.byEndpoint } };
}

/**
 * The picks are spread over the workloads, judged on the strongest pick evidence available:
 *  (a) the instrumented EPP's "Scoring decision" lines; (b) a stock EPP's "Request handled" lines (-v>=3),
 *  each endpoint address mapped to the pod that held it during the run; (c) the proxies' own responses
 *  (response ids carry the backend, hence the proxy). The summary names the source.
 *  1. there is evidence (none, with scheduling failures logged or answered, names the failure; none at all
 *     says what would give some);
 *  2. each workload's share of all picks is at least minShare;
 *  3. binomial sanity bound: with N ≥ 10 picks and k ≥ 2 workloads, one workload taking every pick fails.
 *     Under a fair split the chance of that is k^(1−N) (≤ 0.2% at N = 10, k = 2), so it signals a
 *     filter or scorer that pins traffic, not bad luck. The evidence carries the fair-split probability of
 *     the observed busiest share (union bound k·P(Bin(N, 1/k) ≥ max)) for any N;
 *  4. cross-check: when the EPP's log is the source and proxy responses exist too, a workload's share
 *     differing between them by more than 25 points (both sides ≥ 10 samples) fails — the log and the
 *     responses then describe different traffic.
 */
export function proxiesChosen(input: ProxiesChosenInput, obs: Observations): Verdict {
  const name = 'proxiesChosen';
  const expected = { workloads: input.workloads, minShare: input.minShare };
  const epp = decisionsOf(obs);
  const responses = responseSplit(obs, input.workloads);
  const fromEpp = epp ? eppSplit(epp) : undefined;
  const split = fromEpp ?? (responses && responses.picks > 0 ? responses : undefined);
  const idEvidence = responses?.raw ?? null;

  if (!split) {
    const f = epp?.failures ?? { InferencePoolResourceExhausted: 0, failedToRunSchedulerProfile: 0 };
    const rejected = (obs.load?.records ?? []).filter((r) => (r.errorBody ?? '').includes(EXHAUSTED)).length;
    const failures = f.InferencePoolResourceExhausted + f.failedToRunSchedulerProfile > 0;
    const evidence = { decisions: 0, failures: f, rejectedResponses: rejected, responseIds: idEvidence, source: 'none' };
    if (failures || rejected) {
      const summary = `no pick in any source: the EPP logged ${f.InferencePoolResourceExhausted} ${EXHAUSTED} and ${f.failedToRunSchedulerProfile} "${PROFILE_FAILED}"${rejected ? `, ${plural(rejected, 'response')} carried ${EXHAUSTED}` : ''} — a filter left no candidate (no Scoring decision in the EPP log)`;
      return verdict(name, false, summary, evidence, { expected, actual: epp?.byWorkload ?? {}, cause: 'no-candidate' });
    }
    if (!epp && !obs.load)
      return verdict(name, false, 'no EPP log and no load observed: cannot tell which proxies were chosen', evidence, {
        expected,
        cause: 'no-data',
      });
    const ok200 = (obs.load?.records ?? []).filter((r) => r.status !== undefined && r.status < 300).length;
    const summary =
      `no pick evidence: the EPP logged no "Scoring decision" and no "Request handled" lines (a stock EPP logs "Request handled" only at -v=3 or more): ` +
      `set -v=3 (SchedulerInstall spec.epp.verbosity) or use the instrumented image; ` +
      (obs.load
        ? `${plural(ok200, 'successful response')} carried no proxy identity (no ___prefill_addr_ in the response id or x-request-id)`
        : 'no load responses to read the proxy identity from');
    return verdict(name, false, summary, evidence, { expected, cause: 'no-data' });
  }

  const { byWorkload, picks, source } = split;
  const label = PICK_SOURCE_LABELS[source];
  const shares: Record<string, number> = {};
  for (const w of input.workloads) shares[w] = (byWorkload[w] ?? 0) / picks;
  const others = Object.fromEntries(Object.entries(byWorkload).filter(([w]) => !input.workloads.includes(w)));
  const problems: string[] = [];
  const below = input.workloads.filter((w) => (shares[w] ?? 0) < input.minShare);
  if (below.length)
    problems.push(
      below.map((w) => `${w} got ${byWorkload[w] ?? 0}/${picks} picks (${pct(shares[w] ?? 0)} < ${pct(input.minShare)})`).join(', '),
    );

  const k = input.workloads.length;
  const listedCounts = input.workloads.map((w) => byWorkload[w] ?? 0);
  const listedPicks = listedCounts.reduce((a, b) => a + b, 0);
  const max = Math.max(...listedCounts);
  const busiest = input.workloads[listedCounts.indexOf(max)] ?? '';
  const pExtreme = fairSplitExtremeProbability(listedPicks, max, k);
  const monopoly = k >= 2 && listedPicks >= MONOPOLY_MIN_PICKS && max === listedPicks;
  if (monopoly) problems.push(`${busiest} took all ${listedPicks} picks (chance under a fair split: ${pExtreme.toExponential(1)})`);

  let crossCheck: Record<string, unknown> | null = null;
  if (source !== 'responses' && responses && responses.picks > 0) {
    const rows: Record<string, unknown>[] = [];
    let disagree = false;
    const judged = responses.picks >= CROSS_CHECK_MIN_SAMPLES && picks >= CROSS_CHECK_MIN_SAMPLES;
    for (const [w, n] of Object.entries(responses.byWorkload)) {
      const listed = input.workloads.includes(w);
      const idShare = n / responses.picks;
      const eppShare = listed ? (shares[w] ?? 0) : undefined;
      rows.push({ workload: listed ? w : null, backend: listed ? undefined : w, ids: n, idShare, eppShare: eppShare ?? null });
      if (listed && eppShare !== undefined && judged && Math.abs(idShare - eppShare) > CROSS_CHECK_TOLERANCE) disagree = true;
    }
    if (disagree) {
      const ids = Object.entries(responses.byWorkload)
        .map(([w, n]) => `${w} ${n}`)
        .join(', ');
      const eppText = input.workloads.map((w) => `${w} ${byWorkload[w] ?? 0}`).join(', ');
      problems.push(
        `proxy responses (${ids}) disagree with the ${label} split (${eppText}) by more than ${Math.round(CROSS_CHECK_TOLERANCE * 100)} points of share`,
      );
    }
    crossCheck = { ...responses.raw, tolerance: CROSS_CHECK_TOLERANCE, minSamples: CROSS_CHECK_MIN_SAMPLES, rows };
  }

  const ok = problems.length === 0;
  const text = input.workloads.map((w) => `${w} ${byWorkload[w] ?? 0}`).join(' / ');
  const summary = `${ok ? `${text} of ${picks} picks (each ≥ ${pct(input.minShare)})` : problems.join('; ')}; source: ${label}`;
  return verdict(
    name,
    ok,
    summary,
    {
      source: label,
      decisions: epp?.decisions ?? 0,
      picks,
      byWorkload,
      shares,
      ...(Object.keys(others).length ? { otherWorkloads: others } : {}),
      fairSplitProbabilityOfBusiest: pExtreme,
      sourceEvidence: split.raw,
      responseIds: source === 'responses' ? split.raw : crossCheck,
      failures: epp?.failures ?? null,
    },
    { expected, actual: byWorkload },
  );
}

export const proxiesChosenCriterion = defineCriterion({
  name: 'proxiesChosen',
  description: 'The EPP\'s "Scoring decision" picks are spread over these workloads.',
  schema: z.strictObject({
    workloads: z.array(z.string().min(1)).min(1).describe('Workloads (pod names without hashes) the EPP must pick.'),
    minShare: ratio('Smallest share of picks each workload must get'),
    afterRecovery: z
      .boolean()
      .optional()
      .describe('Chaos suites: count only the picks (and responses) after steady state held again following the faults.'),
  }),
  failureCause: 'routing',
  evaluate: (settings, obs) =>
    settings.afterRecovery
      ? judgedAfterRecovery('proxiesChosen', { workloads: settings.workloads, minShare: settings.minShare }, obs, (w) =>
          proxiesChosen(settings, w),
        )
      : proxiesChosen(settings, obs),
});
