import { expect, test } from '@playwright/test';
import { evaluateInput } from '../../criteria/index.ts';
import type { Observations } from '../../criteria/observations.ts';
import { evaluate, isCutStream, requestTimeoutOf, schema, staleShare, meanInFlight } from '../../criteria/pick-skew.ts';
import type { LoadResult, RequestRecord } from '../../load/result.ts';
import { eppConfigYaml } from '../../twin/operator/render.ts';
import { parseEppConfig } from '../../twin/sims/epp/config.ts';
import { Datastore } from '../../twin/sims/epp/datastore.ts';
import { buildScheduler } from '../../twin/sims/epp/scheduler.ts';
import { PickService } from '../../twin/sims/epp/service.ts';
import { seededRng, type EndpointSpec } from '../../twin/sims/epp/types.ts';

const CUT = 'vllm-p2p-proxy';
const OTHER = 'vllm-fs-proxy';
const WORKLOADS = [CUT, OTHER];
const T0 = 1_800_000_000_000;
const CUT_MESSAGE = 'after status 200: UND_ERR_SOCKET: other side closed';

const PROXIES: EndpointSpec[] = [
  { namespace: 'llm-d-vllm', name: 'vllm-p2p-proxy-5d9c7b7f6-x2k4q', address: '127.0.0.9', port: 8080, labels: { role: 'proxy' } },
  { namespace: 'llm-d-vllm', name: 'vllm-fs-proxy-7c8d9f6b4-x9k2m', address: '127.0.0.10', port: 8080, labels: { role: 'proxy' } },
];

interface RunShape {
  /** true: the twin's EPP (counts stay until the timeout); false: a twin that released every count at once */
  staleCounts: boolean;
  /** the active-request-scorer's requestTimeout in the rendered config */
  requestTimeout?: string;
  loadMs?: number;
}

/**
 * A chaos run driven through the twin's own EPP (Datastore + PickService, proxy-performance config) on a simulated
 * clock, no processes and no timing: requests arrive every 333 ms and stream for 3 s; at 8 s the P2P decode pod
 * dies and the streams in flight on its proxy are cut; until it is back (16 s) its proxy answers a whole JSON 500
 * at once (a complete response); steady state holds again at 18 s. Returns what the runner would observe.
 */
function simulateRun(shape: RunShape): Observations {
  const yaml = eppConfigYaml('proxy-performance').replace('requestTimeout: 2m', `requestTimeout: ${shape.requestTimeout ?? '2m'}`);
  const scheduler = buildScheduler(parseEppConfig(yaml));
  let now = T0;
  const ds = new Datastore(scheduler.requestTimeoutMs, () => now);
  ds.setEndpoints(PROXIES);
  const lines: string[] = [];
  const svc = new PickService({
    scheduler,
    datastore: ds,
    rng: seededRng(3),
    // the service stamps its lines with the wall clock: the simulated one replaces it
    log: (l) => lines.push(JSON.stringify({ ...JSON.parse(l), ts: now / 1000 })),
  });
  const FAULT = T0 + 8_000;
  const BACK = T0 + 16_000;
  const RECOVERED = T0 + 18_000;
  const LOAD_END = T0 + (shape.loadMs ?? 45_000);
  const records: RequestRecord[] = [];
  const open = new Map<string, { record: RequestRecord; endsAt: number; pod: string }>();
  let index = 0;
  let nextArrival = T0;
  for (now = T0; now <= LOAD_END + 5_000; now += 10) {
    for (const [id, o] of open) {
      if (o.endsAt > now) continue;
      open.delete(id);
      svc.done(id);
    }
    if (now === FAULT) {
      for (const [id, o] of open) {
        if (!o.pod.includes(CUT)) continue;
        open.delete(id);
        Object.assign(o.record, { status: undefined, error: 'reset', errorMessage: CUT_MESSAGE, latencyMs: now - o.record.startMs });
        // the twin's gateway sends no ResponseComplete for a cut stream; the kinder twin released it at once
        if (!shape.staleCounts) svc.done(id);
      }
    }
    if (now >= nextArrival && now < LOAD_END) {
      nextArrival += 333;
      const id = `req-${index}`;
      const out = svc.pick({ requestId: id, model: 'Qwen/Qwen3-Coder-30B-A3B-Instruct', promptLength: 12, headers: {} });
      if (out.status !== 200) throw new Error(`pick failed: ${out.body}`);
      const pod = out.body.endpoints[0]!.pod;
      const down = pod.includes(CUT) && now >= FAULT && now < BACK;
      const record: RequestRecord = { index: index++, startMs: now, latencyMs: down ? 20 : 3_000, status: down ? 500 : 200, bytes: 100 };
      records.push(record);
      open.set(id, { record, endsAt: now + record.latencyMs, pod });
    }
  }
  const load = { records } as unknown as LoadResult;
  return {
    httpRoutes: [],
    inferencePools: [],
    eppConfigYaml: yaml,
    eppLogLines: lines,
    load,
    faults: [{ index: 0, kind: 'podKill', atMs: FAULT, targets: ['vllm-decode-p2p'] }],
    recovery: { errorWindowMs: 8_000, recoveryMs: 10_000, errorRate: 0.1, recoveredAtMs: RECOVERED },
  };
}

