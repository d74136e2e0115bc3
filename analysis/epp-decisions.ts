/**
 * The EPP decision analyzer: counts "Scoring decision" picks per endpoint and per workload, and scheduling
 * failures, from EPP JSON (zap) log lines. Replaces the seed's `rg | rg -o | sed | sort | uniq -c`.
 *
 * Counting rules:
 *  - a decision is a JSON line whose `msg` is exactly "Scoring decision" and whose `selected` is an array;
 *    every selected endpoint is counted (maxNumOfEndpoints > 1 gives several picks per decision);
 *  - a failure is any line, JSON or text, that mentions `InferencePoolResourceExhausted` or
 *    `failed to run scheduler profile` (in msg, error, err, anywhere); a line mentioning both counts for both;
 *  - every other non-blank line (non-JSON, other messages, "Scoring breakdown", malformed decisions)
 *    counts as skipped; blank lines are ignored;
 *  - with `sinceTs`, lines whose timestamp (kubectl `--timestamps` prefix, else the JSON `ts`) is older
 *    are ignored entirely, like `kubectl logs --since`; lines without a timestamp are kept.
 */
import type { Readable } from 'node:stream';
import { forEachLine, MAX_LINE_LENGTH } from './line-splitter.ts';
import { forEachMarkedLine, type Marker } from './marked-lines.ts';
import { parseJsonObject, parseTimestamp, peekJsonTs, splitPrefixes } from './log-line.ts';
import { workloadOf } from './workload.ts';
import { type LoadedProfile, mentionsLoadedProfile, parseLoadedProfileLine, parseParsedConfigLine } from './epp-profile-log.ts';
import type { PodRef } from './pod-ips.ts';
import { decodeLine, REQUEST_HANDLED, splitEndpoints } from './request-handled.ts';

export { parseLoadedProfiles, parseLoadedProfileLine, currentProfiles, type LoadedProfile } from './epp-profile-log.ts';
export { parseScoringBreakdown, type ScoringBreakdown } from './scoring-breakdown.ts';
export { workloadOf } from './workload.ts';

export const EXHAUSTED = 'InferencePoolResourceExhausted';
export const PROFILE_FAILED = 'failed to run scheduler profile';

/**
 * To `push`, a non-blank line containing none of these is just a skipped line (`'oaded'`: the loaded-profile
 * check requires it), so the stream analyzer decodes only lines with one and counts the others with `pushPlain`.
 */
export const LINE_MARKERS = [
  'Scoring decision',
  EXHAUSTED,
  'ailed to run scheduler profile',
  'oaded',
  REQUEST_HANDLED,
  'parsed config',
] as const;

/**
 * The markers for counts alone (no loaded profiles wanted): to `push`'s counts, a non-blank line is just a
 * skipped line unless it contains one of these. A "Request handled" line counts only with an `endpoint`
 * field, whose key holds the bytes `endpoint` (zap JSON, zap console, klog) or, JSON-escaped, a `\u`.
 * Lines with only `'oaded'` or `'parsed config'` count as skipped whether or not they hold a profile.
 */
export const COUNT_MARKERS: readonly Marker[] = [
  'Scoring decision',
  // searched by a part that starts with a byte rarer in EPP logs (see Needle)
  { text: EXHAUSTED, anchor: 'Exhausted' },
  { text: 'ailed to run scheduler profile', anchor: 'profile' },
  { needle: REQUEST_HANDLED, with: [{ text: 'endpoint', anchor: 'point' }, '\\u'] },
];

/**
 * Where the pick counts come from: `decisions` — the instrumented EPP's "Scoring decision" lines;
 * `request-log` — the stock EPP's "Request handled" lines (GAIE director.go, logged at -v>=3); `none`.
 */
export type DecisionSource = 'decisions' | 'request-log' | 'none';

export const SOURCE_LABELS: Record<DecisionSource, string> = {
  decisions: 'EPP decisions (instrumented)',
  'request-log': 'EPP request log (-v=3)',
  none: 'none',
};

/** The stock EPP's "Request handled" lines: endpoints by address, and by pod/workload where an address resolved. */
export interface RequestLogCounts {
  lines: number;
  /** `IP:port` → picks (every comma-joined endpoint counts). */
  byAddress: Record<string, number>;
  /** `namespace/pod` (or the address when it did not resolve) → picks. */
  byEndpoint: Record<string, number>;
  byWorkload: Record<string, number>;
  /** Picks whose address matched no pod (counted under the address). */
  unresolved: number;
}

