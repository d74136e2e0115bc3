import { expect, test } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { parse } from '#yaml';
import { parseEppConfig } from '../../twin/sims/epp/config.ts';
import {
  CONFIG_PROFILES,
  RenderError,
  renderSchedulerInstall,
  type RenderedObject,
  type SchedulerInstall,
} from '../../twin/operator/render.ts';

type Obj = Record<string, any>;

function si(spec: SchedulerInstall['spec'] = {}): SchedulerInstall {
  return {
    apiVersion: 'sim.llm-d.io/v1alpha1',
    kind: 'SchedulerInstall',
    metadata: { name: 'llm-sched-install', namespace: 'llm-d-inference-scheduler', uid: 'uid-1234', generation: 3 },
    spec,
  };
}

function byKind(objs: RenderedObject[], kind: string): Obj {
  const o = objs.find((x) => x.kind === kind);
  expect(o, kind).toBeDefined();
  return o as Obj;
}

function eppConfigOf(objs: RenderedObject[]): Obj {
  const cm = byKind(objs, 'ConfigMap');
  expect(cm.metadata.name).toBe('gaie-inference-scheduling-epp-config');
  return parse(cm.data['epp-config.yaml']) as Obj;
}

test('the committed SchedulerInstall manifests render', () => {
  for (const profile of ['proxy-performance', 'proxy-performance-by-backend']) {
    const doc = parse(readFileSync(`manifests/gateway-routing/schedulerinstall-${profile}.yaml`, 'utf8')) as SchedulerInstall;
    doc.metadata.uid = 'u';
    const objs = renderSchedulerInstall(doc);
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ConfigMap/gaie-inference-scheduling-epp-config',
      'Deployment/gaie-inference-scheduling-epp',
      'Service/gaie-inference-scheduling-epp',
      'GatewayClass/infra-inference-scheduling-inference-gateway',
      'Gateway/infra-inference-scheduling-inference-gateway',
      'HTTPRoute/llm-d-inference-scheduling',
    ]);
    expect(eppConfigOf(objs).plugins.some((p: Obj) => p.type === 'by-label-selector')).toBe(profile.endsWith('by-backend'));
  }
});

test('proxy-performance: active-request-scorer (requestTimeout 2m), max-score-picker, single-profile-handler; no filter', () => {
  const cfg = eppConfigOf(renderSchedulerInstall(si({ epp: { configProfile: 'proxy-performance' } })));
  expect(cfg).toEqual({
    apiVersion: 'inference.networking.x-k8s.io/v1alpha1',
    kind: 'EndpointPickerConfig',
    plugins: [
      { type: 'active-request-scorer', parameters: { requestTimeout: '2m' } },
      { type: 'max-score-picker' },
      { type: 'single-profile-handler' },
    ],
    schedulingProfiles: [
      { name: 'default', plugins: [{ pluginRef: 'max-score-picker' }, { pluginRef: 'active-request-scorer', weight: 1 }] },
    ],
  });
});

test('proxy-performance-by-backend: by-kv-backend (by-label-selector, llm-d.ai/kv-backend=nvlink) comes first', () => {
  const cfg = eppConfigOf(renderSchedulerInstall(si({ epp: { configProfile: 'proxy-performance-by-backend' } })));
  expect(cfg.plugins[0]).toEqual({
    type: 'by-label-selector',
    name: 'by-kv-backend',
    parameters: { matchLabels: { 'llm-d.ai/kv-backend': 'nvlink' } },
  });
  expect(cfg.plugins.slice(1).map((p: Obj) => p.type)).toEqual(['active-request-scorer', 'max-score-picker', 'single-profile-handler']);
  expect(cfg.schedulingProfiles).toEqual([
    {
      name: 'default',
      plugins: [{ pluginRef: 'by-kv-backend' }, { pluginRef: 'max-score-picker' }, { pluginRef: 'active-request-scorer', weight: 1 }],
    },
  ]);
});

