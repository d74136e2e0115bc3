/**
 * `pickSkew`: after a fault cuts streams in flight, the EPP's picks skew away from the workload that served
 * them, by as much as the stale counts predict, until the active-request-scorer's ticker clears them.
 *
 * The real behaviour (llm-d-inference-scheduler v0.4.0 pkg/plugins/scorer/active_request.go): PreRequest counts a
 * request against the pod it was sent to; only ResponseComplete (GAIE v1.2.0 pkg/epp/handlers/server.go: the EPP
 * saw the whole body, or `data: [DONE]`) releases it. A stream cut by a crash never completes, so its count stays
 * until its TTL (requestTimeout, default 2m) has passed and the cleaning ticker (same period) deletes it: between
 * one and two requestTimeouts. The scorer gives each pod (max - count) / max and max-score-picker takes the best,
 * so the EPP evens out counts: a pod holding `s` stale counts gets requests only while the others carry `s` more
 * live ones. With `L` requests in flight and k workloads, the cut workload's share of picks is then
 * max(0, (L - (k-1)·s) / (k·L)), against 1/k when counts are released at once.
 *
 * Judged from what the run observed, counts only (no latency threshold):
 *  - s: the load's streams cut after a 2xx status that started before the window (each still counted);
 *  - L: the mean number of the load's requests in flight over the window (their start and latency);
 *  - the window: from steady state holding again after the fault (the killed pod is back, so the cut workload
 *    answers normally) to the first moment a cut stream's count may expire (its start + requestTimeout) or the
 *    load's last request start; requestTimeout comes from the EPP config's active-request-scorer (2m when absent or invalid,
 *    as the real factory does);
 *  - picks: the EPP's log (instrumented "Scoring decision" or stock "Request handled" lines) by their `ts`.
 * The cut workload's share of the window's picks must be at most halfway between the stale prediction and 1/k.
 * When the load outlasts the ticker (every cut stream's count is gone two requestTimeouts after it started),
 * the picks from then on must be back above that halfway mark. A run that cannot tell the two apart (no cut
 * stream, too few picks, too small a predicted gap) fails and says why: a green must mean the skew was seen.
 */
import { parse } from '#yaml';
import { z } from '#zod';
import { tryParseGoDuration } from '../k8s-rules/duration.ts';
import { isCutAfterHeaders, type RequestRecord } from '../load/result.ts';
import { eppLinesSince } from './after-recovery.ts';
import { decisionsOf, type FaultObservation, type Observations } from './observations.ts';
import { isRecord, pct, plural, verdict, type Verdict } from './verdict.ts';
import { defineCriterion } from './registry-types.ts';

export const name = 'pickSkew';

/** active_request.go defaultRequestTimeout. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;
/** Fewest picks in a window before its share is judged. */
export const MIN_WINDOW_PICKS = 20;
/** Smallest gap between the stale prediction and an even split for the run to tell them apart. */
export const MIN_PREDICTED_GAP = 0.15;
const ACTIVE_REQUEST_SCORER = 'active-request-scorer';

export const schema = z
  .strictObject({
    cut: z.string().min(1).describe('The workload whose streams the fault cuts (the proxy in front of the killed decode pod).'),
    workloads: z
      .array(z.string().min(1))
      .min(2)
      .describe('Every workload the EPP picks from (pod names without hashes), the cut one included.'),
    fault: z.int().min(1).default(1).describe('Which fault of spec.faults cuts the streams, from 1 (default 1).'),
  })
  .refine((s) => s.workloads.includes(s.cut), { message: 'cut must be one of workloads', path: ['cut'] })
  .describe(
    "Chaos suites: after the fault, the EPP's picks skew away from the workload whose streams it cut, as far as their stale active-request counts predict, until requestTimeout clears them.",
  );

export type PickSkewInput = z.output<typeof schema>;

/**
 * A stream cut after its 2xx status: the client got headers, then the connection broke (never a complete
 * response). On k6 engines the status of such a response is not reported (k6 gives it status 0), only that the
 * headers had come: the seed's streams start 200, and a non-2xx answer is short and complete.
 */
export function isCutStream(r: RequestRecord): boolean {
  return isCutAfterHeaders(r);
}

