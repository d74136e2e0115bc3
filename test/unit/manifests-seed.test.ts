import { expect, test } from '@playwright/test';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from '#yaml';
import { CONFIGMAP_PATH, PROGRAM_PATH, renderProxyConfigMap } from '../../scripts/gen-proxy-configmap.ts';

// Loose view of a Kubernetes object: tests navigate it and assert on real values.
type Obj = Record<string, any>;

const MANIFESTS = path.resolve('manifests');
const CLUSTER_SCOPED = new Set(['Namespace', 'CustomResourceDefinition', 'GatewayClass']);

function load(rel: string): Obj[] {
  const docs = parseAllDocuments(readFileSync(path.join(MANIFESTS, rel), 'utf8'));
  return docs.map((d) => {
    expect(d.errors, `${rel}: ${d.errors.join('; ')}`).toEqual([]);
    return d.toJS() as Obj;
  });
}

function allYamlFiles(dir = MANIFESTS): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return allYamlFiles(full);
    return e.name.endsWith('.yaml') ? [path.relative(MANIFESTS, full)] : [];
  });
}

function find(objs: Obj[], kind: string, name: string): Obj {
  const o = objs.find((x) => x.kind === kind && x.metadata?.name === name);
  expect(o, `${kind}/${name}`).toBeDefined();
  return o!;
}

const VLLM_ARGS = [
  'serve',
  'Qwen/Qwen3-Coder-30B-A3B-Instruct',
  '--port=8000',
  '--tensor-parallel-size=1',
  '--max-model-len=2048',
  '--no-enable-prefix-caching',
  '--no-enable-chunked-prefill',
  '--gpu-memory-utilization=0.90',
];

function kvConfig(pod: Obj): Obj {
  const args: string[] = pod.spec.containers[0].args;
  const i = args.indexOf('--kv-transfer-config');
  expect(i, 'has --kv-transfer-config').toBeGreaterThan(0);
  return JSON.parse(args[i + 1]!) as Obj;
}

test('every manifest parses and every object has apiVersion, kind, name and (when namespaced) a seed namespace', () => {
  const files = allYamlFiles();
  expect(files.length).toBeGreaterThanOrEqual(12);
  for (const file of files) {
    for (const o of load(file)) {
      expect(typeof o.apiVersion, `${file}: apiVersion`).toBe('string');
      expect(typeof o.kind, `${file}: kind`).toBe('string');
      expect(typeof o.metadata?.name, `${file}: ${o.kind} name`).toBe('string');
      if (CLUSTER_SCOPED.has(o.kind)) expect(o.metadata.namespace, `${file}: ${o.kind}`).toBeUndefined();
      else expect(['llm-d-vllm', 'llm-d-inference-scheduler'], `${file}: ${o.kind}/${o.metadata.name}`).toContain(o.metadata.namespace);
    }
  }
});

test('namespaces.yaml declares both seed namespaces', () => {
  expect(load('namespaces.yaml').map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
    'Namespace/llm-d-vllm',
    'Namespace/llm-d-inference-scheduler',
  ]);
});

