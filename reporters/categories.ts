import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Allure `categories.json`: failures grouped by cause, so the morning reader sees "decode crash came back"
 * or "EPP filter left no candidate" instead of a list of red tests.
 *
 * Allure 2 puts a result into every category whose regex matches. To give each failure exactly one cause,
 * the categories are ordered by priority and each regex excludes the patterns of those before it (a
 * negative lookahead). The regexes use `[\s\S]` instead of `.` and are anchored, so they mean the same in
 * Java (Allure: full match) and in JavaScript (tests), with no flags needed.
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

interface CauseDef {
  name: string;
  description: string;
  /** Alternatives, each a regex fragment (no anchors). */
  patterns: string[];
  statuses: AllureStatus[];
}

/** Fragments matching what our criteria, waits and the simulators/vLLM actually write. */
const CAUSES: CauseDef[] = [
  {
    name: 'vLLM decode crash (IndexError / EngineDeadError)',
    description:
      'The decode engine died: torch.index_select IndexError in _prepare_inputs, EngineDeadError, or the API server lost its EngineCore.',
    patterns: ['IndexError: index out of range', 'EngineDeadError', 'EngineCore encountered an issue', 'AsyncLLM output_handler failed'],
    statuses: ['failed', 'broken'],
  },
  {
    name: 'InferencePoolResourceExhausted (EPP left no candidate)',
    description: 'The EPP filtered out every endpoint (429 InferencePoolResourceExhausted) or failed to run its scheduler profile.',
    patterns: ['InferencePoolResourceExhausted', 'failed to run scheduler profile'],
    statuses: ['failed', 'broken'],
  },
  {
    name: 'Recovery threshold exceeded',
    description: 'After a fault the steady state came back too late, never, or with too many failed requests.',
    patterns: ['recovery: [^\\n]*(?:more than|never recovered|over the allowed)'],
    statuses: ['failed', 'broken'],
  },
  {
    name: 'Routing skew (proxiesChosen / variantRouting)',
    description:
      'Load did not split across the proxies as expected: a share below minShare, one proxy taking every pick, EPP log and response ids disagreeing, an A/B variant served by the wrong proxy, or picks not skewed away from a proxy holding stale counts after a fault (pickSkew).',
    patterns: [
      'proxiesChosen: [^\\n]*(?:picks \\([\\d.]+% <|took all|disagree with the EPP split)',
      'variantRouting: [^\\n]*(?:were served by|no answered request of variant)',
      // pickSkew: the picks did not skew as the stale active-request counts predict, or the skew did not end
      'pickSkew: [^\\n]*(?:the EPP did not keep counting|the skew did not end)',
    ],
    statuses: ['failed', 'broken'],
  },
  {
    name: 'Timeout waiting for the cluster',
    description: 'A named wait (rollout, pods Ready, condition) or the test itself ran out of time.',
    patterns: ['timed out after \\S+ waiting for', 'Test timeout of \\d+ms exceeded'],
    statuses: ['failed', 'broken'],
  },
];

const HARNESS_ERROR: Omit<CauseDef, 'patterns'> = {
  name: 'Harness error',
  description: 'The harness itself broke (an exception that is not an assertion and none of the causes above): look at the trace.',
  statuses: ['broken'],
};

function alternation(patterns: string[]): string {
  return `(?:${patterns.join('|')})`;
}

function excluding(previous: string[]): string {
  return previous.length ? `(?![\\s\\S]*${alternation(previous)})` : '';
}

/** The categories in priority order; the last one catches every other broken test. */
export function allureCategories(): AllureCategory[] {
  const out: AllureCategory[] = [];
  const seen: string[] = [];
  for (const c of CAUSES) {
    out.push({
      name: c.name,
      description: c.description,
      messageRegex: `^${excluding(seen)}[\\s\\S]*${alternation(c.patterns)}[\\s\\S]*$`,
      matchedStatuses: c.statuses,
    });
    seen.push(...c.patterns);
  }
  out.push({
    name: HARNESS_ERROR.name,
    description: HARNESS_ERROR.description,
    messageRegex: `^${excluding(seen)}[\\s\\S]*$`,
    matchedStatuses: HARNESS_ERROR.statuses,
  });
  return out;
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
