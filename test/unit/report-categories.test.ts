import { expect, test } from '@playwright/test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../cluster/waits.ts';
import { evaluateInput } from '../../criteria/index.ts';
import type { Observations } from '../../criteria/observations.ts';
import type { Verdict } from '../../criteria/verdict.ts';
import { FAILURE_CAUSES } from '../../criteria/verdict.ts';
import {
  allureCategories,
  assertionMessage,
  categoryOfCause,
  causeMarker,
  classifyFailure,
  writeCategories,
  type AllureStatus,
} from '../../reporters/categories.ts';

const CRASH = 'vLLM decode crash (IndexError / EngineDeadError)';
const EXHAUSTED = 'InferencePoolResourceExhausted (EPP left no candidate)';
const RECOVERY = 'Recovery threshold exceeded';
const SKEW = 'Routing skew (proxiesChosen / variantRouting)';
const TIMEOUT = 'Timeout waiting for the cluster';
const HARNESS = 'Harness error';

/** The message a failing criterion produces in conformance.spec.ts: a soft expect with `name: summary [cause: ...]`. */
function expectMessage(v: Verdict): string {
  try {
    expect(v.ok, assertionMessage(v)).toBe(true);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`verdict ${v.name} passed: ${v.summary}`);
}

function decisionLine(i: number, pod: string): string {
  return JSON.stringify({
    level: 'info',
    ts: 1,
    msg: 'Scoring decision',
    request_id: `r${i}`,
    selected: [`llm-d-vllm/${pod}-rank-0`],
    scores: [],
  });
}

function failingVerdict(item: Record<string, unknown>, obs: Observations): Verdict {
  const [v] = evaluateInput([item] as never, obs);
  expect(v, 'one verdict').toBeDefined();
  expect(v!.ok, `${v!.name} should fail here: ${v!.summary}`).toBe(false);
  return v!;
}