const INPUT = schema.parse({ cut: CUT, workloads: WORKLOADS });

test.describe('pickSkew on runs through the twin EPP', () => {
  test('stale counts (the real scorer, and the twin): the cut proxy gets the predicted small share after recovery', () => {
    const v = evaluate(INPUT, simulateRun({ staleCounts: true }));
    expect(v.ok, v.summary).toBe(true);
    expect(v.summary).toMatch(/^vllm-p2p-proxy got \d+\/\d+ picks \(\d+\.\d%\) after recovery, ≤ /);
    expect(v.summary).toContain('the end of the skew is not in this run');
    const e = v.evidence as { cutStreams: number; predictedShare: number; threshold: number };
    expect(e.cutStreams).toBeGreaterThanOrEqual(3);
    expect(e.predictedShare).toBeLessThan(0.35);
  });

  test('a twin that released cut streams at once fails: the picks are back to an even split', () => {
    const v = evaluate(INPUT, simulateRun({ staleCounts: false }));
    expect(v.ok, v.summary).toBe(false);
    expect(v.summary).toContain('the EPP did not keep counting the');
  });

  test('requestTimeout 30s: the skew holds until the counts may expire and ends once the ticker cleared them', () => {
    const run = simulateRun({ staleCounts: true, requestTimeout: '30s', loadMs: 100_000 });
    const v = evaluate(INPUT, run);
    expect(v.ok, v.summary).toBe(true);
    expect(v.summary).toMatch(/after the ticker cleared them \d+\/\d+/);
    const e = v.evidence as { window: { endsBecause: string }; afterCleared: { picks: { cut: number; total: number } } };
    expect(e.window.endsBecause).toBe('first count may expire');
    expect(e.afterCleared.picks.cut / e.afterCleared.picks.total).toBeGreaterThan(0.4);
  });

  test('a skew that never ends after the counts should have cleared fails', () => {
    const run = simulateRun({ staleCounts: true, requestTimeout: '30s', loadMs: 100_000 });
    // the same run, with every pick after the clearing time moved to the other proxy
    const clearedAt = T0 + 70_000;
    run.eppLogLines = run.eppLogLines!.map((l) => {
      const o = JSON.parse(l) as { ts: number; selected?: string[] };
      return o.ts * 1000 >= clearedAt && o.selected
        ? JSON.stringify({ ...o, selected: ['llm-d-vllm/vllm-fs-proxy-7c8d9f6b4-x9k2m-rank-0'] })
        : l;
    });
    const v = evaluate(INPUT, run);
    expect(v.ok).toBe(false);
    expect(v.summary).toContain('the skew did not end');
  });

  test('registered: suites name it pickSkew, and the evaluator validates its settings', () => {
    const run = simulateRun({ staleCounts: true });
    const [good, bad] = evaluateInput(
      [{ pickSkew: { cut: CUT, workloads: WORKLOADS } }, { pickSkew: { cut: 'x', workloads: WORKLOADS } }],
      run,
    );
    expect(good!.ok, good!.summary).toBe(true);
    expect(bad!.ok).toBe(false);
    expect(bad!.summary).toBe('invalid pickSkew settings: cut: cut must be one of workloads');
  });
});

