import { expect, test } from '@playwright/test';
import { evaluateOne, type Observations } from '../../criteria/index.ts';
import { binomialUpperTail, fairSplitExtremeProbability } from '../../criteria/binomial.ts';
import { countByPrefill, prefillServiceOf, workloadForPrefill } from '../../criteria/response-ids.ts';
import { parseEppConfig } from '../../criteria/epp-config.ts';
import {
  CONFIG_BY_BACKEND,
  CONFIG_PROXY_PERFORMANCE,
  EXHAUSTED_BODY,
  POOL_REF,
  START_LINE_BY_BACKEND,
  START_LINE_PROXY_PERFORMANCE,
  eppLog,
  fsId,
  httpRoute,
  inferencePool,
  loadOf,
  okLoad,
  p2pId,
  rejectedLoad,
} from '../helpers/criteria-fixtures.ts';

const none: Observations = { httpRoutes: [], inferencePools: [] };

test.describe('routeBackend', () => {
  test('passes for the InferencePool route with Accepted and ResolvedRefs', () => {
    const v = evaluateOne({ routeBackend: 'InferencePool' }, { ...none, httpRoutes: [httpRoute()], inferencePools: [inferencePool()] });
    expect(v.ok).toBe(true);
    expect(v.summary).toBe('llm-d-inference-scheduler/llm-d-inference-scheduling → InferencePool, Accepted and ResolvedRefs');
  });
  test('fails when the route sends to a Service', () => {
    const route = httpRoute({ backendRefs: [{ name: 'vllm-p2p-proxy', namespace: 'llm-d-vllm', port: 8080 }] });
    const v = evaluateOne({ routeBackend: 'InferencePool' }, { ...none, httpRoutes: [route] });
    expect(v.ok).toBe(false);
    expect(v.summary).toBe(
      'llm-d-inference-scheduler/llm-d-inference-scheduling sends to Service vllm-p2p-proxy, not InferencePool (inference.networking.k8s.io)',
    );
  });
  test('fails on a wrong group even with kind InferencePool', () => {
    const route = httpRoute({ backendRefs: [{ ...POOL_REF, group: 'inference.networking.x-k8s.io' }] });
    const v = evaluateOne({ routeBackend: 'InferencePool' }, { ...none, httpRoutes: [route] });
    expect(v.ok).toBe(false);
    expect(v.summary).toContain(
      'InferencePool (inference.networking.x-k8s.io) vllm-proxy-performance, not InferencePool (inference.networking.k8s.io)',
    );
  });
  test('fails when ResolvedRefs is False, with the reason', () => {
    const v = evaluateOne(
      { routeBackend: 'InferencePool' },
      { ...none, httpRoutes: [httpRoute({ conditions: { Accepted: 'True', ResolvedRefs: 'False' } })] },
    );
    expect(v.ok).toBe(false);
    expect(v.summary).toBe(
      'llm-d-inference-scheduler/llm-d-inference-scheduling parent infra-inference-scheduling-inference-gateway: ResolvedRefs=False (BackendNotFound)',
    );
  });
  test('fails when no gateway reported status', () => {
    const v = evaluateOne({ routeBackend: 'InferencePool' }, { ...none, httpRoutes: [httpRoute({ noStatus: true })] });
    expect(v.ok).toBe(false);
    expect(v.summary).toContain('has no status.parents');
  });
  test("fails when the pool's own ResolvedRefs is False", () => {
    const v = evaluateOne(
      { routeBackend: 'InferencePool' },
      { ...none, httpRoutes: [httpRoute()], inferencePools: [inferencePool({ Accepted: 'True', ResolvedRefs: 'False' })] },
    );
    expect(v.ok).toBe(false);
    expect(v.summary).toBe('InferencePool llm-d-vllm/vllm-proxy-performance: ResolvedRefs=False');
  });
  test('object form picks the named route; Service routes pass as Service', () => {
    const ab = httpRoute({
      name: 'vllm-ab-test',
      backendRefs: [
        { name: 'vllm-p2p-proxy', port: 8080 },
        { kind: 'Service', group: '', name: 'vllm-fs-proxy', port: 8080 },
      ],
    });
    const obs = { ...none, httpRoutes: [httpRoute(), ab] };
    const v = evaluateOne({ routeBackend: { kind: 'Service', route: 'vllm-ab-test', namespace: 'llm-d-inference-scheduler' } }, obs);
    expect(v.ok).toBe(true);
    const missing = evaluateOne({ routeBackend: { kind: 'Service', route: 'nope' } }, obs);
    expect(missing.ok).toBe(false);
    expect(missing.summary).toBe('HTTPRoute llm-d-inference-scheduler/nope not found (observed 2 routes)');
  });
  test('the short form checks the scheduler route only, not the A/B route next to it', () => {
    const ab = httpRoute({ name: 'vllm-ab-test', backendRefs: [{ name: 'vllm-p2p-proxy', port: 8080 }] });
    expect(evaluateOne({ routeBackend: 'InferencePool' }, { ...none, httpRoutes: [ab, httpRoute()] }).ok).toBe(true);
    const onlyAb = evaluateOne({ routeBackend: 'InferencePool' }, { ...none, httpRoutes: [ab] });
    expect(onlyAb.ok).toBe(false);
    expect(onlyAb.summary).toBe('HTTPRoute llm-d-inference-scheduler/llm-d-inference-scheduling not found (observed 1 route)');
  });
});

