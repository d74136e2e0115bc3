/**
 * The twin EPP's request lifecycle and plugins against the real sources (llm-d-inference-scheduler v0.4.0,
 * gateway-api-inference-extension v1.2.0). Pure: the clock is injected, no timers.
 */
import { expect, test } from '@playwright/test';
import type { Registry } from '../../twin/sims/prometheus.ts';
import { parseEppConfig } from '../../twin/sims/epp/config.ts';
import { Datastore } from '../../twin/sims/epp/datastore.ts';
import { createEppMetrics } from '../../twin/sims/epp/metrics.ts';
import { parseVllmMetrics } from '../../twin/sims/epp/scrape.ts';
import { buildScheduler } from '../../twin/sims/epp/scheduler.ts';
import { parseRequestBody, PickService } from '../../twin/sims/epp/service.ts';
import { seededRng, type EndpointSpec, type PickRequest } from '../../twin/sims/epp/types.ts';

const H = 'apiVersion: inference.networking.x-k8s.io/v1alpha1\nkind: EndpointPickerConfig\n';
const ACTIVE = `${H}plugins:\n- type: active-request-scorer\n  parameters: {requestTimeout: 2m}\n- type: max-score-picker\nschedulingProfiles:\n- name: default\n  plugins:\n  - pluginRef: active-request-scorer\n  - pluginRef: max-score-picker\n`;

function pods(...names: string[]): EndpointSpec[] {
  return names.map((n, i) => ({ namespace: 'ns', name: n, address: `127.0.0.${i + 2}`, port: 8000, labels: {} }));
}

function service(config: string, specs: EndpointSpec[], now: () => number = () => 0) {
  const scheduler = buildScheduler(parseEppConfig(config));
  const ds = new Datastore(scheduler.requestTimeoutMs, now);
  ds.setEndpoints(specs);
  const metrics = createEppMetrics('pool', ds);
  const svc = new PickService({ scheduler, datastore: ds, rng: seededRng(7), log: () => {}, metrics });
  return { svc, ds, metrics };
}

const body = (prompt: string, model = 'm') => JSON.stringify({ model, prompt, max_tokens: 4 });
const req = (id: string, b?: string, headers: Record<string, string> = {}): PickRequest => ({
  requestId: id,
  model: '',
  promptLength: 0,
  headers,
  ...(b !== undefined ? { body: b } : {}),
});

async function counterValue(registry: Registry, name: string): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? []).reduce((s, v) => s + Number(v.value), 0);
}

test.describe('active-request-scorer lifecycle', () => {
  test('a request never completed keeps its count until the first cleanup tick after requestTimeout, also for a pod gone from the pool', () => {
    let now = 1_000;
    const { svc, ds } = service(ACTIVE, pods('a', 'b', 'c'), () => now);
    // three requests land on a, b, c (all idle → ties), then two more on whoever is least loaded
    const picked = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6'].map(
      (id) => (svc.pick(req(id, body(`p ${id}`))) as { body: { endpoints: { pod: string }[] } }).body.endpoints[0]!.pod,
    );
    expect(new Set(picked).size).toBe(3);
    const onA = picked
      .map((p, i) => [p, `r${i + 1}`] as const)
      .filter(([p]) => p === picked[0])
      .map(([, id]) => id);
    // requests on the other pods complete; those on the first pod are cut (decode pod killed: no ResponseComplete)
    for (const [i, p] of picked.entries()) if (p !== picked[0]) expect(svc.done(`r${i + 1}`)).toBe(true);
    ds.setEndpoints(pods('a', 'b', 'c').filter((s) => `ns/${s.name}` !== picked[0]));
    expect(ds.activeCounts().get(picked[0]!)).toBe(onA.length);
    // the stale count still sets the scale: a new request on b scores (max - 1) / max, not 0
    svc.pick(req('r7', body('p r7')));
    const st = svc.state();
    expect(st.activeCounts[picked[0]!]).toBe(onA.length);
    // requestTimeout 2m, ticker of 2m from start (t=1000): entries set at t=1000 expire at 121000, removed at the tick at 241000
    now = 121_000;
    ds.expire();
    expect(ds.activeCounts().get(picked[0]!)).toBe(onA.length);
    now = 240_999;
    ds.expire();
    expect(ds.activeCounts().get(picked[0]!)).toBe(onA.length);
    now = 241_000;
    ds.expire();
    expect(ds.activeCounts().get(picked[0]!)).toBeUndefined();
    expect(ds.inFlightRequests()).toBe(0);
  });

  test('scores: (max - n) / max over every counted pod, a pod without a count scores 1', () => {
    const { svc, ds } = service(ACTIVE, pods('a', 'b'));
    ds.track('x1', ['ns/gone']);
    ds.track('x2', ['ns/gone']);
    ds.track('x3', ['ns/gone']);
    ds.track('y1', ['ns/a']);
    const r = svc.pick(req('z', body('hello')));
    // b (no count) scores 1 and wins; a scores (3-1)/3
    expect(r.status === 200 && r.body.endpoints[0]!.pod).toBe('ns/b');
  });

  test('without an active-request-scorer nothing is counted', () => {
    const { svc, ds } = service(`${H}plugins:\n- type: queue-scorer\n`, pods('a'));
    svc.pick(req('r', body('hi')));
    expect(ds.inFlightRequests()).toBe(0);
  });
});