export interface FailureCounts {
  InferencePoolResourceExhausted: number;
  failedToRunSchedulerProfile: number;
}

export interface DecisionCounts {
  decisions: number;
  byEndpoint: Record<string, number>;
  byWorkload: Record<string, number>;
  failures: FailureCounts;
  skippedLines: number;
  /** Which lines `decisions`, `byEndpoint` and `byWorkload` count: decision lines when any, else request lines. */
  source?: DecisionSource;
  /** The stock "Request handled" lines, when any were seen. */
  requestLog?: RequestLogCounts;
  /** Lines cut at the analyzer's line length limit and so not decoded (also in skippedLines). */
  skippedTooLong?: number;
}

export interface AnalyzeOptions {
  /** Ignore lines older than this, epoch seconds. */
  sinceTs?: number;
  /** Maps a stock line's `IP:port` at its time (epoch seconds) to a pod; without it, counts stay per address. */
  resolve?: (address: string, ts: number | undefined) => PodRef | undefined;
}

/**
 * Everything a counter has counted, before the result's derived fields: the counts of several counters over
 * consecutive parts of one log merge (`mergeCounterStates`) into exactly what one counter over the whole
 * log would hold. Plain data (Maps, arrays, numbers): it crosses worker threads by structured clone.
 */
export interface CounterState {
  decisions: number;
  /** Decision picks per endpoint. */
  byEndpoint: Map<string, number>;
  failures: FailureCounts;
  skippedLines: number;
  skippedTooLong: number;
  stockLines: number;
  unresolved: number;
  stockByAddress: Map<string, number>;
  stockByEndpoint: Map<string, number>;
  stockByWorkload: Map<string, number>;
  /** At most the last MAX_PROFILES_KEPT. */
  profiles: LoadedProfile[];
}

export interface DecisionCounter {
  push(line: string): void;
  /**
   * Counts `n` lines known to be non-blank and free of LINE_MARKERS without their text: what `push` does
   * with them. Not with `sinceTs` (their timestamps would be needed).
   */
  pushPlain(n: number): void;
  result(): DecisionCounts;
  /** Loaded-profile start lines seen so far, in order (at most the last 100). */
  loadedProfiles(): LoadedProfile[];
  /** A copy of the counts so far, to merge with other counters' (`mergeCounterStates`). */
  state(): CounterState;
  /**
   * Forgets everything counted: the same counter then counts another part of a log (one counter per thread
   * rather than per block keeps its functions' optimized code: new closures would be compiled again).
   */
  reset(): void;
}

const MAX_PROFILES_KEPT = 100;

export function emptyCounterState(): CounterState {
  return {
    decisions: 0,
    byEndpoint: new Map(),
    failures: { InferencePoolResourceExhausted: 0, failedToRunSchedulerProfile: 0 },
    skippedLines: 0,
    skippedTooLong: 0,
    stockLines: 0,
    unresolved: 0,
    stockByAddress: new Map(),
    stockByEndpoint: new Map(),
    stockByWorkload: new Map(),
    profiles: [],
  };
}

/** The state of one counter that had read the parts' logs one after the other, in the order given. */
export function mergeCounterStates(parts: readonly CounterState[]): CounterState {
  const out = emptyCounterState();
  const add = (into: Map<string, number>, from: Map<string, number>): void => {
    for (const [k, n] of from) into.set(k, (into.get(k) ?? 0) + n);
  };
  for (const p of parts) {
    out.decisions += p.decisions;
    add(out.byEndpoint, p.byEndpoint);
    out.failures.InferencePoolResourceExhausted += p.failures.InferencePoolResourceExhausted;
    out.failures.failedToRunSchedulerProfile += p.failures.failedToRunSchedulerProfile;
    out.skippedLines += p.skippedLines;
    out.skippedTooLong += p.skippedTooLong;
    out.stockLines += p.stockLines;
    out.unresolved += p.unresolved;
    add(out.stockByAddress, p.stockByAddress);
    add(out.stockByEndpoint, p.stockByEndpoint);
    add(out.stockByWorkload, p.stockByWorkload);
    out.profiles.push(...p.profiles);
  }
  out.profiles = out.profiles.slice(-MAX_PROFILES_KEPT);
  return out;
}

