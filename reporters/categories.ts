import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FailureCause, Verdict } from '../criteria/verdict.ts';

/**
 * Allure `categories.json`: failures grouped by cause, so the morning reader sees "decode crash came back"
 * or "EPP filter left no candidate" instead of a list of red tests.
 *
 * A failing criterion's category comes from its verdict's typed `cause` (criteria/verdict.ts), never from its
 * summary text: the assertion message carries the cause as a marker (`assertionMessage`: `... [cause: routing]`)
 * and each cause's category matches exactly that marker. Only failures that are not verdicts (an exception,
 * a wait that timed out) are classified by text, and only by text the real systems write: vLLM's crash, the
 * EPP's InferencePoolResourceExhausted, our named waits' timeout line. A decode crash wins over everything
 * (its traceback in a wait's diagnostics is the cause of the timeout).
 *
 * Allure 2 puts a result into every category whose regex matches, so each regex excludes the others (negative
 * lookaheads): every failure lands in at most one. The regexes use `[\s\S]` instead of `.` and are anchored,
 * so they mean the same in Java (Allure: full match) and in JavaScript (tests), with no flags needed.
 */

export type AllureStatus = 'failed' | 'broken' | 'passed' | 'skipped' | 'unknown';

export interface AllureCategory {
  name: string;
  description?: string;
  messageRegex?: string;
  traceRegex?: string;
  matchedStatuses?: AllureStatus[];
  flaky?: boolean;
}

/** The marker of a cause in an assertion message. */
export function causeMarker(cause: FailureCause): string {
  return `[cause: ${cause}]`;
}

/** The message of a criterion's assertion in the specs: `name: summary`, and the cause marker when it failed. */
export function assertionMessage(v: Pick<Verdict, 'name' | 'summary' | 'ok' | 'cause'>): string {
  return `${v.name}: ${v.summary}${!v.ok && v.cause ? ` ${causeMarker(v.cause)}` : ''}`;
}

/** One category per failure cause of a verdict (a `Record`, so a new cause without a category does not compile). */
const BY_CAUSE: Record<FailureCause, { name: string; description: string }> = {
  'no-candidate': {
    name: 'InferencePoolResourceExhausted (EPP left no candidate)',
    description: 'The EPP filtered out every endpoint (429 InferencePoolResourceExhausted) or failed to run its scheduler profile.',
  },
  recovery: {
    name: 'Recovery threshold exceeded',
    description: 'After a fault the steady state came back too late, never, or with too many failed requests.',
  },
  routing: {
    name: 'Routing skew (proxiesChosen / variantRouting)',
    description:
      'Load did not split across the proxies as expected: a share below minShare, one proxy taking every pick, EPP log and response ids disagreeing, an A/B variant served by the wrong proxy, or picks not skewed away from a proxy holding stale counts after a fault (pickSkew).',
  },
  config: {
    name: 'Configuration not as required (routeBackend / eppProfile)',
    description: "The HTTPRoute's backend or conditions, or the EPP's plugins, are not what the suite requires.",
  },
  responses: {
    name: 'Unexpected responses (responses / expectRejection)',
    description: 'Requests did not get the expected status, or were not rejected as expected.',
  },
  'kv-transfer': {
    name: 'KV transfer below the required hit rate',
    description: "Decode requests did not reuse the prefill's KV cache often enough.",
  },
  thresholds: { name: 'k6 thresholds crossed', description: 'A k6 threshold of the load did not hold.' },
  faults: { name: 'Fault did not happen', description: 'A fault did not fire or did not really happen (same pod uid, no restart).' },
  'no-data': {
    name: 'Nothing to judge (an observation is missing)',
    description: 'A criterion had nothing to look at: no EPP log, no load, no recovery or KV measurement.',
  },
  'invalid-criterion': {
    name: 'Invalid criterion settings',
    description: "A criterion's settings are invalid, or there is no such criterion.",
  },
  'evaluator-error': {
    name: 'Criterion could not be evaluated',
    description: 'A criterion evaluator threw: a harness bug, see the summary.',
  },
};

/** The order of the cause categories in the report. */
const CAUSE_ORDER: FailureCause[] = [
  'no-candidate',
  'recovery',
  'routing',
  'config',
  'responses',
  'kv-transfer',
  'thresholds',
  'faults',
  'no-data',
  'invalid-criterion',
  'evaluator-error',
];

