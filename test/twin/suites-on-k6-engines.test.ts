import { expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { staticPreflight } from '../../chaos/preflight-static.ts';
import { applySeedTopology } from '../../runner/seed-topology.ts';
import { Cluster } from '../../cluster/driver.ts';
import { evaluateCriteria } from '../../criteria/index.ts';
import type { LoadResult } from '../../load/result.ts';
import { runSuiteLoad } from '../../runner/load.ts';
import { collectObservations, markEppLog } from '../../runner/observe.ts';
import { loadSuite } from '../../suites/loader.ts';
import type { Suite } from '../../suites/schema.ts';
import { RANDOM_IP_PREFIX, startTwin, type TwinHandle } from '../../twin/launcher.ts';

/*
 * Issue 16, done-when: every shipped suite runs on engine k6 (the stand-in k6 on PATH) and k6-operator (the
 * twin's TestRun controller) with the same verdicts as builtin. One twin (the seed topology) for all suites;
 * each suite's own load, shortened (a few requests: the engines must agree on what the load produces, not
 * on how long it runs), compiled to a k6 script for k6 and k6-operator as `pd-harness run --engine` does;
 * then the suite's criteria that read the load and the EPP's picks are judged on each result. The suites'
 * setup steps and faults are not run here (the conformance/chaos projects run the suites on builtin): this
 * test compares the engines, on the same cluster state.
 */

type Load = NonNullable<Suite['spec']['load']>;
const ENGINES = ['builtin', 'k6', 'k6-operator'] as const;
/** Criteria judged from the load result and the EPP log (the others read cluster config, engine-independent). */
const FROM_LOAD = ['responses', 'proxiesChosen', 'noSchedulingFailures', 'variantRouting', 'expectRejection'];
const SUITES = fs
  .readdirSync('suites')
  .filter((f) => f.endsWith('.suite.yaml'))
  .sort()
  .map((f) => path.join('suites', f));

/**
 * The suite's load with few requests: closed model at most 4 per variant, open model 2 s (4 arrivals at 2/s), and
 * short answers (max_tokens at most 8: chaos-decode-kill-skew's 400-token streams take ~3 s each, and a stream of
 * 8 tokens is still a stream).
 */
function shortened(load: Load): Omit<Load, 'engine' | 'script'> {
  const { engine: _engine, script: _script, ...whole } = load;
  const body = whole.request.body;
  const rest =
    body && typeof body === 'object' && !Array.isArray(body) && typeof body['max_tokens'] === 'number' && body['max_tokens'] > 8
      ? { ...whole, request: { ...whole.request, body: { ...body, max_tokens: 8 } } }
      : whole;
  if (load.rate !== undefined) return { ...rest, duration: 2000, rate: Math.min(load.rate, 2) };
  return { ...rest, requests: Math.min(load.requests ?? 1, 4), concurrency: Math.min(load.concurrency ?? 1, 2) };
}

const statusCounts = (r: LoadResult): Record<string, number> => ({ ...r.summary.byStatus });

test.describe('every shipped suite: the same verdicts on builtin, k6 and k6-operator', () => {
  test.describe.configure({ mode: 'serial', timeout: 240_000 });

  let dir: string;
  let twin: TwinHandle;
  let cluster: Cluster;
  let savedPath: string | undefined;

  test.beforeAll(async () => {
    test.setTimeout(240_000);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'suites-k6-engines-'));
    twin = await startTwin({ stateDir: path.join(dir, 'twin'), port: 0, gatewayPort: 0, ipPrefix: RANDOM_IP_PREFIX });
    await applySeedTopology(twin.kubeconfigPath, 180_000);
    cluster = await Cluster.connect({ kubeconfigPath: twin.kubeconfigPath });
    // engine k6 runs `k6` from PATH: the stand-in (k6 itself is not installed here)
    savedPath = process.env.PATH;
    process.env.PATH = `${path.resolve('test/bin')}${path.delimiter}${savedPath ?? ''}`;
  });

  test.afterAll(async () => {
    process.env.PATH = savedPath;
    await cluster?.teardown().catch(() => undefined);
    await twin?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the list of shipped suites is the one this test covers', () => {
    expect(SUITES.length).toBeGreaterThanOrEqual(7);
  });

  for (const file of SUITES) {
    test(`${path.basename(file)}: k6 and k6-operator give builtin's verdicts`, async () => {
      const { suite } = loadSuite(file);
      const load = shortened(suite.spec.load!);
      const criteria = suite.spec.criteria.filter((c) => FROM_LOAD.includes(Object.keys(c as object)[0] ?? ''));
      const seen: { engine: string; records: number; statuses: Record<string, number>; verdicts: string[] }[] = [];
      for (const engine of ENGINES) {
        const s = { ...suite, spec: { ...suite.spec, load: { ...load, engine } } } as Suite;
        // what `pd-harness run --engine` checks first: nothing of this suite is refused on this engine, but a repro
        // campaign, whose cells run on builtin (the comparison below is of its load alone)
        if (suite.spec.repro && engine !== 'builtin')
          expect(() => staticPreflight({ suite: s, engine })).toThrow(/a repro campaign \(spec\.repro\)/);
        else staticPreflight({ suite: s, engine });
        // the EPP decisions counted are those after the mark: the previous engine's picks stay out
        const eppLogMark = await markEppLog(cluster, s);
        const since = Date.now();
        const result = await runSuiteLoad(s.spec.load!, { gatewayUrl: twin.gatewayUrl, cluster, suiteName: suite.metadata.name });
        expect(result.engine).toBe(engine);
        if (engine !== 'builtin') {
          // the generated script numbers requests as the builtin engine does, and the response ids come back
          expect(result.records.map((r) => r.index)).toEqual([...result.records.keys()]);
          expect(result.records.every((r) => r.tags?.['pd_request'] === String(r.index + 1))).toBe(true);
          expect(result.records.every((r) => r.status !== 200 || (r.responseId ?? '').includes('___prefill_addr_'))).toBe(true);
        }
        const observations = await collectObservations(cluster, s, { since, load: result, ...(eppLogMark ? { eppLogMark } : {}) });
        const verdicts = evaluateCriteria(criteria, observations).map((v) => `${v.name}: ${v.ok ? 'ok' : 'failed'}`);
        seen.push({ engine, records: result.records.length, statuses: statusCounts(result), verdicts });
      }
      const [reference, ...others] = seen;
      expect(reference!.records).toBeGreaterThan(0);
      for (const o of others) expect({ ...o, engine: reference!.engine }).toEqual(reference);
    });
  }
});