/** The counts a counter in this state reports. */
export function countsOf(state: CounterState): DecisionCounts {
  const { decisions, byEndpoint, failures, skippedLines, skippedTooLong, stockLines, unresolved } = state;
  const byWorkload = new Map<string, number>();
  for (const [endpoint, n] of byEndpoint) {
    const w = workloadOf(endpoint);
    byWorkload.set(w, (byWorkload.get(w) ?? 0) + n);
  }
  const requestLog: RequestLogCounts | undefined = stockLines
    ? {
        lines: stockLines,
        byAddress: sortedRecord(state.stockByAddress),
        byEndpoint: sortedRecord(state.stockByEndpoint),
        byWorkload: sortedRecord(state.stockByWorkload),
        unresolved,
      }
    : undefined;
  const fromDecisions = decisions > 0 || !requestLog;
  return {
    decisions: fromDecisions ? decisions : requestLog.lines,
    byEndpoint: fromDecisions ? sortedRecord(byEndpoint) : requestLog.byEndpoint,
    byWorkload: fromDecisions ? sortedRecord(byWorkload) : requestLog.byWorkload,
    failures: { ...failures },
    skippedLines,
    source: decisions > 0 ? 'decisions' : requestLog ? 'request-log' : 'none',
    ...(requestLog ? { requestLog } : {}),
    ...(skippedTooLong ? { skippedTooLong } : {}),
  };
}

export function createDecisionCounter(options: AnalyzeOptions = {}): DecisionCounter {
  const { sinceTs, resolve } = options;
  const st = emptyCounterState();
  const { byEndpoint, stockByAddress, stockByEndpoint, stockByWorkload, failures, profiles } = st;

  const tooOld = (prefixTs: number | undefined, body: string, obj?: Record<string, unknown>): boolean => {
    if (sinceTs === undefined) return false;
    const ts = prefixTs ?? (obj ? parseTimestamp(obj.ts) : peekJsonTs(body));
    return ts !== undefined && ts < sinceTs;
  };

  const bump = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);

  const countRequestHandled = (body: string, prefixTs: number | undefined): 'counted' | 'old' | 'no' => {
    const line = decodeLine(body);
    if (!line || line.msg !== REQUEST_HANDLED) return 'no';
    const endpoints = splitEndpoints(line.fields.endpoint);
    if (endpoints.length === 0) return 'no';
    const ts = prefixTs ?? line.ts;
    if (sinceTs !== undefined && ts !== undefined && ts < sinceTs) return 'old';
    st.stockLines++;
    for (const address of endpoints) {
      bump(stockByAddress, address);
      const ref = resolve?.(address, ts);
      if (!ref) st.unresolved++;
      bump(stockByEndpoint, ref?.pod ?? address);
      bump(stockByWorkload, ref?.workload ?? address);
    }
    return 'counted';
  };

  const countDecision = (body: string, prefixTs: number | undefined): 'counted' | 'old' | 'no' => {
    let obj = parseJsonObject(body);
    if (!obj) {
      // klog / zap console text forms carry the same fields
      const text = decodeLine(body);
      if (text) obj = { ...text.fields, msg: text.msg, ...(text.ts !== undefined ? { ts: text.ts } : {}) };
    }
    if (!obj || obj.msg !== 'Scoring decision' || !Array.isArray(obj.selected)) return 'no';
    if (tooOld(prefixTs, body, obj)) return 'old';
    st.decisions++;
    for (const item of obj.selected) {
      const endpoint = endpointName(item);
      if (endpoint !== undefined) byEndpoint.set(endpoint, (byEndpoint.get(endpoint) ?? 0) + 1);
    }
    return 'counted';
  };

  return {
    push(line: string): void {
      if (line.length === 0 || line.trim() === '') return;
      if (line.length >= MAX_LINE_LENGTH) {
        st.skippedTooLong++;
        st.skippedLines++;
        return;
      }
      const exhausted = line.includes(EXHAUSTED);
      const profileFailed = line.includes('ailed to run scheduler profile');
      if (line.includes('Scoring decision')) {
        const { body, prefixTs } = splitPrefixes(line);
        const outcome = countDecision(body, prefixTs);
        if (outcome !== 'no') return;
      }
      if (line.includes(REQUEST_HANDLED)) {
        const { body, prefixTs } = splitPrefixes(line);
        if (countRequestHandled(body, prefixTs) !== 'no') return;
      }
      if (exhausted || profileFailed) {
        const { body, prefixTs } = splitPrefixes(line);
        if (tooOld(prefixTs, body)) return;
        if (exhausted) failures.InferencePoolResourceExhausted++;
        if (profileFailed) failures.failedToRunSchedulerProfile++;
        return;
      }
      if (sinceTs !== undefined) {
        const { body, prefixTs } = splitPrefixes(line);
        if (tooOld(prefixTs, body)) return;
      }
      if (mentionsLoadedProfile(line)) {
        const real = parseParsedConfigLine(line);
        const parsed = real ?? [parseLoadedProfileLine(line)].filter((p): p is LoadedProfile => p !== undefined);
        for (const profile of parsed) {
          if (profiles.length >= MAX_PROFILES_KEPT) profiles.shift();
          profiles.push(profile);
        }
      }
      st.skippedLines++;
    },
    pushPlain(n: number): void {
      if (sinceTs !== undefined) throw new Error('pushPlain: lines without their text cannot be checked against sinceTs');
      st.skippedLines += n;
    },
    result(): DecisionCounts {
      return countsOf(st);
    },
    loadedProfiles(): LoadedProfile[] {
      return [...profiles];
    },
    state(): CounterState {
      return mergeCounterStates([st]);
    },
    reset(): void {
      st.decisions = st.skippedLines = st.skippedTooLong = st.stockLines = st.unresolved = 0;
      failures.InferencePoolResourceExhausted = failures.failedToRunSchedulerProfile = 0;
      for (const m of [byEndpoint, stockByAddress, stockByEndpoint, stockByWorkload]) m.clear();
      profiles.length = 0;
    },
  };
}