test('default profile (also when configProfile is unset): queue + kv-cache-utilization scorers and max-score-picker', () => {
  const explicit = eppConfigOf(renderSchedulerInstall(si({ epp: { configProfile: 'default' } })));
  const unset = eppConfigOf(renderSchedulerInstall(si()));
  expect(unset).toEqual(explicit);
  expect(explicit.plugins.map((p: Obj) => p.type)).toEqual([
    'queue-scorer',
    'kv-cache-utilization-scorer',
    'max-score-picker',
    'single-profile-handler',
  ]);
  expect(explicit.schedulingProfiles[0].plugins).toEqual([
    { pluginRef: 'queue-scorer', weight: 1 },
    { pluginRef: 'kv-cache-utilization-scorer', weight: 1 },
    { pluginRef: 'max-score-picker' },
  ]);
});

test('every profile renders a config the twin EPP accepts', () => {
  for (const profile of CONFIG_PROFILES) {
    const cm = byKind(renderSchedulerInstall(si({ epp: { configProfile: profile } })), 'ConfigMap');
    const parsed = parseEppConfig(cm.data['epp-config.yaml']);
    expect(
      parsed.schedulingProfiles.map((p) => p.name),
      profile,
    ).toEqual(['default']);
  }
});

test('an unknown profile is a RenderError naming the allowed ones', () => {
  expect(() => renderSchedulerInstall(si({ epp: { configProfile: 'fastest' } }))).toThrow(RenderError);
  expect(() => renderSchedulerInstall(si({ epp: { configProfile: 'fastest' } }))).toThrow(
    'spec.epp.configProfile "fastest" is not one of default, proxy-performance, proxy-performance-by-backend',
  );
});

