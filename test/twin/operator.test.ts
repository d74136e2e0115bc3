import { expect, test } from '@playwright/test';
import { CustomObjectsApi, KubeConfig, KubernetesObjectApi, PatchStrategy, setHeaderOptions, type KubernetesObject } from '#client-node';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, parseAllDocuments } from '#yaml';
import { startApiServer, type ApiServerHandle } from '../../twin/apiserver/server.ts';
import { startSchedulerInstallOperator, type OperatorHandle } from '../../twin/operator/index.ts';

type Obj = KubernetesObject & Record<string, any>;

const NS = 'llm-d-inference-scheduler';
const POLL = { timeout: 20_000 };

function ref(apiVersion: string, kind: string, name: string, namespace?: string) {
  return { apiVersion, kind, metadata: namespace ? { name, namespace } : { name } };
}

test.describe('SchedulerInstall operator against the twin API server', () => {
  test.describe.configure({ mode: 'serial' });

  let dir: string;
  let api: ApiServerHandle;
  let operator: OperatorHandle;
  let objects: KubernetesObjectApi;
  let custom: CustomObjectsApi;
  const logs: string[] = [];

  async function get(apiVersion: string, kind: string, name: string, namespace: string | undefined = NS): Promise<Obj | undefined> {
    try {
      return (await objects.read(ref(apiVersion, kind, name, namespace))) as Obj;
    } catch (err) {
      if ((err as { code?: number }).code === 404) return undefined;
      throw err;
    }
  }
  const configMap = () => get('v1', 'ConfigMap', 'gaie-inference-scheduling-epp-config');
  const eppConfigText = async () => ((await configMap())?.data?.['epp-config.yaml'] as string | undefined) ?? '';
  const deployment = () => get('apps/v1', 'Deployment', 'gaie-inference-scheduling-epp');
  const schedulerInstall = () => get('sim.llm-d.io/v1alpha1', 'SchedulerInstall', 'llm-sched-install');

  async function mergePatch(obj: Obj): Promise<void> {
    await objects.patch(obj, undefined, undefined, 'kubectl-patch', undefined, PatchStrategy.MergePatch);
  }

  test.beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'operator-twin-'));
    api = await startApiServer({ stateDir: dir, port: 0, controllers: false });
    const kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfigPath);
    objects = KubernetesObjectApi.makeApiClient(kc);
    custom = kc.makeApiClient(CustomObjectsApi);
    for (const doc of parseAllDocuments(readFileSync('manifests/namespaces.yaml', 'utf8'))) {
      await objects.create(doc.toJS() as Obj);
    }
    await objects.create(parse(readFileSync('manifests/gateway-routing/schedulerinstall-proxy-performance.yaml', 'utf8')) as Obj);
    operator = await startSchedulerInstallOperator({ kubeconfigPath: api.kubeconfigPath, log: (l) => logs.push(l), resyncMs: 60_000 });
  });

  test.afterAll(async () => {
    await operator?.stop();
    await api?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('renders every object, owned by the SchedulerInstall, and reports Ready with observedGeneration', async () => {
    await expect.poll(eppConfigText, POLL).toContain('active-request-scorer');
    const si = (await schedulerInstall())!;
    const owner = { apiVersion: 'sim.llm-d.io/v1alpha1', kind: 'SchedulerInstall', name: 'llm-sched-install', uid: si.metadata!.uid };
    for (const [apiVersion, kind, name] of [
      ['v1', 'ConfigMap', 'gaie-inference-scheduling-epp-config'],
      ['apps/v1', 'Deployment', 'gaie-inference-scheduling-epp'],
      ['v1', 'Service', 'gaie-inference-scheduling-epp'],
      ['gateway.networking.k8s.io/v1', 'Gateway', 'infra-inference-scheduling-inference-gateway'],
      ['gateway.networking.k8s.io/v1', 'HTTPRoute', 'llm-d-inference-scheduling'],
    ] as const) {
      const o = await expect
        .poll(() => get(apiVersion, kind, name), POLL)
        .toBeDefined()
        .then(() => get(apiVersion, kind, name));
      expect(o!.metadata!.labels?.['app.kubernetes.io/managed-by'], kind).toBe('llm-sched-operator');
      expect(o!.metadata!.ownerReferences?.[0], kind).toMatchObject(owner);
    }
    const gc = await get('gateway.networking.k8s.io/v1', 'GatewayClass', 'infra-inference-scheduling-inference-gateway', undefined);
    expect(gc?.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('llm-sched-operator');
    const route = (await get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'llm-d-inference-scheduling'))!;
    expect(route.spec.rules[0].backendRefs[0]).toEqual({
      group: 'inference.networking.k8s.io',
      kind: 'InferencePool',
      name: 'vllm-proxy-performance',
      namespace: 'llm-d-vllm',
      port: 8080,
    });
    await expect
      .poll(async () => {
        const s = (await schedulerInstall())!;
        const ready = s.status?.conditions?.find((c: Obj) => c.type === 'Ready');
        return [ready?.status, s.status?.observedGeneration === s.metadata!.generation];
      }, POLL)
      .toEqual(['True', true]);
  });

  test('a profile change rewrites the ConfigMap but not the Deployment (the seed needs a rollout restart)', async () => {
    const before = (await deployment())!;
    await mergePatch({
      ...ref('sim.llm-d.io/v1alpha1', 'SchedulerInstall', 'llm-sched-install', NS),
      spec: { epp: { configProfile: 'proxy-performance-by-backend' } },
    } as Obj);
    await expect.poll(eppConfigText, POLL).toContain('by-label-selector');
    expect(await eppConfigText()).toContain('llm-d.ai/kv-backend: nvlink');
    const after = (await deployment())!;
    expect(after.metadata!.generation).toBe(before.metadata!.generation);
    expect(after.spec.template).toEqual(before.spec.template);
    await expect
      .poll(async () => {
        const s = (await schedulerInstall())!;
        return s.status?.observedGeneration === s.metadata!.generation;
      }, POLL)
      .toBe(true);
  });

  test('a hand edit of the ConfigMap is set back', async () => {
    const rendered = await eppConfigText();
    await mergePatch({
      ...ref('v1', 'ConfigMap', 'gaie-inference-scheduling-epp-config', NS),
      data: { 'epp-config.yaml': 'plugins: []\n' },
    } as Obj);
    await expect.poll(eppConfigText, POLL).toBe(rendered);
  });

  test('a hand edit of the EPP args is set back; a rollout restart annotation survives', async () => {
    const dep = (await deployment())!;
    const args: string[] = dep.spec.template.spec.containers[0].args;
    const stamp = new Date().toISOString();
    await objects.patch(
      {
        ...ref('apps/v1', 'Deployment', 'gaie-inference-scheduling-epp', NS),
        spec: {
          template: {
            metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': stamp } },
            spec: { containers: [{ name: 'epp', args: ['--pool-name', 'somewhere-else'] }] },
          },
        },
      } as Obj,
      undefined,
      undefined,
      'kubectl-edit',
      undefined,
      PatchStrategy.StrategicMergePatch,
    );
    await expect.poll(async () => (await deployment())!.spec.template.spec.containers[0].args, POLL).toEqual(args);
    expect((await deployment())!.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']).toBe(stamp);
  });

  test('a deleted HTTPRoute is recreated', async () => {
    const old = (await get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'llm-d-inference-scheduling'))!;
    await objects.delete(ref('gateway.networking.k8s.io/v1', 'HTTPRoute', 'llm-d-inference-scheduling', NS) as Obj);
    await expect
      .poll(async () => {
        const uid = (await get('gateway.networking.k8s.io/v1', 'HTTPRoute', 'llm-d-inference-scheduling'))?.metadata?.uid;
        return uid !== undefined && uid !== old.metadata!.uid;
      }, POLL)
      .toBe(true);
  });

  test('an invalid profile makes Ready False with reason InvalidSpec', async () => {
    // The twin's built-in CRD preserves unknown fields, so the enum is the operator's to enforce.
    await custom.patchNamespacedCustomObject(
      {
        group: 'sim.llm-d.io',
        version: 'v1alpha1',
        namespace: NS,
        plural: 'schedulerinstalls',
        name: 'llm-sched-install',
        body: { spec: { epp: { configProfile: 'fastest' } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await expect
      .poll(async () => {
        const ready = (await schedulerInstall())!.status?.conditions?.find((c: Obj) => c.type === 'Ready');
        return [ready?.status, ready?.reason];
      }, POLL)
      .toEqual(['False', 'InvalidSpec']);
    // The last good rendering stays in place.
    expect(await eppConfigText()).toContain('by-label-selector');
  });
});