/** Counts over an in-memory list of lines (tests, small logs already fetched). */
export function countDecisions(lines: Iterable<string>, options: AnalyzeOptions = {}): DecisionCounts {
  const counter = createDecisionCounter(options);
  for (const line of lines) counter.push(line);
  return counter.result();
}

export interface StreamAnalysis {
  counts: DecisionCounts;
  loadedProfiles: LoadedProfile[];
}

/**
 * Streams a log (file, stdin, `kubectl logs` output) through the counter in constant memory. Without
 * `sinceTs` only lines with a marker are decoded; with it every line is (each needs its timestamp).
 */
export async function analyzeStream(
  readable: Readable | AsyncIterable<Buffer | string>,
  options: AnalyzeOptions = {},
): Promise<DecisionCounts> {
  return (await analyzeStreamDetailed(readable, options)).counts;
}

export async function analyzeStreamDetailed(
  readable: Readable | AsyncIterable<Buffer | string>,
  options: AnalyzeOptions = {},
): Promise<StreamAnalysis> {
  const counter = createDecisionCounter(options);
  const source = readable as AsyncIterable<Buffer | string>;
  const push = (line: string): void => counter.push(line);
  if (options.sinceTs === undefined) counter.pushPlain((await forEachMarkedLine(source, LINE_MARKERS, push)).plain);
  else await forEachLine(source, push);
  return { counts: counter.result(), loadedProfiles: counter.loadedProfiles() };
}

/** Total picks (≥ decisions when one decision selects several endpoints). */
export function totalPicks(counts: Pick<DecisionCounts, 'byWorkload'>): number {
  return Object.values(counts.byWorkload).reduce((a, b) => a + b, 0);
}

/** `"ns/pod"`, or `{name|pod|address: ...}` from builds that log objects. */
function endpointName(item: unknown): string | undefined {
  if (typeof item === 'string') return item.trim() === '' ? undefined : item.trim();
  if (item && typeof item === 'object') {
    const o = item as Record<string, unknown>;
    const v = o.name ?? o.pod ?? o.address;
    return typeof v === 'string' && v !== '' ? v : undefined;
  }
  return undefined;
}

/** Highest count first, then by name: stable, readable output. */
function sortedRecord(map: Map<string, number>): Record<string, number> {
  const entries = [...map.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return Object.fromEntries(entries);
}
