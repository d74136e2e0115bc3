import { expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as k8s from '#client-node';
import { ApiException, PatchStrategy, setHeaderOptions } from '#client-node';
import { startApiServer } from '../../twin/apiserver/server.ts';
import type { ApiServerHandle } from '../../twin/apiserver/server.ts';
import type { Obj } from '../../twin/apiserver/selectors.ts';
import { startFakeKubelet } from './apiserver-fake-kubelet.ts';

let h: ApiServerHandle;
let kubelet: { stop(): void };
let stateDir: string;
let core: k8s.CoreV1Api;
let apps: k8s.AppsV1Api;

test.beforeAll(async () => {
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'apiserver-ctrl-'));
  h = await startApiServer({ stateDir });
  kubelet = startFakeKubelet(h.api, { ready: (p) => p.metadata.labels?.ready !== 'no' });
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(h.kubeconfigPath);
  core = kc.makeApiClient(k8s.CoreV1Api);
  apps = kc.makeApiClient(k8s.AppsV1Api);
});

test.afterAll(async () => {
  kubelet?.stop();
  await h?.stop();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

const deployment = (name: string, replicas: number, strategy?: k8s.V1DeploymentStrategy): k8s.V1Deployment => ({
  metadata: { name },
  spec: {
    replicas,
    ...(strategy ? { strategy } : {}),
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.9', ports: [{ name: 'http', containerPort: 8080 }] }] },
    },
  },
});

async function ns(name: string) {
  await core.createNamespace({ body: { metadata: { name } } });
}

const podsOf = async (namespace: string, app: string) =>
  (await core.listNamespacedPod({ namespace, labelSelector: `app=${app}` })).items.filter((p) => !p.metadata!.deletionTimestamp);

const rolledOut = async (namespace: string, name: string) => {
  const d = await apps.readNamespacedDeployment({ name, namespace });
  const s = d.status ?? {};
  const progressing = s.conditions?.find((c) => c.type === 'Progressing');
  return (
    (s.observedGeneration ?? 0) >= (d.metadata!.generation ?? 0) &&
    s.updatedReplicas === d.spec!.replicas &&
    s.availableReplicas === d.spec!.replicas &&
    (s.replicas ?? 0) === d.spec!.replicas &&
    progressing?.reason === 'NewReplicaSetAvailable'
  );
};

test('a Deployment of pause scaled to 3 comes Ready; a deleted pod is replaced under a new name', async () => {
  await ns('d1');
  await apps.createNamespacedDeployment({ namespace: 'd1', body: deployment('pause', 1) });
  await expect.poll(() => rolledOut('d1', 'pause')).toBe(true);
  await apps.patchNamespacedDeploymentScale(
    { name: 'pause', namespace: 'd1', body: { spec: { replicas: 3 } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  await expect.poll(() => rolledOut('d1', 'pause')).toBe(true);
  const pods = await podsOf('d1', 'pause');
  expect(pods).toHaveLength(3);
  const rs = (await apps.listNamespacedReplicaSet({ namespace: 'd1' })).items;
  expect(rs).toHaveLength(1);
  const hash = rs[0]!.metadata!.labels!['pod-template-hash']!;
  expect(rs[0]!.metadata!.name).toBe(`pause-${hash}`);
  expect(rs[0]!.metadata!.annotations!['deployment.kubernetes.io/revision']).toBe('1');
  for (const p of pods) {
    expect(p.metadata!.name).toMatch(new RegExp(`^pause-${hash}-[a-z0-9]{5}$`));
    expect(p.metadata!.ownerReferences![0]!.uid).toBe(rs[0]!.metadata!.uid);
  }
  const d = await apps.readNamespacedDeployment({ name: 'pause', namespace: 'd1' });
  expect(d.status!.conditions!.find((c) => c.type === 'Available')!.status).toBe('True');
  expect(d.status!.readyReplicas).toBe(3);

  const victim = pods[0]!.metadata!.name!;
  await core.deleteNamespacedPod({ name: victim, namespace: 'd1' });
  await expect.poll(async () => (await podsOf('d1', 'pause')).map((p) => p.metadata!.name).filter((n) => n !== victim).length).toBe(3);
  expect((await podsOf('d1', 'pause')).map((p) => p.metadata!.name)).not.toContain(victim);

  const events = (await core.listNamespacedEvent({ namespace: 'd1' })).items;
  const scaling = events.filter((e) => e.reason === 'ScalingReplicaSet');
  expect(scaling.map((e) => e.message)).toContain(`Scaled up replica set pause-${hash} from 1 to 3`);
  expect(scaling[0]!.involvedObject.kind).toBe('Deployment');
  expect(scaling[0]!.involvedObject.uid).toBe(d.metadata!.uid);
  expect(events.some((e) => e.reason === 'SuccessfulCreate' && e.involvedObject.kind === 'ReplicaSet')).toBe(true);
});

test('rolling update (restartedAt) never exceeds replicas + maxSurge and never drops below replicas - maxUnavailable', async () => {
  await ns('d2');
  await apps.createNamespacedDeployment({
    namespace: 'd2',
    body: deployment('roll', 4, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }),
  });
  await expect.poll(() => rolledOut('d2', 'roll')).toBe(true);
  const counts: Array<{ total: number; ready: number }> = [];
  const unsubscribe = h.api.store.subscribe((e) => {
    if (e.key !== '/pods' || e.object.metadata.namespace !== 'd2') return;
    const live = h.api.store.peek('/pods', 'd2').filter((p: Obj) => !p.metadata.deletionTimestamp);
    counts.push({
      total: live.length,
      ready: live.filter((p: Obj) => (p.status?.conditions ?? []).some((c: Obj) => c.type === 'Ready' && c.status === 'True')).length,
    });
  });
  try {
    await apps.patchNamespacedDeployment(
      {
        name: 'roll',
        namespace: 'd2',
        body: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    await expect.poll(() => rolledOut('d2', 'roll'), { timeout: 30_000 }).toBe(true);
  } finally {
    unsubscribe();
  }
  expect(counts.length).toBeGreaterThan(0);
  expect(Math.max(...counts.map((c) => c.total))).toBeLessThanOrEqual(5);
  expect(Math.min(...counts.map((c) => c.ready))).toBeGreaterThanOrEqual(4);
  const rs = (await apps.listNamespacedReplicaSet({ namespace: 'd2' })).items;
  expect(rs).toHaveLength(2);
  const byRev = Object.fromEntries(rs.map((r) => [r.metadata!.annotations!['deployment.kubernetes.io/revision'], r]));
  expect(byRev['1']!.spec!.replicas).toBe(0);
  expect(byRev['2']!.spec!.replicas).toBe(4);
  const d = await apps.readNamespacedDeployment({ name: 'roll', namespace: 'd2' });
  expect(d.metadata!.annotations!['deployment.kubernetes.io/revision']).toBe('2');
  const pods = await podsOf('d2', 'roll');
  expect(pods.every((p) => p.metadata!.labels!['pod-template-hash'] === byRev['2']!.metadata!.labels!['pod-template-hash'])).toBe(true);
});

test('Recreate: old pods are gone before new ones are created', async () => {
  await ns('d3');
  await apps.createNamespacedDeployment({ namespace: 'd3', body: deployment('rec', 2, { type: 'Recreate' }) });
  await expect.poll(() => rolledOut('d3', 'rec')).toBe(true);
  const oldHash = (await podsOf('d3', 'rec'))[0]!.metadata!.labels!['pod-template-hash'];
  let overlap = false;
  const unsubscribe = h.api.store.subscribe((e) => {
    if (e.key !== '/pods' || e.object.metadata.namespace !== 'd3') return;
    const hashes = new Set(h.api.store.peek('/pods', 'd3').map((p: Obj) => p.metadata.labels?.['pod-template-hash']));
    if (hashes.size > 1) overlap = true;
  });
  try {
    await apps.patchNamespacedDeployment(
      { name: 'rec', namespace: 'd3', body: { spec: { template: { metadata: { labels: { app: 'rec', v: '2' } } } } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    await expect.poll(() => rolledOut('d3', 'rec'), { timeout: 30_000 }).toBe(true);
  } finally {
    unsubscribe();
  }
  expect(overlap).toBe(false);
  const pods = await podsOf('d3', 'rec');
  expect(pods).toHaveLength(2);
  expect(pods.every((p) => p.metadata!.labels!['pod-template-hash'] !== oldHash)).toBe(true);
});

test('garbage collection: Background, Orphan and Foreground deletion of a Deployment', async () => {
  await ns('gc');
  for (const n of ['bg', 'orphan', 'fg']) await apps.createNamespacedDeployment({ namespace: 'gc', body: deployment(n, 2) });
  for (const n of ['bg', 'orphan', 'fg']) await expect.poll(() => rolledOut('gc', n)).toBe(true);

  await apps.deleteNamespacedDeployment({ name: 'bg', namespace: 'gc', propagationPolicy: 'Background' });
  await expect.poll(async () => (await apps.listNamespacedReplicaSet({ namespace: 'gc', labelSelector: 'app=bg' })).items.length).toBe(0);
  await expect.poll(async () => (await core.listNamespacedPod({ namespace: 'gc', labelSelector: 'app=bg' })).items.length).toBe(0);

  await apps.deleteNamespacedDeployment({ name: 'orphan', namespace: 'gc', propagationPolicy: 'Orphan' });
  const orphanRs = (await apps.listNamespacedReplicaSet({ namespace: 'gc', labelSelector: 'app=orphan' })).items;
  expect(orphanRs).toHaveLength(1);
  expect(orphanRs[0]!.metadata!.ownerReferences ?? []).toEqual([]);
  expect((await podsOf('gc', 'orphan')).length).toBe(2);

  await apps.deleteNamespacedDeployment({ name: 'fg', namespace: 'gc', propagationPolicy: 'Foreground' });
  // While dependents exist the owner stays, marked for deletion with the foregroundDeletion finalizer.
  const marked = h.api.tryGet(h.api.type('apps', 'deployments'), 'gc', 'fg');
  if (marked) {
    expect(marked.metadata.deletionTimestamp).toBeTruthy();
    expect(marked.metadata.finalizers).toContain('foregroundDeletion');
  }
  await expect
    .poll(async () => {
      try {
        await apps.readNamespacedDeployment({ name: 'fg', namespace: 'gc' });
        return 200;
      } catch (e) {
        return e instanceof ApiException ? e.code : -1;
      }
    })
    .toBe(404);
  expect((await apps.listNamespacedReplicaSet({ namespace: 'gc', labelSelector: 'app=fg' })).items).toHaveLength(0);
  expect(await podsOf('gc', 'fg')).toHaveLength(0);
});

test('Endpoints and EndpointSlices follow ready pods; targetPort by name; notReadyAddresses', async () => {
  await ns('ep');
  await core.createNamespacedService({
    namespace: 'ep',
    body: { metadata: { name: 'svc' }, spec: { selector: { app: 'svc' }, ports: [{ name: 'web', port: 80, targetPort: 'http' }] } },
  });
  const mk = (name: string, ready: string) =>
    core.createNamespacedPod({
      namespace: 'ep',
      body: {
        metadata: { name, labels: { app: 'svc', ready } },
        spec: { containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.9', ports: [{ name: 'http', containerPort: 9000 }] }] },
      },
    });
  await mk('ok', 'yes');
  await mk('notyet', 'no');
  await expect
    .poll(async () => {
      const e = await core.readNamespacedEndpoints({ name: 'svc', namespace: 'ep' });
      const s = e.subsets?.[0];
      return {
        ready: (s?.addresses ?? []).map((a) => a.targetRef?.name),
        notReady: (s?.notReadyAddresses ?? []).map((a) => a.targetRef?.name),
        ports: s?.ports,
      };
    })
    .toEqual({ ready: ['ok'], notReady: ['notyet'], ports: [{ name: 'web', port: 9000, protocol: 'TCP' }] });
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(h.kubeconfigPath);
  const disc = kc.makeApiClient(k8s.DiscoveryV1Api);
  const slices = (await disc.listNamespacedEndpointSlice({ namespace: 'ep', labelSelector: 'kubernetes.io/service-name=svc' })).items;
  expect(slices).toHaveLength(1);
  expect(slices[0]!.ports).toEqual([{ name: 'web', port: 9000, protocol: 'TCP' }]);
  expect(Object.fromEntries(slices[0]!.endpoints.map((e) => [e.targetRef!.name, e.conditions!.ready]))).toEqual({
    ok: true,
    notyet: false,
  });
  await core.deleteNamespacedPod({ name: 'ok', namespace: 'ep' });
  await expect
    .poll(async () => (await core.readNamespacedEndpoints({ name: 'svc', namespace: 'ep' })).subsets?.[0]?.addresses ?? [])
    .toEqual([]);
  await core.deleteNamespacedService({ name: 'svc', namespace: 'ep' });
  await expect.poll(async () => (await core.listNamespacedEndpoints({ namespace: 'ep' })).items.length).toBe(0);
  await expect.poll(async () => (await disc.listNamespacedEndpointSlice({ namespace: 'ep' })).items.length).toBe(0);
});

test('PVCs bind at once to a new PV; deleting the claim deletes the volume', async () => {
  await ns('pvc');
  await core.createNamespacedPersistentVolumeClaim({
    namespace: 'pvc',
    body: { metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } } } },
  });
  await expect
    .poll(async () => (await core.readNamespacedPersistentVolumeClaim({ name: 'data', namespace: 'pvc' })).status?.phase)
    .toBe('Bound');
  const claim = await core.readNamespacedPersistentVolumeClaim({ name: 'data', namespace: 'pvc' });
  const pv = await core.readPersistentVolume({ name: claim.spec!.volumeName! });
  expect(pv.spec!.capacity!.storage).toBe('2Gi');
  expect(pv.spec!.claimRef!.uid).toBe(claim.metadata!.uid);
  await core.deleteNamespacedPersistentVolumeClaim({ name: 'data', namespace: 'pvc' });
  await expect
    .poll(async () => (await core.listPersistentVolume()).items.filter((p) => p.metadata!.name === pv.metadata!.name).length)
    .toBe(0);
});

test('namespace deletion: Terminating, contents removed, then gone; default ServiceAccount exists', async () => {
  await ns('doomed');
  await expect
    .poll(async () => (await core.listNamespacedServiceAccount({ namespace: 'doomed' })).items.map((s) => s.metadata!.name))
    .toEqual(['default']);
  await apps.createNamespacedDeployment({ namespace: 'doomed', body: deployment('x', 1) });
  await core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'c' } } });
  await expect.poll(() => rolledOut('doomed', 'x')).toBe(true);
  const phases: string[] = [];
  const unsubscribe = h.api.store.subscribe((e) => {
    if (e.key === '/namespaces' && e.object.metadata.name === 'doomed')
      phases.push(e.type === 'DELETED' ? 'DELETED' : String(e.object.status?.phase));
  });
  try {
    await core.deleteNamespace({ name: 'doomed' });
    await expect.poll(() => phases.at(-1)).toBe('DELETED');
  } finally {
    unsubscribe();
  }
  expect(phases).toContain('Terminating');
  for (const key of ['/pods', '/configmaps', 'apps/deployments', 'apps/replicasets', '/serviceaccounts'])
    expect(h.api.store.peek(key, 'doomed')).toHaveLength(0);
  let code = 0;
  try {
    await core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'late' } } });
  } catch (e) {
    code = e instanceof ApiException ? e.code : -1;
  }
  expect(code).toBe(404);
});