test('P2P pods: labels, image, args, kv-transfer JSON, ports, node placement, probes, GPU', () => {
  const objs = load('vllm/p2p-nccl-same-node.yaml');
  for (const [name, role, kvRole, rank] of [
    ['vllm-prefill-p2p', 'prefill', 'kv_producer', 0],
    ['vllm-decode-p2p', 'decode', 'kv_consumer', 1],
  ] as const) {
    const pod = find(objs, 'Pod', name);
    expect(pod.apiVersion).toBe('v1');
    expect(pod.metadata.namespace).toBe('llm-d-vllm');
    expect(pod.metadata.labels).toEqual({ app: 'vllm-p2p-test', role, case: 'p2p-same' });
    expect(pod.spec.nodeSelector).toEqual({ 'nvidia.com/gpu.product': 'NVIDIA-H100-NVL' });
    const c = pod.spec.containers[0];
    expect(c.image).toBe('vllm/vllm-openai:v0.15.0');
    expect(c.args.slice(0, VLLM_ARGS.length)).toEqual(VLLM_ARGS);
    expect(kvConfig(pod)).toEqual({
      kv_connector: 'P2pNcclConnector',
      kv_role: kvRole,
      kv_rank: rank,
      kv_parallel_size: 2,
      kv_ip: '0.0.0.0',
      kv_port: 14579,
      engine_id: 'p2p-nccl-same-node',
    });
    expect(c.ports).toEqual([
      { name: 'http', containerPort: 8000 },
      { name: 'kv-transfer', containerPort: 14579 },
    ]);
    expect(c.readinessProbe.httpGet).toEqual({ path: '/health', port: 8000 });
    expect(c.startupProbe.httpGet).toEqual({ path: '/health', port: 8000 });
    expect(c.resources.limits['nvidia.com/gpu']).toBe(1);
  }
  const affinity = find(objs, 'Pod', 'vllm-decode-p2p').spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution;
  expect(affinity).toEqual([
    { labelSelector: { matchLabels: { app: 'vllm-p2p-test', role: 'prefill' } }, topologyKey: 'kubernetes.io/hostname' },
  ]);
  for (const name of ['vllm-prefill-p2p', 'vllm-decode-p2p']) {
    const svc = find(objs, 'Service', name);
    expect(svc.spec.selector).toEqual(find(objs, 'Pod', name).metadata.labels);
    expect(svc.metadata.labels).toEqual(svc.spec.selector);
    expect(svc.spec.ports.map((p: Obj) => [p.name, p.port, p.targetPort])).toEqual([
      ['http', 8000, 8000],
      ['kv-transfer', 14579, 14579],
    ]);
  }
});

function fsPodChecks(file: string) {
  const objs = load(file);
  for (const [name, role, kvRole] of [
    ['vllm-prefill-fs', 'prefill', 'kv_producer'],
    ['vllm-decode-fs', 'decode', 'kv_consumer'],
  ] as const) {
    const pod = find(objs, 'Pod', name);
    expect(pod.metadata.labels).toEqual({ app: 'vllm-fs-test', role, case: 'fs-same' });
    const c = pod.spec.containers[0];
    expect(c.image).toBe('vllm/vllm-openai:v0.15.0');
    expect(c.args.slice(0, VLLM_ARGS.length)).toEqual(VLLM_ARGS);
    expect(kvConfig(pod)).toEqual({
      kv_connector: 'ExampleConnector',
      kv_role: kvRole,
      kv_connector_extra_config: { shared_storage_path: '/kv_cache' },
    });
    expect(c.ports).toEqual([{ name: 'http', containerPort: 8000 }]);
    expect(c.volumeMounts).toEqual([{ name: 'kv-cache-storage', mountPath: '/kv_cache' }]);
    expect(c.readinessProbe.httpGet).toEqual({ path: '/health', port: 8000 });
    expect(c.startupProbe.httpGet).toEqual({ path: '/health', port: 8000 });
    expect(c.resources.limits['nvidia.com/gpu']).toBe(1);
    const svc = find(objs, 'Service', name);
    expect(svc.spec.selector).toEqual(pod.metadata.labels);
    expect(svc.spec.ports.map((p: Obj) => [p.name, p.port])).toEqual([['http', 8000]]);
  }
  expect(find(objs, 'Pod', 'vllm-decode-fs').spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0]).toEqual({
    labelSelector: { matchLabels: { app: 'vllm-fs-test', role: 'prefill' } },
    topologyKey: 'kubernetes.io/hostname',
  });
  return objs;
}

test('FS pods (seed): ExampleConnector at /kv_cache on a per-pod emptyDir kv-cache-storage — the seed flaw kept', () => {
  const objs = fsPodChecks('vllm/fs-kv-same-node.yaml');
  for (const name of ['vllm-prefill-fs', 'vllm-decode-fs']) {
    expect(find(objs, 'Pod', name).spec.volumes).toEqual([{ name: 'kv-cache-storage', emptyDir: {} }]);
  }
  expect(objs.some((o) => o.kind === 'PersistentVolumeClaim')).toBe(false);
});

