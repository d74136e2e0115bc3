import { expect, test } from '@playwright/test';
import { CONFIG_PROFILES, eppConfigYaml } from '../../twin/operator/render.ts';
import { EppConfigError, parseEppConfig } from '../../twin/sims/epp/config.ts';
import { Datastore } from '../../twin/sims/epp/datastore.ts';
import { parseGoDuration as parseDurationMs } from '../../k8s-rules/duration.ts';
import { decisionLine, profileLoadedLine } from '../../twin/sims/epp/log.ts';
import { buildScheduler, schedule } from '../../twin/sims/epp/scheduler.ts';
import { PickService } from '../../twin/sims/epp/service.ts';
import { seededRng, type EndpointSpec } from '../../twin/sims/epp/types.ts';

/** The config the SchedulerInstall operator renders for the profile (twin/operator/render.ts). */
const PROXY_PERFORMANCE = eppConfigYaml('proxy-performance');

/** The config the SchedulerInstall operator renders for the profile (twin/operator/render.ts). */
const BY_BACKEND = eppConfigYaml('proxy-performance-by-backend');

const DEFAULT_PROFILE = `
apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: queue-scorer
- type: kv-cache-utilization-scorer
- type: max-score-picker
- type: single-profile-handler
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: queue-scorer
    weight: 2
  - pluginRef: kv-cache-utilization-scorer
    weight: 1
  - pluginRef: max-score-picker
`;

function proxies(): EndpointSpec[] {
  return [
    {
      namespace: 'llm-d-vllm',
      name: 'vllm-p2p-proxy-5d9c7b7f6-x2k4q',
      address: '127.0.0.9',
      port: 8080,
      labels: { app: 'vllm-p2p-test', role: 'proxy' },
    },
    {
      namespace: 'llm-d-vllm',
      name: 'vllm-fs-proxy-7c8d9e0f1-abcde',
      address: '127.0.0.10',
      port: 8080,
      labels: { app: 'vllm-fs-test', role: 'proxy' },
    },
  ];
}

function fixture(yaml: string, specs = proxies(), seed = 1) {
  const scheduler = buildScheduler(parseEppConfig(yaml));
  const ds = new Datastore(scheduler.requestTimeoutMs);
  ds.setEndpoints(specs);
  const lines: string[] = [];
  const svc = new PickService({ scheduler, datastore: ds, rng: seededRng(seed), log: (l) => lines.push(l) });
  return { scheduler, ds, svc, lines };
}

const req = (id: string) => ({ requestId: id, model: 'Qwen/Qwen3-Coder-30B-A3B-Instruct', promptLength: 12, headers: {} });

test.describe('EndpointPickerConfig parsing', () => {
  test('proxy-performance: active-request-scorer weight 1, max-score-picker, no filters, 2m timeout', () => {
    const s = buildScheduler(parseEppConfig(PROXY_PERFORMANCE));
    expect(s.profile.name).toBe('default');
    expect(s.profile.filters).toEqual([]);
    expect(s.profile.scorers.map((w) => [w.scorer.type, w.weight])).toEqual([['active-request-scorer', 1]]);
    expect(s.profile.picker.type).toBe('max-score-picker');
    expect(s.profileHandler).toBe('single-profile-handler');
    expect(s.requestTimeoutMs).toBe(120_000);
  });

  test('proxy-performance-by-backend: by-label-selector named by-kv-backend is the filter', () => {
    const s = buildScheduler(parseEppConfig(BY_BACKEND));
    expect(s.profile.filters.map((f) => [f.type, f.name])).toEqual([['by-label-selector', 'by-kv-backend']]);
    expect(s.profile.scorers.map((w) => w.scorer.type)).toEqual(['active-request-scorer']);
  });

  test('default: queue and kv-cache scorers with their weights', () => {
    const s = buildScheduler(parseEppConfig(DEFAULT_PROFILE));
    expect(s.profile.scorers.map((w) => [w.scorer.type, w.weight])).toEqual([
      ['queue-scorer', 2],
      ['kv-cache-utilization-scorer', 1],
    ]);
  });

  test('the three profiles as twin/operator/render.ts renders them', () => {
    for (const profile of CONFIG_PROFILES) {
      const s = buildScheduler(parseEppConfig(eppConfigYaml(profile)));
      expect(s.profile.picker.type).toBe('max-score-picker');
      const filters = s.profile.filters.map((f) => f.type);
      const scorers = s.profile.scorers.map((w) => w.scorer.type);
      if (profile === 'default') expect(scorers).toEqual(['queue-scorer', 'kv-cache-utilization-scorer']);
      if (profile === 'proxy-performance') expect([filters, scorers]).toEqual([[], ['active-request-scorer']]);
      if (profile === 'proxy-performance-by-backend')
        expect([filters, scorers]).toEqual([['by-label-selector'], ['active-request-scorer']]);
    }
  });

  test('unknown plugin type and broken YAML are one-line config errors', () => {
    expect(() => buildScheduler(parseEppConfig('plugins:\n- type: no-such-scorer\n'))).toThrow(
      "failed to load the configuration - failed to instantiate plugins - plugin type 'no-such-scorer' is not found in registry",
    );
    expect(() => parseEppConfig('plugins: [\n  - type: x\n')).toThrow(EppConfigError);
    expect(() =>
      buildScheduler(parseEppConfig('plugins:\n- type: queue-scorer\nschedulingProfiles:\n- name: p\n  plugins:\n  - pluginRef: nope\n')),
    ).toThrow('failed to load the configuration - failed to validate scheduling profiles - nope is a reference to an undefined Plugin');
    // a bad requestTimeout is logged and the 2m default kept (llm-d v0.4.0 scorer/active_request.go)
    const s = buildScheduler(parseEppConfig('plugins:\n- type: active-request-scorer\n  parameters: {requestTimeout: soon}\n'));
    expect(s.requestTimeoutMs).toBe(120_000);
    expect(s.warnings).toEqual([
      {
        level: 'error',
        msg: 'Invalid request timeout duration, using default request timeout',
        fields: { error: 'time: invalid duration "soon"' },
      },
    ]);
  });

  test('Go durations', () => {
    expect(parseDurationMs('2m')).toBe(120_000);
    expect(parseDurationMs('1m30s')).toBe(90_000);
    expect(parseDurationMs('250ms')).toBe(250);
    expect(() => parseDurationMs('2 minutes')).toThrow();
  });
});