/** The active-request-scorer's requestTimeout in the EPP config, or why there is none. */
export function requestTimeoutOf(configYaml: string | undefined): { ms: number; text: string } | { missing: string } {
  if (configYaml === undefined) return { missing: 'no EPP config observed (epp-config.yaml)' };
  let doc: unknown;
  try {
    doc = parse(configYaml);
  } catch (err) {
    return { missing: `epp-config.yaml does not parse: ${(err as Error).message.split('\n')[0]}` };
  }
  const plugins = isRecord(doc) && Array.isArray(doc.plugins) ? doc.plugins.filter(isRecord) : [];
  const scorer = plugins.find((p) => p.type === ACTIVE_REQUEST_SCORER);
  if (!scorer)
    return {
      missing: `the EPP config has no ${ACTIVE_REQUEST_SCORER}: nothing counts requests in flight, so no stale count can skew picks`,
    };
  const raw = isRecord(scorer.parameters) ? scorer.parameters.requestTimeout : undefined;
  // NewActiveRequest: an empty, invalid or non-positive value keeps the 2m default
  const ms = typeof raw === 'string' && raw !== '' ? tryParseGoDuration(raw) : undefined;
  return ms !== undefined && ms > 0 ? { ms, text: raw as string } : { ms: DEFAULT_REQUEST_TIMEOUT_MS, text: '2m (default)' };
}

/** Mean number of requests in flight over [from, to), from their start and latency. */
export function meanInFlight(records: readonly RequestRecord[], from: number, to: number): number {
  if (to <= from) return 0;
  let busy = 0;
  for (const r of records) {
    const a = Math.max(from, r.startMs);
    const b = Math.min(to, r.startMs + r.latencyMs);
    if (b > a) busy += b - a;
  }
  return busy / (to - from);
}

/** The cut workload's predicted share of picks with `stale` counts held against it, `inFlight` live, k workloads. */
export function staleShare(stale: number, inFlight: number, k: number): number {
  if (inFlight <= 0) return stale > 0 ? 0 : 1 / k;
  return Math.max(0, (inFlight - (k - 1) * stale) / (k * inFlight));
}

interface WindowPicks {
  cut: number;
  total: number;
  byWorkload: Record<string, number>;
}

function picksBetween(obs: Observations, from: number, to: number, input: PickSkewInput): WindowPicks | undefined {
  const lines = eppLinesSince(obs.eppLogLines ?? [], from).filter((l) => {
    const m = /"ts":\s*([0-9.]+)/.exec(l);
    return m !== null && Number(m[1]) * 1000 < to;
  });
  const { eppDecisions: _drop, ...rest } = obs;
  const counts = decisionsOf({ ...rest, eppLogLines: lines });
  if (!counts) return undefined;
  const byWorkload: Record<string, number> = {};
  for (const w of input.workloads) byWorkload[w] = counts.byWorkload[w] ?? 0;
  const total = Object.values(byWorkload).reduce((a, b) => a + b, 0);
  return { cut: byWorkload[input.cut] ?? 0, total, byWorkload };
}

const iso = (ms: number) => new Date(ms).toISOString();