test('FS pods (shared variant): both pods mount the same RWX PVC, so decode can find prefill KV files', () => {
  const objs = fsPodChecks('vllm/fs-kv-shared-pvc.yaml');
  const pvc = find(objs, 'PersistentVolumeClaim', 'vllm-kv-cache-shared');
  expect(pvc.spec.accessModes).toEqual(['ReadWriteMany']);
  for (const name of ['vllm-prefill-fs', 'vllm-decode-fs']) {
    expect(find(objs, 'Pod', name).spec.volumes).toEqual([
      { name: 'kv-cache-storage', persistentVolumeClaim: { claimName: 'vllm-kv-cache-shared' } },
    ]);
  }
});

test('proxy Deployments and Services: node:20-slim running the ConfigMap program, env, port 8080, probe', () => {
  const cases = [
    {
      file: 'vllm/p2p-nccl-same-node.yaml',
      name: 'vllm-p2p-proxy',
      app: 'vllm-p2p-test',
      env: {
        PORT: '8080',
        PREFILL_URL: 'http://vllm-prefill-p2p:8000',
        DECODE_URL: 'http://vllm-decode-p2p:8000',
        PREFILL_ZMQ: 'vllm-prefill-p2p:14579',
        DECODE_ZMQ: 'vllm-decode-p2p:14579',
      },
    },
    {
      file: 'vllm/fs-kv-same-node.yaml',
      name: 'vllm-fs-proxy',
      app: 'vllm-fs-test',
      env: { PORT: '8080', PREFILL_URL: 'http://vllm-prefill-fs:8000', DECODE_URL: 'http://vllm-decode-fs:8000' },
    },
  ];
  for (const { file, name, app, env } of cases) {
    const objs = load(file);
    const dep = find(objs, 'Deployment', name);
    const labels = { app, role: 'proxy' };
    expect(dep.apiVersion).toBe('apps/v1');
    expect(dep.metadata.labels).toEqual(labels);
    expect(dep.spec.replicas).toBe(1);
    expect(dep.spec.selector.matchLabels).toEqual(labels);
    expect(dep.spec.template.metadata.labels).toEqual(labels);
    const c = dep.spec.template.spec.containers[0];
    expect(c.image).toBe('node:20-slim');
    expect(c.command).toEqual(['node', '/opt/pd-proxy/pd-proxy.mjs']);
    expect(Object.fromEntries(c.env.map((e: Obj) => [e.name, e.value]))).toEqual(env);
    expect(c.ports).toEqual([{ name: 'http', containerPort: 8080 }]);
    expect(c.readinessProbe.httpGet).toEqual({ path: '/health', port: 8080 });
    expect(c.volumeMounts).toEqual([{ name: 'pd-proxy-program', mountPath: '/opt/pd-proxy', readOnly: true }]);
    expect(dep.spec.template.spec.volumes).toEqual([{ name: 'pd-proxy-program', configMap: { name: 'pd-proxy-program' } }]);
    // The seed's proxies carry no kv-backend label: that is why the by-backend profile filters all of them out.
    expect(JSON.stringify(dep)).not.toContain('llm-d.ai/kv-backend');
    const svc = find(objs, 'Service', name);
    expect(svc.spec.selector).toEqual(labels);
    expect(svc.spec.ports).toEqual([{ name: 'http', port: 8080, targetPort: 8080 }]);
  }
});

test('the committed pd-proxy-program ConfigMap carries the current program (regenerate with scripts/gen-proxy-configmap.ts)', () => {
  const program = readFileSync(PROGRAM_PATH, 'utf8');
  const committed = readFileSync(CONFIGMAP_PATH, 'utf8');
  expect(committed, 'out of date: run npx tsx scripts/gen-proxy-configmap.ts').toBe(renderProxyConfigMap(program));
  const [cm] = load('vllm/pd-proxy-program.yaml');
  expect(cm!.kind).toBe('ConfigMap');
  expect(cm!.metadata).toMatchObject({ name: 'pd-proxy-program', namespace: 'llm-d-vllm' });
  expect(cm!.data['pd-proxy.mjs']).toBe(program);
});