test.describe('filter, score, pick', () => {
  test('active-request-scorer spreads concurrent picks across both proxies', () => {
    const { svc } = fixture(PROXY_PERFORMANCE);
    const counts = new Map<string, number>();
    for (let i = 0; i < 10; i++) {
      const out = svc.pick(req(`r${i}`));
      expect(out.status).toBe(200);
      if (out.status !== 200) continue;
      const pod = out.body.endpoints[0]!.pod;
      counts.set(pod, (counts.get(pod) ?? 0) + 1);
    }
    // with none finished, in-flight counts can differ by at most one
    expect([...counts.values()].sort()).toEqual([5, 5]);
  });

  test('done releases in-flight counts; requestTimeout expires forgotten requests', () => {
    let now = 1_000;
    const scheduler = buildScheduler(parseEppConfig(PROXY_PERFORMANCE));
    const ds = new Datastore(scheduler.requestTimeoutMs, () => now);
    ds.setEndpoints(proxies());
    const svc = new PickService({ scheduler, datastore: ds, rng: seededRng(3), log: () => {} });
    svc.pick(req('a'));
    svc.pick(req('b'));
    expect(ds.endpoints().map((e) => e.inFlight)).toEqual([1, 1]);
    expect(svc.done('a')).toBe(true);
    expect(svc.done('a')).toBe(false);
    expect(ds.inFlightRequests()).toBe(1);
    // llm-d v0.4.0 active_request.go: expired entries go at the next tick of a requestTimeout-period ticker
    now += 120_001;
    ds.expire();
    expect(ds.inFlightRequests()).toBe(1);
    now = 1_000 + 240_000;
    ds.expire();
    expect(ds.endpoints().map((e) => e.inFlight)).toEqual([0, 0]);
  });

  test('by-label-selector with no labelled pod: 429 InferencePoolResourceExhausted and the error line', () => {
    const { svc, lines } = fixture(BY_BACKEND);
    const out = svc.pick(req('x'));
    expect(out.status).toBe(429);
    expect(JSON.stringify(out.body)).toContain('inference gateway: InferencePoolResourceExhausted - failed to find target pod');
    const err = JSON.parse(lines.at(-1)!);
    expect(err).toMatchObject({
      level: 'error',
      msg: 'failed to run scheduler profile',
      profile: 'default',
      error: 'InferencePoolResourceExhausted - failed to find target pod: no pods available for the given request',
    });
  });

  test('by-label-selector keeps the labelled pod', () => {
    const specs = proxies();
    specs[0]!.labels['llm-d.ai/kv-backend'] = 'nvlink';
    const { svc } = fixture(BY_BACKEND, specs);
    for (let i = 0; i < 4; i++) {
      const out = svc.pick(req(`y${i}`));
      expect(out.status === 200 && out.body.endpoints[0]!.pod).toBe('llm-d-vllm/vllm-p2p-proxy-5d9c7b7f6-x2k4q');
    }
  });

  test('empty pool: 503', () => {
    const { svc } = fixture(PROXY_PERFORMANCE, []);
    expect(svc.pick(req('z')).status).toBe(503);
  });

  test('max-score-picker breaks ties at random over all tied endpoints', () => {
    const specs: EndpointSpec[] = Array.from({ length: 4 }, (_, i) => ({
      namespace: 'ns',
      name: `p${i}`,
      address: `127.0.0.${i + 2}`,
      port: 8000,
      labels: {},
    }));
    const scheduler = buildScheduler(parseEppConfig(PROXY_PERFORMANCE));
    const ds = new Datastore(60_000);
    ds.setEndpoints(specs);
    const rng = seededRng(42);
    const seen = new Map<string, number>();
    for (let i = 0; i < 400; i++) {
      const r = schedule(scheduler, ds.endpoints(), rng); // nothing tracked: all tie at 1
      expect(r.ok).toBe(true);
      if (r.ok) seen.set(r.selected[0]!.name, (seen.get(r.selected[0]!.name) ?? 0) + 1);
    }
    expect(seen.size).toBe(4);
    for (const n of seen.values()) expect(n).toBeGreaterThan(60);
  });

  test('max-score-picker takes the strict maximum and honours maxNumOfEndpoints', () => {
    const yaml = `plugins:\n- type: kv-cache-utilization-scorer\n- type: max-score-picker\n  parameters: {maxNumOfEndpoints: 2}\n`;
    const scheduler = buildScheduler(parseEppConfig(yaml));
    const ds = new Datastore(60_000);
    ds.setEndpoints(
      Array.from({ length: 3 }, (_, i) => ({ namespace: 'ns', name: `p${i}`, address: `127.0.0.${i + 2}`, port: 8000, labels: {} })),
    );
    ds.updateMetrics('ns/p0', { waiting: 0, running: 0, kvCacheUsage: 0.9 });
    ds.updateMetrics('ns/p1', { waiting: 0, running: 0, kvCacheUsage: 0.1 });
    ds.updateMetrics('ns/p2', { waiting: 0, running: 0, kvCacheUsage: 0.5 });
    const r = schedule(scheduler, ds.endpoints(), seededRng(1));
    expect(r.ok && r.selected.map((e) => e.name)).toEqual(['p1', 'p2']);
  });

  test('weights: a heavier queue-scorer outvotes kv-cache-utilization-scorer', () => {
    const scheduler = buildScheduler(parseEppConfig(DEFAULT_PROFILE));
    const ds = new Datastore(60_000);
    ds.setEndpoints(proxies());
    const [a, b] = ds.endpoints();
    // a: long queue, empty cache; b: empty queue, full cache
    ds.updateMetrics(a!.key, { waiting: 10, running: 0, kvCacheUsage: 0 });
    ds.updateMetrics(b!.key, { waiting: 0, running: 0, kvCacheUsage: 1 });
    const r = schedule(scheduler, ds.endpoints(), seededRng(1));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect([...r.totals]).toEqual([1, 2]); // a: 0*2 + 1*1; b: 1*2 + 0*1
    expect(r.selected[0]!.key).toBe(b!.key);
  });

  test('weighted-random-picker follows score proportions; random-picker is uniform', () => {
    const base = `plugins:\n- type: kv-cache-utilization-scorer\n- type: PICKER\n`;
    const specs: EndpointSpec[] = [0, 1].map((i) => ({
      namespace: 'ns',
      name: `p${i}`,
      address: `127.0.0.${i + 2}`,
      port: 8000,
      labels: {},
    }));
    for (const [picker, expectedShare] of [
      ['weighted-random-picker', 0.75],
      ['random-picker', 0.5],
    ] as const) {
      const scheduler = buildScheduler(parseEppConfig(base.replace('PICKER', picker)));
      const ds = new Datastore(60_000);
      ds.setEndpoints(specs);
      ds.updateMetrics('ns/p0', { waiting: 0, running: 0, kvCacheUsage: 0.25 }); // score 0.75
      ds.updateMetrics('ns/p1', { waiting: 0, running: 0, kvCacheUsage: 0.75 }); // score 0.25
      const rng = seededRng(7);
      let p0 = 0;
      const n = 4000;
      for (let i = 0; i < n; i++) {
        const r = schedule(scheduler, ds.endpoints(), rng);
        if (r.ok && r.selected[0]!.name === 'p0') p0++;
      }
      expect(Math.abs(p0 / n - expectedShare)).toBeLessThan(0.04);
    }
  });

  test('prefill-filter and decode-filter use llm-d.ai/role', () => {
    const specs: EndpointSpec[] = ['prefill', 'decode', 'both'].map((role, i) => ({
      namespace: 'ns',
      name: role,
      address: `127.0.0.${i + 2}`,
      port: 8000,
      labels: { 'llm-d.ai/role': role },
    }));
    // llm-d v0.4.0 filter/pd_role.go: prefill accepts only "prefill"; decode accepts decode, both (and no label)
    for (const [filter, expected] of [
      ['prefill-filter', ['prefill']],
      ['decode-filter', ['both', 'decode']],
    ] as const) {
      const scheduler = buildScheduler(
        parseEppConfig(`plugins:\n- type: ${filter}\n- type: random-picker\n  parameters: {maxNumOfEndpoints: 3}\n`),
      );
      const ds = new Datastore(60_000);
      ds.setEndpoints(specs);
      const r = schedule(scheduler, ds.endpoints(), seededRng(1));
      expect(r.ok && r.selected.map((e) => e.name).sort()).toEqual(expected);
    }
  });
});