/** vLLM's own words when the decode engine dies (the seed's crash). */
const CRASH = {
  name: 'vLLM decode crash (IndexError / EngineDeadError)',
  description:
    'The decode engine died: torch.index_select IndexError in _prepare_inputs, EngineDeadError, or the API server lost its EngineCore.',
  patterns: ['IndexError: index out of range', 'EngineDeadError', 'EngineCore encountered an issue', 'AsyncLLM output_handler failed'],
};

/** The EPP's words for "no candidate", for failures that are not verdicts (they land in the no-candidate category). */
const EXHAUSTED_TEXT = ['InferencePoolResourceExhausted', 'failed to run scheduler profile'];

const TIMEOUT = {
  name: 'Timeout waiting for the cluster',
  description: 'A named wait (rollout, pods Ready, condition) or the test itself ran out of time.',
  patterns: ['timed out after \\S+ waiting for', 'Test timeout of \\d+ms exceeded'],
};

const HARNESS_ERROR = {
  name: 'Harness error',
  description: 'The harness itself broke (an exception that is not an assertion and none of the causes above): look at the trace.',
};

const STATUSES: AllureStatus[] = ['failed', 'broken'];

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const anywhere = (patterns: string[]) => `[\\s\\S]*(?:${patterns.join('|')})`;
const has = (patterns: string[]) => `(?=${anywhere(patterns)})`;
const lacks = (patterns: string[]) => `(?!${anywhere(patterns)})`;
/** Any cause marker: a message with one is a verdict's, classified by its cause only. */
const ANY_MARKER = [escape('[cause: ')];
const full = (body: string) => `^${body}[\\s\\S]*$`;

/** The categories in priority order; the last one catches every other broken test. */
export function allureCategories(): AllureCategory[] {
  const notCrash = lacks(CRASH.patterns);
  const unmarked = lacks(ANY_MARKER);
  const out: AllureCategory[] = [
    { name: CRASH.name, description: CRASH.description, messageRegex: full(has(CRASH.patterns)), matchedStatuses: STATUSES },
  ];
  for (const cause of CAUSE_ORDER) {
    const marker = has([escape(causeMarker(cause))]);
    // an EPP "no candidate" that is not a verdict (an exception, a log in a message) lands here too
    const body = cause === 'no-candidate' ? `(?:${marker}|${unmarked}${has(EXHAUSTED_TEXT)})` : marker;
    out.push({ ...BY_CAUSE[cause], messageRegex: full(`${notCrash}${body}`), matchedStatuses: STATUSES });
  }
  out.push({
    ...TIMEOUT,
    messageRegex: full(`${notCrash}${unmarked}${lacks(EXHAUSTED_TEXT)}${has(TIMEOUT.patterns)}`),
    matchedStatuses: STATUSES,
  });
  out.push({
    ...HARNESS_ERROR,
    messageRegex: full(`${notCrash}${unmarked}${lacks([...EXHAUSTED_TEXT, ...TIMEOUT.patterns])}`),
    matchedStatuses: ['broken'],
  });
  return out.map(({ name, description, messageRegex, matchedStatuses }) => ({ name, description, messageRegex, matchedStatuses }));
}

/** The category name of each verdict cause. */
export function categoryOfCause(cause: FailureCause): string {
  return BY_CAUSE[cause].name;
}

/** Allure's rule (Java `Pattern.matcher(message).matches()` plus the status filter), in JavaScript. */
export function categoryMatches(category: AllureCategory, status: AllureStatus, message: string): boolean {
  if (category.matchedStatuses && !category.matchedStatuses.includes(status)) return false;
  if (category.messageRegex === undefined) return true;
  return new RegExp(category.messageRegex).test(message);
}

/** The names of the categories a failure falls into (by design at most one). */
export function classifyFailure(status: AllureStatus, message: string, categories = allureCategories()): string[] {
  return categories.filter((c) => categoryMatches(c, status, message)).map((c) => c.name);
}

export function writeCategories(resultsDir: string, categories = allureCategories()): string {
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, 'categories.json');
  writeFileSync(file, `${JSON.stringify(categories, null, 2)}\n`);
  return file;
}