test.describe('eppProfile', () => {
  const has = {
    eppProfile: { has: ['active-request-scorer', 'max-score-picker', 'single-profile-handler'], lacks: ['by-label-selector'] },
  };
  test('passes on config and start log of proxy-performance', () => {
    const v = evaluateOne(has, { ...none, eppConfigYaml: CONFIG_PROXY_PERFORMANCE, eppLogLines: [START_LINE_PROXY_PERFORMANCE] });
    expect(v.ok).toBe(true);
    expect(v.summary).toBe(
      'rendered config and EPP start log: has active-request-scorer, max-score-picker, single-profile-handler; lacks by-label-selector',
    );
  });
  test('says which source disagrees: config right, EPP still runs the old profile', () => {
    const v = evaluateOne(has, { ...none, eppConfigYaml: CONFIG_PROXY_PERFORMANCE, eppLogLines: [START_LINE_BY_BACKEND] });
    expect(v.ok).toBe(false);
    expect(v.summary).toBe('the EPP start log (profile default) has by-label-selector');
  });
  test('the most recent start line wins after a restart', () => {
    const v = evaluateOne(has, { ...none, eppLogLines: [START_LINE_BY_BACKEND, START_LINE_PROXY_PERFORMANCE] });
    expect(v.ok).toBe(true);
  });
  test('a declared plugin no profile uses does not count as present', () => {
    const yaml = CONFIG_PROXY_PERFORMANCE.replace('      - pluginRef: active-request-scorer\n        weight: 1\n', '');
    const v = evaluateOne({ eppProfile: { has: ['active-request-scorer'] } }, { ...none, eppConfigYaml: yaml });
    expect(v.ok).toBe(false);
    expect(v.summary).toBe('the rendered EPP config lacks active-request-scorer');
  });
  test('lacks matches plugin names as well as types', () => {
    const v = evaluateOne({ eppProfile: { lacks: ['by-kv-backend'] } }, { ...none, eppConfigYaml: CONFIG_BY_BACKEND });
    expect(v.ok).toBe(false);
    expect(v.summary).toBe('the rendered EPP config has by-kv-backend');
  });
  test('broken configs fail readably', () => {
    const bad = evaluateOne(has, { ...none, eppConfigYaml: 'plugins: [\n' });
    expect(bad.ok).toBe(false);
    expect(bad.summary).toMatch(/^epp-config\.yaml does not parse: /);
    const dangling = evaluateOne(
      { eppProfile: { has: ['max-score-picker'] } },
      { ...none, eppConfigYaml: CONFIG_PROXY_PERFORMANCE.replace('pluginRef: max-score-picker', 'pluginRef: maxscore') },
    );
    expect(dangling.summary).toContain('pluginRefs to no plugin: default:maxscore');
  });
  test('nothing observed fails', () => {
    const v = evaluateOne(has, none);
    expect(v.ok).toBe(false);
    expect(v.summary).toBe('no EPP config and no loaded-profile line in the EPP log to check');
  });
});

test.describe('responses', () => {
  test('atLeast passes and fails with the status breakdown', () => {
    expect(evaluateOne({ responses: { status: 200, atLeast: 60 } }, { ...none, load: okLoad(60, 30) }).summary).toBe(
      '60/60 requests got 200',
    );
    const load = loadOf([
      ...Array.from({ length: 57 }, () => ({ status: 200 })),
      { status: 500 },
      { error: 'timeout' as const },
      { error: 'timeout' as const },
    ]);
    const v = evaluateOne({ responses: { status: 200, atLeast: 60 } }, { ...none, load });
    expect(v.ok).toBe(false);
    expect(v.summary).toBe('only 57 requests got 200, expected at least 60 (200×57, error:timeout×2, 500×1)');
  });
  test('all: true needs every request', () => {
    expect(evaluateOne({ responses: { status: 200, all: true } }, { ...none, load: okLoad(20, 10) }).ok).toBe(true);
    const v = evaluateOne({ responses: { status: 200, all: true } }, { ...none, load: loadOf([{ status: 200 }, { status: 503 }]) });
    expect(v.summary).toBe('1 of 2 requests did not get 200 (200×1, 503×1)');
    expect(evaluateOne({ responses: { status: 200, all: true } }, { ...none, load: loadOf([]) }).ok).toBe(false);
  });
  test('no load fails', () => {
    expect(evaluateOne({ responses: { status: 200, atLeast: 1 } }, none).summary).toBe(
      'no load was run, so there are no responses to count',
    );
  });
});

