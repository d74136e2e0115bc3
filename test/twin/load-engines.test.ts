import { expect } from '@playwright/test';
import * as path from 'node:path';
import { Cluster } from '../../cluster/driver.ts';
import { evaluateCriteria, type Verdict } from '../../criteria/index.ts';
import type { LoadResult } from '../../load/result.ts';
import { runSuiteLoad } from '../../runner/load.ts';
import { collectObservations, markEppLog } from '../../runner/observe.ts';
import { loadSuite } from '../../suites/loader.ts';
import type { Suite } from '../../suites/schema.ts';
import type { TwinHandle } from '../../twin/launcher.ts';
import { seedTwinTest as test } from '../helpers/seed-twin.ts';

// Must show (issue 7): the same suite load (the seed's 60 x 12 chat completions) through the twin's gateway
// with engine builtin, the k6 script in the built-in k6 runtime, engine k6 (the stand-in on PATH) and engine
// k6-operator (TestRun controller stand-in): same result shape, same criteria pass; a crossed k6 threshold
// fails the run in each k6 engine.

type Load = NonNullable<Suite['spec']['load']>;
type Engine = 'builtin' | 'k6-script' | 'k6' | 'k6-operator' | 'k6 (generated)' | 'k6-operator (generated)';

const SCRIPT = path.resolve('k6/gateway-load.ts');
const TEST_BIN = path.resolve('test/bin');
const JUDGED = ['responses', 'proxiesChosen', 'noSchedulingFailures'];

function loadFor(base: Load, engine: Engine, change: Partial<Load> = {}): Load {
  const l: Load = { ...base, ...change };
  if (engine === 'builtin') return { ...l, engine: 'builtin' };
  if (engine === 'k6-script') return { ...l, engine: 'builtin', script: SCRIPT };
  // the suite's declarative load compiled to a k6 script (load/k6-script): no script of its own
  if (engine === 'k6 (generated)') return { ...l, engine: 'k6', script: undefined };
  if (engine === 'k6-operator (generated)') return { ...l, engine: 'k6-operator', script: undefined };
  return { ...l, engine, script: SCRIPT };
}

/** The shape every engine's result must have, values left out. */
function shapeOf(r: LoadResult): unknown {
  const s = r.summary;
  return {
    top: ['engine', 'startedAt', 'records', 'summary'].filter((k) => k in r),
    summary: ['requests', 'byStatus', 'errors', 'durationMs', 'throughput', 'latencyMs'].map((k) => [
      k,
      typeof (s as unknown as Record<string, unknown>)[k],
    ]),
    latency: Object.keys(s.latencyMs).sort(),
    records: r.records.map((x, i) => ({
      index: x.index === i,
      startMs: typeof x.startMs,
      latencyMs: typeof x.latencyMs,
      bytes: typeof x.bytes,
      outcome: x.status !== undefined ? 'status' : x.error !== undefined ? 'error' : 'none',
    })),
  };
}

const crossed = (r: LoadResult) => (r.thresholds ?? []).filter((t) => !t.ok).map((t) => `${t.metric} ${t.expression}`);

test.describe('load engines are interchangeable through the twin gateway', () => {
  test.describe.configure({ mode: 'serial', timeout: 180_000 });

  let twin: TwinHandle;
  let cluster: Cluster;
  let suite: Suite;
  let base: Load;
  let savedPath: string | undefined;
  const results = new Map<Engine, LoadResult>();

  test.beforeAll(async ({ seedTwin }) => {
    twin = seedTwin;
    cluster = await Cluster.connect({ kubeconfigPath: twin.kubeconfigPath });
    suite = loadSuite('suites/proxy-performance.suite.yaml').suite;
    base = suite.spec.load!;
    // engine k6 runs `k6` from PATH: the stand-in (k6 itself is AGPL and not installed here)
    savedPath = process.env.PATH;
    process.env.PATH = `${TEST_BIN}${path.delimiter}${savedPath ?? ''}`;
  });

  test.afterAll(async () => {
    process.env.PATH = savedPath;
    await cluster?.teardown().catch(() => undefined);
  });

  async function run(engine: Engine, change: Partial<Load> = {}): Promise<{ result: LoadResult; verdicts: Verdict[] }> {
    // the EPP decisions counted are those after the mark: the previous run's picks stay out (as in a suite run)
    const eppLogMark = await markEppLog(cluster, suite);
    const since = Date.now();
    const result = await runSuiteLoad(loadFor(base, engine, change), { gatewayUrl: twin.gatewayUrl, cluster });
    const observations = await collectObservations(cluster, suite, { since, load: result, ...(eppLogMark ? { eppLogMark } : {}) });
    const criteria = suite.spec.criteria.filter((c) => JUDGED.includes(Object.keys(c as object)[0] ?? ''));
    expect(criteria).toHaveLength(3);
    return { result, verdicts: evaluateCriteria(criteria, observations) };
  }

  // the suite's load compiled to a k6 script on k6 / k6-operator: test/twin/suites-on-k6-engines.test.ts, for every suite
  for (const engine of ['builtin', 'k6-script', 'k6', 'k6-operator'] as const) {
    test(`${engine}: 60 x 12 chat completions, responses 200 / proxiesChosen / noSchedulingFailures pass`, async () => {
      const { result, verdicts } = await run(engine);
      expect(result.engine).toBe(engine);
      expect(result.records).toHaveLength(60);
      expect(result.summary.byStatus).toEqual({ '200': 60 });
      expect(crossed(result)).toEqual([]);
      expect(verdicts.map((v) => `${v.name}: ${v.ok ? 'ok' : v.summary}`)).toEqual([
        'responses: ok',
        'proxiesChosen: ok',
        'noSchedulingFailures: ok',
      ]);
      results.set(engine, result);
    });
  }

  test('every engine gives a result of the same shape', () => {
    const shapes = [...results.entries()].map(([engine, r]) => [engine, shapeOf(r)] as const);
    expect(shapes.map(([e]) => e)).toEqual(['builtin', 'k6-script', 'k6', 'k6-operator']);
    const reference = shapes[0]![1];
    for (const [, shape] of shapes.slice(1)) expect(shape).toEqual(reference);
  });

  for (const engine of ['k6-script', 'k6', 'k6-operator'] as const) {
    test(`${engine}: a crossed k6 threshold (1ms request timeout) fails the run`, async () => {
      const { result, verdicts } = await run(engine, { requests: 12, timeout: 1 });
      expect(result.records).toHaveLength(12);
      expect(result.summary.errors.timeout).toBe(12);
      expect(crossed(result)).toEqual(expect.arrayContaining(['http_req_failed rate<0.01', 'checks rate>0.99', 'gateway_ok rate>0.99']));
      expect(verdicts.find((v) => v.name === 'responses')?.ok).toBe(false);
    });
  }
  for (const engine of ['builtin', 'k6 (generated)', 'k6-operator (generated)'] as const) {
    test(`${engine}: a suite threshold crossed (1ms request timeout) gives the same threshold verdicts`, async () => {
      const thresholds = { http_req_failed: ['rate<0.01'], http_reqs: ['count==12'] };
      const { result } = await run(engine, { requests: 12, timeout: 1, thresholds });
      expect(result.records).toHaveLength(12);
      expect(result.summary.errors.timeout).toBe(12);
      expect((result.thresholds ?? []).map((t) => `${t.metric} ${t.expression} ${t.ok}`).sort()).toEqual([
        'http_req_failed rate<0.01 false',
        'http_reqs count==12 true',
      ]);
    });
  }
});