test.describe('request handling', () => {
  test('request bodies: the real BadRequest texts, and a request counted only when scheduled', async () => {
    expect(parseRequestBody('{not json')).toEqual({ error: 'inference gateway: BadRequest - Error unmarshaling request body' });
    expect(parseRequestBody('{"prompt":"hi"}')).toEqual({ error: 'inference gateway: BadRequest - model not found in request body' });
    expect(parseRequestBody('{"model":"m"}')).toEqual({
      error:
        'inference gateway: BadRequest - failed to extract request data: inference gateway: BadRequest - invalid chat-completions request: inference gateway: BadRequest - chat-completions request must have at least one message',
    });
    expect(parseRequestBody('{"model":"m","messages":"hi"}')).toEqual({
      error: 'inference gateway: BadRequest - failed to extract request data: inference gateway: BadRequest - invalid request format',
    });
    expect(parseRequestBody('{"model":"m","prompt":"abc"}')).toEqual({ model: 'm', userInput: 'abc' });

    const { svc, metrics } = service(`${H}plugins:\n- type: prefill-filter\n- type: queue-scorer\n`, pods('a'));
    expect(svc.pick(req('bad', '{"prompt":"x"}'))).toEqual({
      status: 400,
      body: 'inference gateway: BadRequest - model not found in request body',
    });
    expect(svc.pick(req('none', body('x')))).toEqual({
      status: 429,
      body: "inference gateway: InferencePoolResourceExhausted - failed to find target pod: failed to run scheduler profile 'default'",
    });
    expect(await counterValue(metrics.registry, 'inference_objective_request_total')).toBe(0);
    expect(await counterValue(metrics.registry, 'inference_objective_request_error_total')).toBe(2);
  });

  test('a request without a body goes to a random pod, unscheduled and uncounted; none → 500 Internal', async () => {
    const { svc, ds, metrics } = service(ACTIVE, pods('a', 'b'));
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const r = svc.pick({ requestId: `g${i}`, model: '', promptLength: 0, headers: {}, noBody: true });
      expect(r.status).toBe(200);
      if (r.status === 200) {
        expect(r.body.scheduled).toBe(false);
        seen.add(r.body.endpoints[0]!.pod);
      }
    }
    expect(seen.size).toBe(2);
    expect(ds.inFlightRequests()).toBe(0);
    expect(await counterValue(metrics.registry, 'inference_objective_request_total')).toBe(0);
    const empty = service(ACTIVE, []);
    expect(empty.svc.pick({ requestId: 'g', model: '', promptLength: 0, headers: {}, noBody: true })).toEqual({
      status: 500,
      body: 'inference gateway: Internal - no pods available in datastore',
    });
  });
});

