import { expect, test } from '@playwright/test';
import { allPassed, evaluateInput, evaluateOne, type Observations } from '../../criteria/index.ts';
import { countDecisions } from '../../analysis/epp-decisions.ts';
import {
  CONFIG_BY_BACKEND,
  CONFIG_PROXY_PERFORMANCE,
  START_LINE_BY_BACKEND,
  byBackendLog,
  eppLog,
  httpRoute,
  inferencePool,
  okLoad,
  rejectedLoad,
  loadOf,
  p2pId,
  fsId,
} from '../helpers/criteria-fixtures.ts';

/** The seed's proxy-performance validation as the suite writes it. */
const SEED_CRITERIA = [
  { routeBackend: 'InferencePool' },
  { eppProfile: { has: ['active-request-scorer', 'max-score-picker'], lacks: ['by-label-selector'] } },
  { responses: { status: 200, atLeast: 60 } },
  { proxiesChosen: { workloads: ['vllm-p2p-proxy', 'vllm-fs-proxy'], minShare: 0.2 } },
  { noSchedulingFailures: {} },
];

function seedRun(): Observations {
  return {
    httpRoutes: [httpRoute()],
    inferencePools: [inferencePool()],
    eppConfigYaml: CONFIG_PROXY_PERFORMANCE,
    eppLogLines: eppLog(32, 28),
    load: okLoad(60, 32),
  };
}

function byBackendRun(): Observations {
  return {
    httpRoutes: [httpRoute()],
    inferencePools: [inferencePool()],
    eppConfigYaml: CONFIG_BY_BACKEND,
    eppLogLines: byBackendLog(60),
    load: rejectedLoad(60),
  };
}

test("the seed's validated run (60/60 200, 32 p2p / 28 fs) passes every criterion", () => {
  const verdicts = evaluateInput(SEED_CRITERIA, seedRun());
  expect(verdicts.map((v) => [v.name, v.ok])).toEqual(SEED_CRITERIA.map((c) => [Object.keys(c)[0], true]));
  expect(allPassed(verdicts)).toBe(true);
  const split = verdicts.find((v) => v.name === 'proxiesChosen');
  expect(split?.summary).toBe('vllm-p2p-proxy 32 / vllm-fs-proxy 28 of 60 picks (each ≥ 20.0%); source: EPP decisions (instrumented)');
  expect((split?.evidence.responseIds as { byPrefill: unknown }).byPrefill).toEqual({ 'vllm-prefill-p2p': 32, 'vllm-prefill-fs': 28 });
});

test('the by-backend profile with the seed criteria fails, naming InferencePoolResourceExhausted', () => {
  const verdicts = evaluateInput(SEED_CRITERIA, byBackendRun());
  const byName = Object.fromEntries(verdicts.map((v) => [v.name, v]));
  expect(byName.routeBackend?.ok).toBe(true);
  expect(byName.eppProfile?.ok).toBe(false);
  expect(byName.eppProfile?.summary).toBe(
    'the rendered EPP config has by-label-selector; the EPP start log (profile default) has by-label-selector',
  );
  expect(byName.responses?.ok).toBe(false);
  expect(byName.responses?.summary).toBe('only 0 requests got 200, expected at least 60 (429×60)');
  expect(byName.proxiesChosen?.ok).toBe(false);
  expect(byName.proxiesChosen?.summary).toContain('no Scoring decision in the EPP log');
  expect(byName.proxiesChosen?.summary).toContain('60 InferencePoolResourceExhausted');
  expect(byName.proxiesChosen?.summary).toContain('60 responses carried InferencePoolResourceExhausted');
  expect(byName.noSchedulingFailures?.ok).toBe(false);
  expect(byName.noSchedulingFailures?.summary).toContain('60 InferencePoolResourceExhausted');
});