async function waitTimeoutMessage(diagnostics = ''): Promise<string> {
  try {
    await waitFor({
      name: 'rollout of deploy/gaie-inference-scheduling-epp',
      timeoutMs: 20,
      intervalMs: 5,
      probe: async () => ({ done: false, state: '0/1 updated replicas' }),
      diagnostics: async () => diagnostics,
    });
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('the wait did not time out');
}

test('each real failure message falls into exactly its category', async () => {
  const monopoly = failingVerdict(
    { proxiesChosen: { workloads: ['vllm-p2p-proxy', 'vllm-fs-proxy'], minShare: 0.2 } },
    {
      httpRoutes: [],
      inferencePools: [],
      eppLogLines: Array.from({ length: 20 }, (_, i) => decisionLine(i, 'vllm-p2p-proxy-5d9c7b7f6-x2k4q')),
    },
  );
  const lowShare = failingVerdict(
    { proxiesChosen: { workloads: ['vllm-p2p-proxy', 'vllm-fs-proxy'], minShare: 0.4 } },
    {
      httpRoutes: [],
      inferencePools: [],
      eppLogLines: Array.from({ length: 20 }, (_, i) =>
        decisionLine(i, i < 17 ? 'vllm-p2p-proxy-5d9c7b7f6-x2k4q' : 'vllm-fs-proxy-7c9d8-abcde'),
      ),
    },
  );
  const exhaustedLine = JSON.stringify({
    level: 'error',
    ts: 1,
    msg: 'failed to run scheduler profile',
    error: 'InferencePoolResourceExhausted - failed to find target pod',
  });
  const noDecisions = failingVerdict(
    { proxiesChosen: { workloads: ['vllm-p2p-proxy', 'vllm-fs-proxy'], minShare: 0.2 } },
    { httpRoutes: [], inferencePools: [], eppLogLines: [exhaustedLine] },
  );
  const late = failingVerdict(
    { recovery: { within: '30s', maxErrorRate: 0.5 } },
    { httpRoutes: [], inferencePools: [], recovery: { errorWindowMs: 40_000, recoveryMs: 45_000, errorRate: 0.1 } },
  );
  const never = failingVerdict(
    { recovery: { within: '30s', maxErrorRate: 0.5 } },
    { httpRoutes: [], inferencePools: [], recovery: { errorWindowMs: 60_000, recoveryMs: null, errorRate: 0.9 } },
  );
  const responses = failingVerdict(
    { responses: { status: 200, atLeast: 10 } },
    {
      httpRoutes: [],
      inferencePools: [],
      load: {
        engine: 'builtin',
        startedAt: '',
        records: [],
        summary: {
          requests: 0,
          byStatus: {},
          errors: {},
          durationMs: 0,
          throughput: 0,
          latencyMs: { p50: 0, p90: 0, p95: 0, p99: 0, max: 0, mean: 0 },
        },
      },
    },
  );

  const crashLog = [
    '(APIServer pid=1) ERROR AsyncLLM output_handler failed.',
    '(EngineCore_DP0 pid=109)   File "/usr/local/lib/python3.12/dist-packages/vllm/v1/worker/gpu_model_runner.py", line 1474, in _prepare_inputs',
    '(EngineCore_DP0 pid=109) IndexError: index out of range in self',
    'vllm.v1.engine.exceptions.EngineDeadError: EngineCore encountered an issue. See stack trace (above) for the root cause.',
  ].join('\n');

  const cases: { status: AllureStatus; message: string; want: string | undefined }[] = [
    { status: 'failed', message: expectMessage(monopoly), want: SKEW },
    { status: 'failed', message: expectMessage(lowShare), want: SKEW },
    { status: 'failed', message: expectMessage(noDecisions), want: EXHAUSTED },
    { status: 'failed', message: `Error: expectRejection: 0/12 requests rejected\n\n${exhaustedLine}`, want: EXHAUSTED },
    { status: 'failed', message: expectMessage(late), want: RECOVERY },
    { status: 'failed', message: expectMessage(never), want: RECOVERY },
    { status: 'broken', message: await waitTimeoutMessage(), want: TIMEOUT },
    { status: 'broken', message: 'Test timeout of 120000ms exceeded.', want: TIMEOUT },
    // a wait that timed out because the decode engine died: the cause is the crash, seen in the diagnostics
    { status: 'broken', message: await waitTimeoutMessage(`--- vllm-decode-p2p (previous) ---\n${crashLog}`), want: CRASH },
    { status: 'failed', message: `Error: decode crash reproduced on vllm-decode-p2p\n${crashLog}`, want: CRASH },
    { status: 'broken', message: "TypeError: Cannot read properties of undefined (reading 'metadata')", want: HARNESS },
    // the other criteria land in their cause's category, not in the harness error
    { status: 'failed', message: expectMessage(responses), want: 'Unexpected responses (responses / expectRejection)' },
  ];
  for (const c of cases) {
    const got = classifyFailure(c.status, c.message);
    expect(got, `${c.message.slice(0, 160)}`).toEqual(c.want ? [c.want] : []);
  }
});

test('the category regexes reject what they are not about', () => {
  const byName = Object.fromEntries(allureCategories().map((c) => [c.name, c]));
  const names = Object.keys(byName);
  expect(names.slice(0, 4)).toEqual([CRASH, EXHAUSTED, RECOVERY, SKEW]);
  expect(names.slice(-2)).toEqual([TIMEOUT, HARNESS]);
  // a passing proxiesChosen summary mentions picks but is no skew; "recovered after" alone is no failure
  expect(classifyFailure('failed', 'proxiesChosen: vllm-p2p-proxy 32 / vllm-fs-proxy 28 of 60 picks (each ≥ 20.0%)')).toEqual([]);
  expect(classifyFailure('failed', 'recovery: recovered after 4.0s (≤ 30s), errors for 2.0s, error rate 3.0%')).toEqual([]);
  expect(classifyFailure('failed', 'gave up waiting for pods app=vllm-p2p-test Ready; last state: ImagePullBackOff')).toEqual([]);
  // pickSkew: a missing skew is a routing skew (its failure cause); a run that cannot show one (no cut stream) is no-data
  const skewed = evaluatePickSkewLike('routing');
  expect(classifyFailure('failed', assertionMessage(skewed))).toEqual([SKEW]);
  expect(classifyFailure('failed', assertionMessage(evaluatePickSkewLike('no-data')))).not.toContain(SKEW);
  // statuses: a harness error is a broken test only
  expect(classifyFailure('failed', 'TypeError: x is not a function')).toEqual([]);
  expect(classifyFailure('passed', 'InferencePoolResourceExhausted')).toEqual([]);
});

test('categories come from the verdict cause, not from the summary text', () => {
  // every cause has its own category, and its marker lands there and only there
  const names = allureCategories().map((c) => c.name);
  for (const cause of FAILURE_CAUSES) {
    expect(names, cause).toContain(categoryOfCause(cause));
    const message = `Error: someCriterion: something broke ${causeMarker(cause)}\n\nexpect(received).toBe(expected)`;
    expect(classifyFailure('failed', message), cause).toEqual([categoryOfCause(cause)]);
  }
  expect(new Set(FAILURE_CAUSES.map(categoryOfCause)).size).toBe(FAILURE_CAUSES.length);
  // an expectRejection that failed because requests were NOT rejected names InferencePoolResourceExhausted in its
  // summary: text matching called that "EPP left no candidate"; its cause says unexpected responses
  const notRejected = failingVerdict(
    { expectRejection: { status: 429, reason: 'InferencePoolResourceExhausted' } },
    {
      httpRoutes: [],
      inferencePools: [],
      load: {
        engine: 'builtin',
        startedAt: '',
        records: [{ index: 0, startMs: 0, latencyMs: 5, status: 200, bytes: 10 }],
        summary: {
          requests: 1,
          byStatus: { '200': 1 },
          errors: {},
          durationMs: 5,
          throughput: 1,
          latencyMs: { p50: 5, p90: 5, p95: 5, p99: 5, max: 5, mean: 5 },
        },
      },
    },
  );
  expect(notRejected.summary).toContain('InferencePoolResourceExhausted');
  expect(notRejected.cause).toBe('responses');
  expect(classifyFailure('failed', expectMessage(notRejected))).toEqual(['Unexpected responses (responses / expectRejection)']);
  // the same summary with a routing cause is routing: the marker decides
  expect(classifyFailure('failed', assertionMessage({ ...notRejected, cause: 'routing' }))).toEqual([SKEW]);
  // a passing verdict carries no marker
  expect(assertionMessage({ name: 'responses', ok: true, summary: '60/60 requests got 200' })).toBe('responses: 60/60 requests got 200');
});

test('every failing verdict of every criterion carries a cause', () => {
  const none = { httpRoutes: [], inferencePools: [] };
  const items = [
    { routeBackend: 'InferencePool' },
    { eppProfile: { has: ['x'] } },
    { responses: { status: 200, atLeast: 1 } },
    { proxiesChosen: { workloads: ['a', 'b'], minShare: 0.2 } },
    { proxiesChosen: { workloads: ['a', 'b'], minShare: 0.2, afterRecovery: true } },
    { noSchedulingFailures: {} },
    { expectRejection: { status: 429 } },
    { kvTransfer: { backend: 'p2p', minHitRate: 0.5 } },
    { recovery: { within: '30s', maxErrorRate: 0.1 } },
    { variantRouting: { a: 'x' } },
    { noSuch: {} },
  ];
  const verdicts = evaluateInput(items, none);
  expect(verdicts.map((v) => [v.name, v.ok, v.cause])).toEqual([
    ['routeBackend', false, 'config'],
    ['eppProfile', false, 'no-data'],
    ['responses', false, 'no-data'],
    ['proxiesChosen', false, 'no-data'],
    ['proxiesChosen', false, 'no-data'],
    ['noSchedulingFailures', false, 'no-data'],
    ['expectRejection', false, 'no-data'],
    ['kvTransfer', false, 'no-data'],
    ['recovery', false, 'no-data'],
    ['variantRouting', false, 'routing'],
    ['noSuch', false, 'invalid-criterion'],
  ]);
});

test('writeCategories writes the JSON Allure reads', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pd-cat-'));
  try {
    const file = writeCategories(dir);
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { name: string; messageRegex: string; matchedStatuses: string[] }[];
    expect(parsed.map((c) => c.name)).toContain(EXHAUSTED);
    for (const c of parsed) {
      expect(c.messageRegex.startsWith('^')).toBe(true);
      expect(c.matchedStatuses.length).toBeGreaterThan(0);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function evaluatePickSkewLike(cause: 'routing' | 'no-data') {
  return {
    name: 'pickSkew',
    ok: false,
    cause,
    summary:
      cause === 'routing'
        ? 'vllm-p2p-proxy got 50/100 picks (50.0%) after recovery, more than 35.0%: the EPP did not keep counting the 8 cut streams (stale counts predict 20.0%, released counts 50.0%)'
        : 'fault 1 cut no stream (no request failed after a 2xx status before recovery)',
  } as const;
}