export function evaluate(input: PickSkewInput, obs: Observations): Verdict {
  const expected = { cut: input.cut, workloads: input.workloads, fault: input.fault };
  // a run that cannot show the skew (no fault, no cut stream, too few picks) has nothing to judge: no-data, not a routing skew
  const fail = (summary: string, evidence: Record<string, unknown> = {}) =>
    verdict(name, false, summary, evidence, { expected, cause: 'no-data' });

  const fault: FaultObservation | undefined = obs.faults?.find((f) => f.index === input.fault - 1);
  if (!fault) return fail(`no fault ${input.fault} happened in this run (${plural(obs.faults?.length ?? 0, 'fault')} observed)`);
  const timeout = requestTimeoutOf(obs.eppConfigYaml);
  if ('missing' in timeout) return fail(timeout.missing);
  if (!obs.load) return fail('no load observed: cannot tell which streams the fault cut');
  if (!obs.eppLogLines) return fail('no EPP log observed: cannot tell where the EPP sent requests after the fault');
  const recoveredAt = obs.recovery?.recoveredAtMs;
  if (recoveredAt === undefined || recoveredAt < fault.atMs)
    return fail(`steady state never held again after fault ${input.fault}: no window in which the cut workload answers normally`);

  const records = obs.load.records;
  // the last pick the load caused: after it the load only drains, which would dilute the requests in flight
  const loadEnd = records.reduce((m, r) => Math.max(m, r.startMs), -Infinity);
  const cut = records.filter((r) => isCutStream(r) && r.startMs < recoveredAt);
  const k = input.workloads.length;
  const fair = 1 / k;
  const evidence: Record<string, unknown> = {
    fault: { index: input.fault, kind: fault.kind, at: iso(fault.atMs), targets: fault.targets },
    requestTimeout: timeout.text,
    recoveredAt: iso(recoveredAt),
    cutStreams: cut.length,
    cutStreamIndexes: cut.map((r) => r.index).slice(0, 50),
  };
  if (cut.length === 0)
    return fail(
      `fault ${input.fault} cut no stream (no request failed after a 2xx status before recovery): nothing stays counted, no skew to expect — stream longer responses so some are in flight when the pod dies`,
      evidence,
    );

  // every cut stream is still counted until its start + requestTimeout, at the earliest
  const staleUntil = cut.reduce((m, r) => Math.min(m, r.startMs), Infinity) + timeout.ms;
  const windowEnd = Math.min(staleUntil, loadEnd);
  const inFlight = meanInFlight(records, recoveredAt, windowEnd);
  const predicted = staleShare(cut.length, inFlight, k);
  const threshold = (predicted + fair) / 2;
  const picks = picksBetween(obs, recoveredAt, windowEnd, input);
  Object.assign(evidence, {
    window: {
      from: iso(recoveredAt),
      to: iso(windowEnd),
      endsBecause: windowEnd === staleUntil ? 'first count may expire' : 'last request of the load',
    },
    meanInFlight: Math.round(inFlight * 100) / 100,
    predictedShare: predicted,
    evenShare: fair,
    threshold,
    picks: picks ?? null,
  });
  if (!picks || picks.total < MIN_WINDOW_PICKS)
    return fail(
      `${plural(picks?.total ?? 0, 'pick')} between recovery and ${windowEnd === staleUntil ? 'the first possible expiry' : 'the end of the load'} (fewer than ${MIN_WINDOW_PICKS}): too few to judge the split — lengthen the load after the fault`,
      evidence,
    );
  if (fair - predicted < MIN_PREDICTED_GAP)
    return fail(
      `${plural(cut.length, 'cut stream')} against ${inFlight.toFixed(1)} requests in flight predict ${pct(predicted)} for ${input.cut}, too close to an even ${pct(fair)} to tell stale counts from released ones — cut more streams (longer responses at the fault)`,
      evidence,
    );

  const share = picks.cut / picks.total;
  const problems: string[] = [];
  const skewText = `${input.cut} got ${picks.cut}/${picks.total} picks (${pct(share)}) after recovery`;
  if (share > threshold)
    problems.push(
      `${skewText}, more than ${pct(threshold)}: the EPP did not keep counting the ${plural(cut.length, 'cut stream')} (stale counts predict ${pct(predicted)}, released counts ${pct(fair)})`,
    );

  // after two requestTimeouts every cut stream's entry has expired and the ticker has deleted it
  const clearedAt = cut.reduce((m, r) => Math.max(m, r.startMs), -Infinity) + 2 * timeout.ms;
  let clearedText: string;
  if (clearedAt < loadEnd) {
    const after = picksBetween(obs, clearedAt, loadEnd, input);
    evidence.afterCleared = { from: iso(clearedAt), picks: after ?? null };
    if (!after || after.total < MIN_WINDOW_PICKS)
      clearedText = `too few picks after the counts cleared (${after?.total ?? 0}) to judge the end of the skew`;
    else {
      const afterShare = after.cut / after.total;
      clearedText = `after the ticker cleared them ${after.cut}/${after.total} (${pct(afterShare)})`;
      if (afterShare <= threshold)
        problems.push(
          `${input.cut} still got only ${pct(afterShare)} of picks after every cut stream's count had expired (${iso(clearedAt)}): the skew did not end`,
        );
    }
  } else
    clearedText = `the counts clear after the load (by ${iso(clearedAt)}, requestTimeout ${timeout.text}): the end of the skew is not in this run`;

  const ok = problems.length === 0;
  const summary = ok
    ? `${skewText}, ≤ ${pct(threshold)}: ${plural(cut.length, 'cut stream')} stay counted against ${inFlight.toFixed(1)} in flight (predicted ${pct(predicted)}, even ${pct(fair)}); ${clearedText}`
    : problems.join('; ');
  return verdict(name, ok, summary, evidence, { expected: { ...expected, maxShare: threshold }, actual: picks.byWorkload });
}

/** The registry entry (criteria/registry.ts). */
export const pickSkewCriterion = defineCriterion({
  name,
  description: schema.description ?? 'pickSkew',
  schema,
  failureCause: 'routing',
  evaluate,
});