test('the by-backend negative suite passes with its own criteria', () => {
  const criteria = [
    { routeBackend: 'InferencePool' },
    { eppProfile: { has: ['by-label-selector', 'active-request-scorer'] } },
    { expectRejection: { status: 429, reason: 'InferencePoolResourceExhausted' } },
  ];
  const verdicts = evaluateInput(criteria, byBackendRun());
  expect(verdicts.map((v) => v.ok)).toEqual([true, true, true]);
  expect(verdicts[2]?.summary).toBe('60/60 requests rejected with 429 InferencePoolResourceExhausted, as expected');
  // and the same criteria fail on the healthy profile
  const healthy = evaluateInput(criteria, seedRun());
  expect(healthy.map((v) => v.ok)).toEqual([true, false, false]);
  expect(healthy[1]?.summary).toBe(
    'the rendered EPP config lacks by-label-selector; the EPP start log (profile default) lacks by-label-selector',
  );
  expect(healthy[2]?.summary).toMatch(
    /^60 of 60 requests were not rejected with 429 InferencePoolResourceExhausted \(200×60; e\.g\. #1: 200\)$/,
  );
});

test('precomputed analyzer counts and loaded profiles are used as given', () => {
  const lines = eppLog(5, 25);
  const obs: Observations = {
    httpRoutes: [],
    inferencePools: [],
    eppDecisions: countDecisions(lines),
    eppLoadedProfiles: [{ profile: 'default', filters: [], scorers: ['active-request-scorer'], picker: 'max-score-picker' }],
  };
  const [chosen, profile] = evaluateInput(
    [
      { proxiesChosen: { workloads: ['vllm-p2p-proxy', 'vllm-fs-proxy'], minShare: 0.2 } },
      { eppProfile: { has: ['active-request-scorer'] } },
    ],
    obs,
  );
  expect(chosen?.ok).toBe(false);
  expect(chosen?.summary).toBe('vllm-p2p-proxy got 5/30 picks (16.7% < 20.0%); source: EPP decisions (instrumented)');
  expect(profile?.ok).toBe(true);
  expect(profile?.summary).toBe('EPP start log: has active-request-scorer');
});

test('bad items become failing verdicts with a readable summary', () => {
  const obs = seedRun();
  expect(evaluateOne({ noSuch: {} }, obs).summary).toMatch(/^unknown criterion 'noSuch' \(known: routeBackend, /);
  expect(evaluateOne({ responses: { status: 200 } }, obs).summary).toBe(
    'invalid responses settings: responses takes exactly one of atLeast or all: true',
  );
  expect(evaluateOne({ proxiesChosen: { workloads: 'x' } }, obs).summary).toMatch(/^invalid proxiesChosen settings: workloads: /);
  expect(evaluateOne({ responses: { status: 200, all: true }, routeBackend: 'Service' }, obs).summary).toBe(
    'a criterion has exactly one key, got responses, routeBackend',
  );
  expect(evaluateOne('responses', obs).ok).toBe(false);
  expect(evaluateOne({ recovery: { within: 'soon', maxErrorRate: 0.1 } }, obs).summary).toBe(
    'invalid recovery settings: within: expected a duration like 500ms, 35s, 2m or 1h30m',
  );
  for (const bad of [{ noSuch: {} }, { responses: { status: 200 } }, 'responses', { recovery: { within: 'soon', maxErrorRate: 0.1 } }]) {
    expect(evaluateOne(bad, obs).cause).toBe('invalid-criterion');
  }
});

test('response ids are cross-checked against the EPP split', () => {
  const obs: Observations = { httpRoutes: [], inferencePools: [], eppLogLines: eppLog(30, 30), load: okLoad(60, 58) };
  const v = evaluateOne({ proxiesChosen: { workloads: ['vllm-p2p-proxy', 'vllm-fs-proxy'], minShare: 0.2 } }, obs);
  expect(v.ok).toBe(false);
  expect(v.summary).toBe(
    'proxy responses (vllm-p2p-proxy 58, vllm-fs-proxy 2) disagree with the EPP decisions (instrumented) split (vllm-p2p-proxy 30, vllm-fs-proxy 30) by more than 25 points of share; source: EPP decisions (instrumented)',
  );
  expect((v.evidence.responseIds as { byPrefill: unknown }).byPrefill).toEqual({ 'vllm-prefill-p2p': 58, 'vllm-prefill-fs': 2 });
  // a moderate difference is tolerated
  const close = evaluateOne(
    { proxiesChosen: { workloads: ['vllm-p2p-proxy', 'vllm-fs-proxy'], minShare: 0.2 } },
    { ...obs, load: okLoad(60, 36) },
  );
  expect(close.ok).toBe(true);
});

test('binomial sanity bound: a monopoly fails even with minShare 0, but only from 10 picks', () => {
  const crit = { proxiesChosen: { workloads: ['vllm-p2p-proxy', 'vllm-fs-proxy'], minShare: 0 } };
  const ten = evaluateOne(crit, { httpRoutes: [], inferencePools: [], eppLogLines: eppLog(10, 0) });
  expect(ten.ok).toBe(false);
  expect(ten.summary).toBe('vllm-p2p-proxy took all 10 picks (chance under a fair split: 2.0e-3); source: EPP decisions (instrumented)');
  expect(ten.evidence.fairSplitProbabilityOfBusiest).toBeCloseTo(2 ** -9, 10);
  const nine = evaluateOne(crit, { httpRoutes: [], inferencePools: [], eppLogLines: eppLog(9, 0) });
  expect(nine.ok).toBe(true);
  const skewed = evaluateOne(crit, { httpRoutes: [], inferencePools: [], eppLogLines: eppLog(9, 1) });
  expect(skewed.ok).toBe(true);
});

test('variantRouting: each variant reaches only its proxy', () => {
  const crit = { variantRouting: { nvlink: 'vllm-p2p-proxy', fs: 'vllm-fs-proxy' } };
  const good = loadOf(
    Array.from({ length: 20 }, (_, i) => ({
      status: 200,
      responseId: i % 2 === 0 ? p2pId(i) : fsId(i),
      tags: { variant: i % 2 === 0 ? 'nvlink' : 'fs' },
    })),
  );
  const ok = evaluateOne(crit, { httpRoutes: [], inferencePools: [], load: good });
  expect(ok.ok).toBe(true);
  expect(ok.summary).toBe('nvlink → vllm-p2p-proxy (10), fs → vllm-fs-proxy (10)');
  const crossed = loadOf(
    Array.from({ length: 20 }, (_, i) => ({
      status: 200,
      responseId: i < 3 ? fsId(i) : i % 2 === 0 ? p2pId(i) : fsId(i),
      tags: { variant: i % 2 === 0 ? 'nvlink' : 'fs' },
    })),
  );
  const bad = evaluateOne(crit, { httpRoutes: [], inferencePools: [], load: crossed });
  expect(bad.ok).toBe(false);
  expect(bad.summary).toBe('2 of 10 nvlink requests were served by vllm-prefill-fs, not vllm-p2p-proxy');
});

test('by-backend start log alone is enough for eppProfile to see the filter', () => {
  const v = evaluateOne(
    { eppProfile: { has: ['by-kv-backend'], lacks: [] } },
    { httpRoutes: [], inferencePools: [], eppConfigYaml: CONFIG_BY_BACKEND, eppLogLines: [START_LINE_BY_BACKEND] },
  );
  // `by-kv-backend` is a plugin name: the config resolves it to by-label-selector, which the log shows.
  expect(v.ok).toBe(true);
});

test('verdict table and first failure read as one line per criterion', async () => {
  const { formatVerdicts, firstFailure } = await import('../../criteria/format.ts');
  const verdicts = evaluateInput(SEED_CRITERIA, byBackendRun());
  const table = formatVerdicts(verdicts);
  expect(table.split('\n')[0]).toBe('CRITERION             RESULT  SUMMARY');
  expect(table).toContain(
    '\nrouteBackend          PASS    llm-d-inference-scheduler/llm-d-inference-scheduling → InferencePool, Accepted and ResolvedRefs\n',
  );
  expect(table.trimEnd().split('\n')).toHaveLength(SEED_CRITERIA.length + 1);
  expect(firstFailure(verdicts)).toBe(
    'eppProfile: the rendered EPP config has by-label-selector; the EPP start log (profile default) has by-label-selector',
  );
  expect(firstFailure(evaluateInput(SEED_CRITERIA, seedRun()))).toBeUndefined();
});