test.describe('log lines', () => {
  test('Loaded scheduling profile has exactly the analyzer shape', () => {
    const s = buildScheduler(parseEppConfig(PROXY_PERFORMANCE));
    const obj = JSON.parse(profileLoadedLine(s, 1712345678.123));
    expect(obj).toEqual({
      level: 'info',
      ts: 1712345678.123,
      logger: 'scheduler',
      msg: 'Loaded scheduling profile',
      profile: 'default',
      Filters: [],
      Scorers: ['active-request-scorer'],
      Picker: 'max-score-picker',
    });
    expect(JSON.parse(profileLoadedLine(buildScheduler(parseEppConfig(BY_BACKEND)), 1)).Filters).toEqual(['by-label-selector']);
  });

  test('Scoring decision and Scoring breakdown lines', () => {
    const { svc, lines } = fixture(PROXY_PERFORMANCE);
    svc.pick(req('first'));
    const out = svc.pick(req('second'));
    expect(out.status).toBe(200);
    const decision = JSON.parse(lines[2]!);
    expect(Object.keys(decision)).toEqual(['level', 'ts', 'msg', 'request_id', 'model', 'prompt_len', 'picker', 'selected', 'scores']);
    expect(decision).toMatchObject({
      level: 'info',
      msg: 'Scoring decision',
      request_id: 'second',
      model: 'Qwen/Qwen3-Coder-30B-A3B-Instruct',
      prompt_len: 12,
      picker: 'max-score-picker/max-score-picker',
    });
    expect(typeof decision.ts).toBe('number');
    // one proxy has the first request in flight (score 0), the other is idle (1) and gets picked
    expect(decision.scores.sort()).toEqual([
      'llm-d-vllm/vllm-fs-proxy-7c8d9e0f1-abcde-rank-0=' + (decision.selected[0].includes('fs-proxy') ? '1.000' : '0.000'),
      'llm-d-vllm/vllm-p2p-proxy-5d9c7b7f6-x2k4q-rank-0=' + (decision.selected[0].includes('p2p-proxy') ? '1.000' : '0.000'),
    ]);
    expect(decision.selected).toHaveLength(1);
    expect(decision.selected[0]).toMatch(/^llm-d-vllm\/vllm-(p2p|fs)-proxy-.*-rank-0$/);
    // the seed's pipeline: rg -o 'selected\":\[[^]]+\]'
    expect(lines[2]!).toMatch(/selected":\["llm-d-vllm\/vllm-(p2p|fs)-proxy-[^"]+-rank-0"\]/);
    const breakdown = JSON.parse(lines[3]!);
    expect(breakdown).toMatchObject({ level: 'info', msg: 'Scoring breakdown', request_id: 'second', prompt_len: 12 });
    expect(breakdown.endpoints).toHaveLength(2);
    const sel = breakdown.endpoints.find((e: { endpoint: string }) => e.endpoint === decision.selected[0]);
    expect(sel.scorers['active-request-scorer']).toEqual({ raw: 1, weight: 1, weighted: 1 });
    expect(sel.total).toBe(1);
  });

  test('decision scores have three decimals', () => {
    const { scheduler, ds } = fixture(PROXY_PERFORMANCE);
    const r = schedule(scheduler, ds.endpoints(), seededRng(1));
    if (!r.ok) throw new Error('expected a pick');
    r.totals[0] = 0.5;
    const obj = JSON.parse(decisionLine(scheduler, req('q'), r, 1));
    expect(obj.scores[0]).toMatch(/=0\.500$/);
  });
});