test.describe('plugins', () => {
  test('pd-profile-handler: decode is primary, the prefill target goes in x-prefiller-host-port, both counted, done releases decode only', () => {
    const config = `${H}plugins:
- type: prefill-header-handler
- type: prefill-filter
- type: decode-filter
- type: active-request-scorer
- type: pd-profile-handler
schedulingProfiles:
- name: prefill
  plugins: [{pluginRef: prefill-filter}, {pluginRef: active-request-scorer}]
- name: decode
  plugins: [{pluginRef: decode-filter}, {pluginRef: active-request-scorer}]
`;
    const specs: EndpointSpec[] = [
      { namespace: 'ns', name: 'p', address: '10.0.0.1', port: 8000, labels: { 'llm-d.ai/role': 'prefill' } },
      { namespace: 'ns', name: 'd', address: '10.0.0.2', port: 8000, labels: { 'llm-d.ai/role': 'decode' } },
      { namespace: 'ns', name: 'both', address: '10.0.0.3', port: 8000, labels: { 'llm-d.ai/role': 'both' } },
    ];
    const { svc, ds } = service(config, specs.slice(0, 2));
    const r = svc.pick(req('r1', body('a long enough prompt')));
    expect(r).toEqual({
      status: 200,
      body: {
        endpoints: [{ address: '10.0.0.2:8000', pod: 'ns/d' }],
        headers: { 'x-prefiller-host-port': '10.0.0.1:8000' },
        scheduled: true,
      },
    });
    expect(Object.fromEntries(ds.activeCounts())).toEqual({ 'ns/p': 1, 'ns/d': 1 });
    svc.done('r1');
    // ResponseComplete names the decode pod only: the prefill entry waits for the timeout (active_request.go)
    expect(Object.fromEntries(ds.activeCounts())).toEqual({ 'ns/p': 1 });
    // role "both" is no prefill pod in v0.4.0: with no "prefill" pod the prefill profile fails, decode alone serves
    const both = service(config, specs.slice(1));
    const r2 = both.svc.pick(req('r2', body('another prompt')));
    expect(r2.status === 200 && r2.body.headers).toEqual({});
  });

  test('prefix-cache-scorer: a repeated prompt returns to the pod that served it', () => {
    const config = `${H}plugins:\n- type: prefix-cache-scorer\n  parameters: {blockSize: 4}\n- type: random-picker\n`;
    // random-picker would spread; use max-score with the prefix scorer alone
    const { svc } = service(`${H}plugins:\n- type: prefix-cache-scorer\n  parameters: {blockSize: 4}\n`, pods('a', 'b', 'c', 'd'));
    expect(buildScheduler(parseEppConfig(config)).profile.picker.type).toBe('random-picker');
    const prompt = 'the same long shared system prompt, then a question';
    const first = svc.pick(req('p1', body(prompt)));
    const pod = first.status === 200 ? first.body.endpoints[0]!.pod : '';
    for (let i = 0; i < 5; i++) {
      const again = svc.pick(req(`p${i + 2}`, body(prompt)));
      expect(again.status === 200 && again.body.endpoints[0]!.pod).toBe(pod);
    }
  });

  test('scraping: only the configured metric names; a missing family leaves the old value', () => {
    const text =
      'vllm:num_requests_waiting{model_name="m"} 3\nvllm:kv_cache_usage_perc{model_name="m"} 0.5\nvllm:cache_config_info{block_size="16",num_gpu_blocks="100"} 1\n';
    expect(parseVllmMetrics(text)).toEqual({ waiting: 3, cacheBlockSize: 16, numGpuBlocks: 100 });
    const ds = new Datastore(1000);
    ds.setEndpoints(pods('a'));
    ds.updateMetrics('ns/a', { kvCacheUsage: 0.7 });
    ds.updateMetrics('ns/a', parseVllmMetrics(text));
    expect(ds.get('ns/a')!.metrics.kvCacheUsage).toBe(0.7);
  });
});