test.describe('noSchedulingFailures', () => {
  test('passes on a clean log and clean responses', () => {
    const v = evaluateOne({ noSchedulingFailures: {} }, { ...none, eppLogLines: eppLog(3, 3), load: okLoad(6, 3) });
    expect(v.ok).toBe(true);
    expect(v.summary).toBe('no scheduling failures in EPP log or response bodies');
  });
  test('fails on failures in the EPP log alone', () => {
    const lines = [...eppLog(3, 3), '{"level":"error","msg":"failed to run scheduler profile","profile":"default"}'];
    const v = evaluateOne({ noSchedulingFailures: null }, { ...none, eppLogLines: lines });
    expect(v.ok).toBe(false);
    expect(v.summary).toBe('the EPP log has 0 InferencePoolResourceExhausted and 1 "failed to run scheduler profile" lines');
  });
  test('fails on 429 bodies alone', () => {
    const load = loadOf([{ status: 200 }, { status: 429, errorBody: EXHAUSTED_BODY }]);
    const v = evaluateOne({ noSchedulingFailures: {} }, { ...none, load });
    expect(v.ok).toBe(false);
    expect(v.summary).toBe('1 response carries InferencePoolResourceExhausted');
    expect(v.evidence.sampleBody).toBe(EXHAUSTED_BODY);
  });
  test('nothing observed fails', () => {
    expect(evaluateOne({ noSchedulingFailures: {} }, none).ok).toBe(false);
  });
});

test.describe('expectRejection', () => {
  test('atLeast counts only matching rejections', () => {
    const load = loadOf([{ status: 429, errorBody: EXHAUSTED_BODY }, { status: 429, errorBody: 'rate limited' }, { status: 200 }]);
    expect(
      evaluateOne({ expectRejection: { status: 429, reason: 'InferencePoolResourceExhausted', atLeast: 1 } }, { ...none, load }).ok,
    ).toBe(true);
    const v = evaluateOne({ expectRejection: { status: 429, reason: 'InferencePoolResourceExhausted', atLeast: 2 } }, { ...none, load });
    expect(v.ok).toBe(false);
    expect(v.summary).toBe('only 1 of 3 requests were rejected with 429 InferencePoolResourceExhausted, expected at least 2');
  });
  test('every request: a wrong reason is named with the body', () => {
    const load = loadOf([
      { status: 429, errorBody: EXHAUSTED_BODY },
      { status: 429, errorBody: 'rate limited' },
    ]);
    const v = evaluateOne({ expectRejection: { status: 429, reason: 'InferencePoolResourceExhausted' } }, { ...none, load });
    expect(v.summary).toBe(
      '1 of 2 requests were not rejected with 429 InferencePoolResourceExhausted (429×2; e.g. #2: 429 "rate limited")',
    );
    expect(evaluateOne({ expectRejection: { status: 429 } }, { ...none, load: rejectedLoad(5) }).ok).toBe(true);
  });
});

test.describe('kvTransfer', () => {
  test('passes when decode reuses the KV, fails on the emptyDir flaw', () => {
    const obs: Observations = {
      ...none,
      kvTransfer: [
        { backend: 'p2p', requests: 60, hits: 60, source: 'vllm-decode-p2p /metrics' },
        { backend: 'fs', requests: 60, hits: 0, source: 'vllm-decode-fs /metrics' },
      ],
    };
    const p2p = evaluateOne({ kvTransfer: { backend: 'p2p', minHitRate: 0.9 } }, obs);
    expect(p2p.ok).toBe(true);
    expect(p2p.summary).toBe("p2p: 60/60 decode requests reused the prefill's KV (100.0%); from vllm-decode-p2p /metrics");
    const fs = evaluateOne({ kvTransfer: { backend: 'fs', minHitRate: 0.9 } }, obs);
    expect(fs.ok).toBe(false);
    expect(fs.summary).toBe("fs: 0/60 decode requests reused the prefill's KV (0.0%), below 90.0%; from vllm-decode-fs /metrics");
    expect(evaluateOne({ kvTransfer: { backend: 'fs', minHitRate: 0.9 } }, none).summary).toBe('no KV transfer measurement for backend fs');
  });
});