test('namespaced objects are owned by the SchedulerInstall and labelled managed-by llm-sched-operator', () => {
  const objs = renderSchedulerInstall(si({ epp: { configProfile: 'proxy-performance' } }));
  for (const o of objs) {
    expect(o.metadata.labels['app.kubernetes.io/managed-by'], o.kind).toBe('llm-sched-operator');
    if (o.kind === 'GatewayClass') {
      // cluster-scoped: a namespaced owner would be an invalid ownerReference
      expect(o.metadata.namespace).toBeUndefined();
      expect(o.metadata.ownerReferences).toBeUndefined();
      expect(o.metadata.annotations).toEqual({ 'sim.llm-d.io/owner': 'llm-d-inference-scheduler/llm-sched-install' });
      continue;
    }
    expect(o.metadata.namespace, o.kind).toBe('llm-d-inference-scheduler');
    expect(o.metadata.ownerReferences, o.kind).toEqual([
      {
        apiVersion: 'sim.llm-d.io/v1alpha1',
        kind: 'SchedulerInstall',
        name: 'llm-sched-install',
        uid: 'uid-1234',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
  }
});

test('EPP Deployment: image, real-EPP args, ports, config mount, and no config-hash annotation', () => {
  const dep = byKind(renderSchedulerInstall(si({ epp: { configProfile: 'proxy-performance' } })), 'Deployment');
  expect(dep.metadata.name).toBe('gaie-inference-scheduling-epp');
  expect(dep.spec.replicas).toBe(1);
  expect(dep.spec.selector.matchLabels).toEqual(dep.spec.template.metadata.labels);
  expect(dep.spec.template.metadata.annotations).toBeUndefined();
  const c = dep.spec.template.spec.containers[0];
  expect(c.image).toBe('ghcr.io/llm-d/llm-d-inference-scheduler:v0.4.0-instrumented');
  expect(c.args).toEqual([
    '--pool-name',
    'vllm-proxy-performance',
    '--pool-namespace',
    'llm-d-vllm',
    '--config-file',
    '/config/epp-config.yaml',
    '--grpc-port=9002',
    '--grpc-health-port=9003',
    '--metrics-port=9090',
    '--zap-encoder=json',
    '-v=1',
  ]);
  expect(c.ports.map((p: Obj) => [p.name, p.containerPort])).toEqual([
    ['grpc', 9002],
    ['grpc-health', 9003],
    ['metrics', 9090],
  ]);
  expect(c.readinessProbe.httpGet.port).toBe(9003);
  expect(c.volumeMounts[0].mountPath).toBe('/config');
  expect(dep.spec.template.spec.volumes).toEqual([
    { name: c.volumeMounts[0].name, configMap: { name: 'gaie-inference-scheduling-epp-config' } },
  ]);
});

test('the Deployment is identical across profiles: a profile change needs a rollout restart, as in the seed', () => {
  const a = byKind(renderSchedulerInstall(si({ epp: { configProfile: 'proxy-performance' } })), 'Deployment');
  const b = byKind(renderSchedulerInstall(si({ epp: { configProfile: 'proxy-performance-by-backend' } })), 'Deployment');
  expect(b).toEqual(a);
});

test('EPP Service exposes 9002/9003/9090 to the EPP pods', () => {
  const svc = byKind(renderSchedulerInstall(si()), 'Service');
  expect(svc.metadata.name).toBe('gaie-inference-scheduling-epp');
  expect(svc.spec.selector).toEqual({ app: 'gaie-inference-scheduling-epp' });
  expect(svc.spec.ports.map((p: Obj) => [p.name, p.port, p.targetPort])).toEqual([
    ['grpc', 9002, 9002],
    ['grpc-health', 9003, 9003],
    ['metrics', 9090, 9090],
  ]);
});

test('Gateway listens for HTTP on 80; HTTPRoute llm-d-inference-scheduling sends everything to the InferencePool', () => {
  const objs = renderSchedulerInstall(si());
  const gw = byKind(objs, 'Gateway');
  expect(gw.metadata.name).toBe('infra-inference-scheduling-inference-gateway');
  expect(gw.spec.gatewayClassName).toBe(byKind(objs, 'GatewayClass').metadata.name);
  expect(gw.spec.listeners).toEqual([{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Same' } } }]);
  const route = byKind(objs, 'HTTPRoute');
  expect(route.metadata.name).toBe('llm-d-inference-scheduling');
  expect(route.spec.parentRefs).toEqual([
    { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'infra-inference-scheduling-inference-gateway' },
  ]);
  expect(route.spec.rules).toHaveLength(1);
  expect(route.spec.rules[0].backendRefs).toEqual([
    { group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'vllm-proxy-performance', namespace: 'llm-d-vllm', port: 8080 },
  ]);
});

test('spec overrides: pool, image, replicas, and an existing GatewayClass (then none is rendered)', () => {
  const objs = renderSchedulerInstall(
    si({
      epp: { configProfile: 'proxy-performance', image: 'example.com/epp:dev', replicas: 2 },
      inferencePool: { name: 'other-pool', namespace: 'other-ns', port: 8000 },
      gateway: { name: 'gw', className: 'istio', port: 8081 },
    }),
  );
  expect(objs.some((o) => o.kind === 'GatewayClass')).toBe(false);
  const dep = byKind(objs, 'Deployment');
  expect(dep.spec.replicas).toBe(2);
  expect(dep.spec.template.spec.containers[0].image).toBe('example.com/epp:dev');
  expect(dep.spec.template.spec.containers[0].args.slice(0, 4)).toEqual(['--pool-name', 'other-pool', '--pool-namespace', 'other-ns']);
  expect(byKind(objs, 'Gateway').spec).toMatchObject({ gatewayClassName: 'istio', listeners: [{ port: 8081 }] });
  const route = byKind(objs, 'HTTPRoute');
  expect(route.spec.parentRefs[0].name).toBe('gw');
  expect(route.spec.rules[0].backendRefs[0]).toMatchObject({ name: 'other-pool', namespace: 'other-ns', port: 8000 });
});

test('rendering is pure: same input, same output, input untouched', () => {
  const input = si({ epp: { configProfile: 'proxy-performance' } });
  const before = JSON.stringify(input);
  expect(JSON.stringify(renderSchedulerInstall(input))).toBe(JSON.stringify(renderSchedulerInstall(input)));
  expect(JSON.stringify(input)).toBe(before);
});
