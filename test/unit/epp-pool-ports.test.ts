import { expect, test } from '@playwright/test';
import { eppConfigYaml } from '../../twin/operator/render.ts';
import { parseEppConfig } from '../../twin/sims/epp/config.ts';
import { Datastore } from '../../twin/sims/epp/datastore.ts';
import { poolEndpoints, poolTargetPorts, type PodLike } from '../../twin/sims/epp/pool.ts';
import { buildScheduler } from '../../twin/sims/epp/scheduler.ts';
import { PickService } from '../../twin/sims/epp/service.ts';
import { seededRng } from '../../twin/sims/epp/types.ts';

const pool = (ports: number[]) => ({
  apiVersion: 'inference.networking.k8s.io/v1',
  metadata: { name: 'dp', namespace: 'llm-d-vllm' },
  spec: { selector: { matchLabels: { app: 'dp' } }, targetPorts: ports.map((number) => ({ number })) },
});

const pod = (name: string, ip: string): PodLike => ({
  metadata: { name, namespace: 'llm-d-vllm', labels: { app: 'dp' } },
  status: { podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
});

const PODS = [pod('vllm-dp-0', '127.0.0.21'), pod('vllm-dp-1', '127.0.0.22')];

test('a pool with two target ports: one endpoint per pod and port, named pod-rank-N, each picked and counted on its own', () => {
  expect(poolTargetPorts(pool([8000, 8001]))).toEqual([8000, 8001]);
  expect(poolTargetPorts({ spec: { targetPortNumber: 8000 } })).toEqual([8000]);
  const specs = poolEndpoints(pool([8000, 8001]), PODS);
  expect(specs.map((s) => `${s.name}#${s.rank}@${s.address}:${s.port}`)).toEqual([
    'vllm-dp-0#0@127.0.0.21:8000',
    'vllm-dp-0#1@127.0.0.21:8001',
    'vllm-dp-1#0@127.0.0.22:8000',
    'vllm-dp-1#1@127.0.0.22:8001',
  ]);

  const scheduler = buildScheduler(parseEppConfig(eppConfigYaml('proxy-performance')));
  const ds = new Datastore(scheduler.requestTimeoutMs);
  ds.setEndpoints(specs);
  expect(ds.endpoints().map((e) => e.logName)).toEqual([
    'llm-d-vllm/vllm-dp-0-rank-0',
    'llm-d-vllm/vllm-dp-0-rank-1',
    'llm-d-vllm/vllm-dp-1-rank-0',
    'llm-d-vllm/vllm-dp-1-rank-1',
  ]);
  const lines: string[] = [];
  const svc = new PickService({ scheduler, datastore: ds, rng: seededRng(5), log: (l) => lines.push(l) });
  const addresses: string[] = [];
  for (let i = 0; i < 4; i++) {
    const out = svc.pick({ requestId: `r${i}`, model: 'm', promptLength: 1, headers: {} });
    if (out.status !== 200) throw new Error(out.body);
    addresses.push(out.body.endpoints[0]!.address);
  }
  // four requests in flight, none complete: active-request-scorer counts each rank apart, so each gets one
  expect(addresses.sort()).toEqual(['127.0.0.21:8000', '127.0.0.21:8001', '127.0.0.22:8000', '127.0.0.22:8001']);
  expect([...ds.activeCounts().values()]).toEqual([1, 1, 1, 1]);
  expect(lines.some((l) => l.includes('"selected":["llm-d-vllm/vllm-dp-1-rank-1"]'))).toBe(true);
});

test('a pool with one target port keeps one endpoint per pod, named pod-rank-0', () => {
  const specs = poolEndpoints(pool([8000]), PODS);
  expect(specs.map((s) => `${s.name}@${s.port}`)).toEqual(['vllm-dp-0@8000', 'vllm-dp-1@8000']);
  const ds = new Datastore(120_000);
  ds.setEndpoints(specs);
  expect(ds.endpoints().map((e) => [e.key, e.logName])).toEqual([
    ['llm-d-vllm/vllm-dp-0', 'llm-d-vllm/vllm-dp-0-rank-0'],
    ['llm-d-vllm/vllm-dp-1', 'llm-d-vllm/vllm-dp-1-rank-0'],
  ]);
});

test('session-affinity-scorer follows an x-session-token naming the endpoint as the datastore does (base64 of ns/pod-rank-N), not ns/pod', () => {
  // llm-d v0.4.0 pkg/plugins/scorer/session_affinity.go compares the decoded token with the endpoint's
  // NamespacedName; gateway-api-inference-extension v1.2.0 datastore.go names endpoints pod-rank-N
  const scheduler = buildScheduler(
    parseEppConfig(`apiVersion: inference.networking.x-k8s.io/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: session-affinity-scorer
- type: max-score-picker
schedulingProfiles:
- name: default
  plugins:
  - pluginRef: session-affinity-scorer
  - pluginRef: max-score-picker
`),
  );
  const ds = new Datastore(scheduler.requestTimeoutMs);
  ds.setEndpoints(poolEndpoints(pool([8000]), PODS));
  const svc = new PickService({ scheduler, datastore: ds, rng: seededRng(1), log: () => undefined });
  const picked = (token: string) =>
    Array.from({ length: 8 }, (_, i) => {
      const out = svc.pick({ requestId: `${token}-${i}`, model: 'm', promptLength: 1, headers: { 'x-session-token': token } });
      if (out.status !== 200) throw new Error(out.body);
      return out.body.endpoints[0]!.address;
    });
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  expect(new Set(picked(b64('llm-d-vllm/vllm-dp-1-rank-0')))).toEqual(new Set(['127.0.0.22:8000']));
  // the pod's own name is not an endpoint name: every endpoint scores 0, the picker breaks the tie at random
  expect(new Set(picked(b64('llm-d-vllm/vllm-dp-1')))).toEqual(new Set(['127.0.0.21:8000', '127.0.0.22:8000']));
});