test.describe('recovery', () => {
  const crit = { recovery: { within: '60s', maxErrorRate: 0.1 } };
  test('passes within the window and error budget; within is a duration as text, as in a suite', () => {
    const obs = { ...none, recovery: { errorWindowMs: 4_000, recoveryMs: 12_000, errorRate: 0.05 } };
    const v = evaluateOne(crit, obs);
    expect(v.ok).toBe(true);
    expect(v.summary).toBe('recovered after 12s (≤ 60s), errors for 4.0s, error rate 5.0%');
    // one schema (the suite's): milliseconds as a number are refused, as they are in a suite file
    const ms = evaluateOne({ recovery: { within: 60_000, maxErrorRate: 0.1 } }, obs);
    expect(ms).toMatchObject({ ok: false, cause: 'invalid-criterion' });
    expect(ms.summary).toBe('invalid recovery settings: within: expected a duration like 500ms, 35s, 2m or 1h30m');
  });
  test('fails when slow, never recovered, or too many errors', () => {
    expect(evaluateOne(crit, { ...none, recovery: { errorWindowMs: 70_000, recoveryMs: 75_000, errorRate: 0.2 } }).summary).toBe(
      'recovered after 75s, more than 60s; error rate 20.0% over the allowed 10.0%',
    );
    expect(evaluateOne(crit, { ...none, recovery: { errorWindowMs: 90_000, recoveryMs: null, errorRate: 0.01 } }).summary).toBe(
      'never recovered (within the observation window)',
    );
    expect(evaluateOne(crit, none).ok).toBe(false);
  });
});

test('binomial tails against closed forms', () => {
  expect(binomialUpperTail(10, 10, 0.5)).toBeCloseTo(2 ** -10, 12);
  expect(binomialUpperTail(10, 0, 0.5)).toBe(1);
  expect(binomialUpperTail(4, 3, 0.5)).toBeCloseTo(5 / 16, 12);
  expect(binomialUpperTail(60, 32, 0.5)).toBeGreaterThan(0.3);
  expect(fairSplitExtremeProbability(10, 10, 2)).toBeCloseTo(2 ** -9, 12);
  expect(fairSplitExtremeProbability(12, 12, 3)).toBeCloseTo(3 ** -11, 12);
  // large N stays finite
  expect(binomialUpperTail(1_000_000, 500_000, 0.5)).toBeGreaterThan(0.49);
});

test('response ids name the backend', () => {
  expect(prefillServiceOf(p2pId(1))).toBe('vllm-prefill-p2p');
  expect(prefillServiceOf(fsId(1))).toBe('vllm-prefill-fs');
  expect(prefillServiceOf('chatcmpl-123')).toBeUndefined();
  expect(workloadForPrefill('vllm-prefill-p2p', ['vllm-p2p-proxy', 'vllm-fs-proxy'])).toBe('vllm-p2p-proxy');
  expect(workloadForPrefill('vllm-prefill-fs', ['vllm-p2p-proxy', 'vllm-fs-proxy'])).toBe('vllm-fs-proxy');
  expect(workloadForPrefill('other', ['vllm-p2p-proxy'])).toBeUndefined();
  const counted = countByPrefill(
    loadOf([
      { status: 200, responseId: p2pId(1) },
      { status: 200, headers: { 'x-request-id': `___prefill_addr_vllm-prefill-fs___decode_addr_vllm-decode-fs_ab` } },
      { status: 200 },
    ]).records,
  );
  expect(counted).toEqual({ byPrefill: { 'vllm-prefill-p2p': 1, 'vllm-prefill-fs': 1 }, withoutId: 1 });
});

test('EndpointPickerConfig resolution', () => {
  expect(parseEppConfig(CONFIG_BY_BACKEND)).toEqual({
    plugins: [
      { type: 'by-label-selector', name: 'by-kv-backend' },
      { type: 'active-request-scorer', name: 'active-request-scorer' },
      { type: 'max-score-picker', name: 'max-score-picker' },
      { type: 'single-profile-handler', name: 'single-profile-handler' },
    ],
    profiles: { default: ['by-label-selector', 'max-score-picker', 'active-request-scorer'] },
    referenced: ['by-kv-backend', 'max-score-picker', 'active-request-scorer'],
    unresolvedRefs: [],
  });
  expect(() => parseEppConfig('kind: ConfigMap\n')).toThrow('epp-config.yaml has kind ConfigMap, not EndpointPickerConfig');
});