test.describe('pickSkew refuses runs that cannot show the skew', () => {
  test('no cut stream, no recovery, no fault, no active-request-scorer: each says why', () => {
    const run = simulateRun({ staleCounts: true });
    const noCut = { ...run, load: { records: run.load!.records.filter((r) => !isCutStream(r)) } as LoadResult };
    expect(evaluate(INPUT, noCut).summary).toContain('cut no stream');
    expect(evaluate(INPUT, { ...run, recovery: { errorWindowMs: 0, recoveryMs: null, errorRate: 0 } }).summary).toContain(
      'steady state never held again',
    );
    expect(evaluate(schema.parse({ cut: CUT, workloads: WORKLOADS, fault: 2 }), run).summary).toBe(
      'no fault 2 happened in this run (1 fault observed)',
    );
    expect(evaluate(INPUT, { ...run, eppConfigYaml: eppConfigYaml('default') }).summary).toContain('has no active-request-scorer');
    // the EPP log ends a few picks after recovery
    const early = run.eppLogLines!.filter((l) => (JSON.parse(l) as { ts: number }).ts * 1000 < T0 + 20_000);
    expect(evaluate(INPUT, { ...run, eppLogLines: early }).summary).toMatch(/^\d+ picks between recovery and .* too few to judge/);
  });

  test('too few cut streams for the load in flight: the prediction is too close to an even split', () => {
    const run = simulateRun({ staleCounts: true });
    let kept = 0;
    const records = run.load!.records.filter((r) => !isCutStream(r) || kept++ < 1);
    const v = evaluate(INPUT, { ...run, load: { records } as LoadResult });
    expect(v.ok).toBe(false);
    expect(v.summary).toContain('too close to an even 50.0%');
  });
});

test.describe('pickSkew helpers', () => {
  test('a cut stream failed after a 2xx status; a 500, a timeout or a stream-error event is not one', () => {
    const base = { index: 0, startMs: 0, latencyMs: 1, bytes: 0 };
    expect(isCutStream({ ...base, error: 'reset', errorMessage: CUT_MESSAGE })).toBe(true);
    expect(isCutStream({ ...base, error: 'other', errorMessage: 'after status 200: terminated' })).toBe(true);
    expect(isCutStream({ ...base, status: 500 })).toBe(false);
    expect(isCutStream({ ...base, error: 'reset', errorMessage: 'UND_ERR_SOCKET: other side closed' })).toBe(false);
    expect(isCutStream({ ...base, status: 200, error: 'stream-error', errorMessage: 'EngineDeadError' })).toBe(false);
    expect(isCutStream({ ...base, error: 'timeout', errorMessage: 'after status 503: no complete response' })).toBe(false);
  });

  test('requestTimeout as the real factory reads it: 2m when empty, invalid or non-positive', () => {
    const cfg = (p: string) => `plugins:\n- type: active-request-scorer\n${p}- type: max-score-picker\n`;
    expect(requestTimeoutOf(cfg('  parameters: {requestTimeout: 30s}\n'))).toEqual({ ms: 30_000, text: '30s' });
    expect(requestTimeoutOf(cfg(''))).toEqual({ ms: 120_000, text: '2m (default)' });
    expect(requestTimeoutOf(cfg('  parameters: {requestTimeout: soon}\n'))).toEqual({ ms: 120_000, text: '2m (default)' });
    expect(requestTimeoutOf(cfg('  parameters: {requestTimeout: -5s}\n'))).toEqual({ ms: 120_000, text: '2m (default)' });
    expect(requestTimeoutOf(undefined)).toEqual({ missing: 'no EPP config observed (epp-config.yaml)' });
  });

  test('the predicted share evens out counts: (L - (k-1)s) / kL, never below 0', () => {
    expect(staleShare(0, 10, 2)).toBe(0.5);
    expect(staleShare(5, 10, 2)).toBe(0.25);
    expect(staleShare(12, 10, 2)).toBe(0);
    expect(staleShare(2, 12, 3)).toBeCloseTo(8 / 36);
    expect(meanInFlight([{ index: 0, startMs: 0, latencyMs: 1000, bytes: 0 }], 500, 1500)).toBe(0.5);
  });
});
