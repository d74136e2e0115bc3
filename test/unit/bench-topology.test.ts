import { expect, test } from '@playwright/test';
import { readManifests } from '../../cluster/manifests.ts';
import { SEED_MANIFESTS } from '../../runner/seed-topology.ts';
import { countKinds, isWorkload, scaledTopology, suffixWorkloads, withVllmEnv } from '../../bench/topology.ts';

const seed = readManifests(SEED_MANIFESTS);

function containers(o: unknown): { image: string; env?: { name: string; value?: string }[] }[] {
  const x = o as { kind: string; spec: { containers?: never[]; template?: { spec: { containers: never[] } } } };
  return x.kind === 'Pod' ? (x.spec.containers ?? []) : (x.spec.template?.spec.containers ?? []);
}

test('seed topology counts 2 proxies and 4 model pods', () => {
  expect(countKinds(seed)).toEqual({ proxies: 2, modelPods: 4 });
});

test('withVllmEnv sets env on vLLM containers only, without touching the input', () => {
  const out = withVllmEnv(seed, { VLLM_SIM_LATENCY_SCALE: '0' });
  let vllm = 0;
  for (const o of out.filter((x) => x.kind === 'Pod' || x.kind === 'Deployment')) {
    for (const c of containers(o)) {
      const set = c.env?.find((e) => e.name === 'VLLM_SIM_LATENCY_SCALE');
      if (c.image.startsWith('vllm/vllm-openai')) {
        vllm++;
        expect(set?.value).toBe('0');
      } else expect(set).toBeUndefined();
    }
  }
  expect(vllm).toBe(4);
  expect(JSON.stringify(seed)).not.toContain('VLLM_SIM_LATENCY_SCALE');
  const twice = withVllmEnv(out, { VLLM_SIM_LATENCY_SCALE: '0.5' });
  const envs = containers(twice.find((o) => o.kind === 'Pod' && o.metadata.name === 'vllm-decode-p2p')).flatMap((c) => c.env ?? []);
  expect(envs.filter((e) => e.name === 'VLLM_SIM_LATENCY_SCALE')).toEqual([{ name: 'VLLM_SIM_LATENCY_SCALE', value: '0.5' }]);
});

test('suffixed workloads rename objects, labels, selectors, affinity and env URLs consistently', () => {
  const copy = suffixWorkloads(seed.filter(isWorkload), '3');
  const text = JSON.stringify(copy);
  expect(text).not.toMatch(/vllm-(prefill|decode)-(p2p|fs)(?![\w-])/);
  expect(text).not.toMatch(/vllm-(p2p|fs)-(proxy|test)(?![\w-])/);
  const proxy = copy.find((o) => o.kind === 'Deployment' && o.metadata.name === 'vllm-p2p-proxy-3');
  expect(proxy).toBeDefined();
  const env = Object.fromEntries(
    containers(proxy)
      .flatMap((c) => c.env ?? [])
      .map((e) => [e.name, e.value]),
  );
  expect(env['PREFILL_URL']).toBe('http://vllm-prefill-p2p-3:8000');
  expect(env['DECODE_ZMQ']).toBe('vllm-decode-p2p-3:14579');
  expect(text).toContain('"app":"vllm-fs-test-3"');
  expect(text).toContain('"role":"proxy"');
  expect(text).toContain('p2p-nccl-same-node'); // engine_id and other names are left alone
});

test('scaled topology keeps shared objects once and grows workloads per copy, in apply order', () => {
  const scaled = scaledTopology(seed, 4);
  expect(countKinds(scaled)).toEqual({ proxies: 8, modelPods: 16 });
  const names = scaled.map((o) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`);
  expect(new Set(names).size).toBe(names.length);
  expect(scaled.filter((o) => o.kind === 'InferencePool')).toHaveLength(1);
  expect(scaled.length).toBe(seed.length + 3 * seed.filter(isWorkload).length);
  const firstCopy = names.findIndex((n) => n.endsWith('-2'));
  const lastShared = names.findLastIndex((n) => n.startsWith('CustomResourceDefinition/') || n.startsWith('Namespace/'));
  expect(firstCopy).toBeGreaterThan(lastShared);
  expect(countKinds(scaledTopology(seed, 1))).toEqual({ proxies: 2, modelPods: 4 });
});