test('the generator notices a stale ConfigMap', () => {
  const program = readFileSync(PROGRAM_PATH, 'utf8');
  expect(renderProxyConfigMap(program + '// changed\n')).not.toBe(readFileSync(CONFIGMAP_PATH, 'utf8'));
});

test('InferencePool (no ExternalName Service for its endpoint picker) and ReferenceGrant', () => {
  const objs = load('gateway-routing/inferencepool-proxy-performance.yaml');
  const pool = find(objs, 'InferencePool', 'vllm-proxy-performance');
  expect(pool.apiVersion).toBe('inference.networking.k8s.io/v1');
  expect(pool.metadata.namespace).toBe('llm-d-vllm');
  expect(pool.spec).toEqual({
    selector: { matchLabels: { role: 'proxy' } },
    targetPorts: [{ number: 8080 }],
    endpointPickerRef: { name: 'gaie-inference-scheduling-epp', port: { number: 9002 }, failureMode: 'FailClose' },
  });
  // the InferencePool v1 API: implementations must not support an ExternalName endpointPickerRef; the
  // operator renders the pool-namespace EPP Service (renderEppBridge)
  expect(objs.filter((o) => o.kind === 'Service')).toEqual([]);
  const grant = objs.find((o) => o.kind === 'ReferenceGrant')!;
  expect(grant.apiVersion).toBe('gateway.networking.k8s.io/v1beta1');
  expect(grant.metadata.namespace).toBe('llm-d-vllm');
  expect(grant.spec.from).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'llm-d-inference-scheduler' }]);
  expect(grant.spec.to).toContainEqual({ group: 'inference.networking.k8s.io', kind: 'InferencePool' });
  expect(grant.spec.to).toContainEqual({ group: '', kind: 'Service' });
});

test('SchedulerInstall manifests: llm-sched-install with each proxy profile and the pool/gateway names', () => {
  for (const profile of ['proxy-performance', 'proxy-performance-by-backend']) {
    const [si, ...rest] = load(`gateway-routing/schedulerinstall-${profile}.yaml`);
    expect(rest).toEqual([]);
    expect(si!.apiVersion).toBe('sim.llm-d.io/v1alpha1');
    expect(si!.kind).toBe('SchedulerInstall');
    expect(si!.metadata).toEqual({ name: 'llm-sched-install', namespace: 'llm-d-inference-scheduler' });
    expect(si!.spec.epp.configProfile).toBe(profile);
    expect(si!.spec.epp.image).toBe('ghcr.io/llm-d/llm-d-inference-scheduler:v0.4.0-instrumented');
    expect(si!.spec.inferencePool).toEqual({ name: 'vllm-proxy-performance', namespace: 'llm-d-vllm', port: 8080 });
    expect(si!.spec.gateway.name).toBe('infra-inference-scheduling-inference-gateway');
  }
});

test('HTTPRoute vllm-ab-test: x-kv-backend nvlink → vllm-p2p-proxy:8080, fs → vllm-fs-proxy:8080 on the inference gateway', () => {
  const [route] = load('gateway-routing/httproute-ab.yaml');
  expect(route!.apiVersion).toBe('gateway.networking.k8s.io/v1');
  expect(route!.kind).toBe('HTTPRoute');
  expect(route!.metadata).toEqual({ name: 'vllm-ab-test', namespace: 'llm-d-inference-scheduler' });
  expect(route!.spec.parentRefs).toEqual([
    {
      group: 'gateway.networking.k8s.io',
      kind: 'Gateway',
      name: 'infra-inference-scheduling-inference-gateway',
      namespace: 'llm-d-inference-scheduler',
    },
  ]);
  const table = route!.spec.rules.map((r: Obj) => [
    r.matches[0].headers[0].name,
    r.matches[0].headers[0].value,
    r.backendRefs[0].kind,
    `${r.backendRefs[0].namespace}/${r.backendRefs[0].name}:${r.backendRefs[0].port}`,
  ]);
  expect(table).toEqual([
    ['x-kv-backend', 'nvlink', 'Service', 'llm-d-vllm/vllm-p2p-proxy:8080'],
    ['x-kv-backend', 'fs', 'Service', 'llm-d-vllm/vllm-fs-proxy:8080'],
  ]);
});
