import { expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import * as k8s from '#client-node';
import { ApiException, PatchStrategy, setHeaderOptions } from '#client-node';
import { startApiServer } from '../../twin/apiserver/server.ts';
import { podLogPath } from '../../twin/runtime/cri-log.ts';
import type { ApiServerHandle } from '../../twin/apiserver/server.ts';

let h: ApiServerHandle;
let stateDir: string;
let kc: k8s.KubeConfig;
let core: k8s.CoreV1Api;
let apps: k8s.AppsV1Api;

test.beforeAll(async () => {
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'apiserver-rest-'));
  h = await startApiServer({ stateDir, controllers: false, bookmarkIntervalMs: 200 });
  kc = new k8s.KubeConfig();
  kc.loadFromFile(h.kubeconfigPath);
  core = kc.makeApiClient(k8s.CoreV1Api);
  apps = kc.makeApiClient(k8s.AppsV1Api);
});

test.afterAll(async () => {
  await h?.stop();
  await h?.stop(); // idempotent
  fs.rmSync(stateDir, { recursive: true, force: true });
});

async function statusOf(p: Promise<unknown>): Promise<{ code: number; body: any }> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiException) return { code: e.code, body: typeof e.body === 'string' ? JSON.parse(e.body) : e.body };
    throw e;
  }
  return { code: 200, body: undefined };
}

const pod = (name: string, labels: Record<string, string> = {}) => ({
  metadata: { name, labels },
  spec: { containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.9' }] },
});

test('kubeconfig names the cluster, uses https and a bearer token; requests without it get 401 Status', async () => {
  const text = fs.readFileSync(h.kubeconfigPath, 'utf8');
  expect(text).toContain('pd-harness-twin');
  expect(text).toContain(h.token);
  expect(h.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  const ca = Buffer.from(/certificate-authority-data: (\S+)/.exec(text)![1]!, 'base64');
  const { Agent, request } = await import('undici');
  const dispatcher = new Agent({ connect: { ca } });
  const res = await request(`${h.url}/api/v1/namespaces`, { dispatcher });
  expect(res.statusCode).toBe(401);
  const body = (await res.body.json()) as { kind: string; reason: string };
  expect(body.kind).toBe('Status');
  expect(body.reason).toBe('Unauthorized');
  const ok = await request(`${h.url}/version`, { dispatcher, headers: { authorization: `Bearer ${h.token}` } });
  expect(((await ok.body.json()) as { gitVersion: string }).gitVersion).toMatch(/^v1\.\d+\.\d+/);
  await dispatcher.close();
});

test('seeded nodes and namespaces', async () => {
  const nodes = await core.listNode();
  const byName = Object.fromEntries(nodes.items.map((n) => [n.metadata!.name!, n]));
  expect(byName['worker-a']!.metadata!.labels!['nvidia.com/gpu.product']).toBe('NVIDIA-H100-NVL');
  expect(byName['worker-b']!.metadata!.labels!['nvidia.com/gpu.product']).toBe('NVIDIA-H100');
  expect(byName['worker-a']!.status!.conditions!.find((c) => c.type === 'Ready')!.status).toBe('True');
  const ns = await core.listNamespace();
  expect(ns.items.map((n) => n.metadata!.name)).toContain('default');
});

test('create, get, list, update, delete with metadata, resourceVersion and Status errors', async () => {
  await core.createNamespace({ body: { metadata: { name: 'crud' } } });
  const created = await core.createNamespacedConfigMap({ namespace: 'crud', body: { metadata: { name: 'c1' }, data: { a: '1' } } });
  expect(created.metadata!.uid).toBeTruthy();
  expect(created.metadata!.creationTimestamp).toBeTruthy();
  expect(Number(created.metadata!.resourceVersion)).toBeGreaterThan(0);

  const dup = await statusOf(core.createNamespacedConfigMap({ namespace: 'crud', body: { metadata: { name: 'c1' } } }));
  expect(dup.code).toBe(409);
  expect(dup.body.reason).toBe('AlreadyExists');

  const missing = await statusOf(core.readNamespacedConfigMap({ name: 'nope', namespace: 'crud' }));
  expect(missing.code).toBe(404);
  expect(missing.body.message).toBe('configmaps "nope" not found');

  const updated = await core.replaceNamespacedConfigMap({ name: 'c1', namespace: 'crud', body: { ...created, data: { a: '2' } } });
  expect(updated.data).toEqual({ a: '2' });
  expect(Number(updated.metadata!.resourceVersion)).toBeGreaterThan(Number(created.metadata!.resourceVersion));

  const stale = await statusOf(core.replaceNamespacedConfigMap({ name: 'c1', namespace: 'crud', body: { ...created, data: { a: '3' } } }));
  expect(stale.code).toBe(409);
  expect(stale.body.reason).toBe('Conflict');

  const list = await core.listNamespacedConfigMap({ namespace: 'crud' });
  expect(list.items.map((c) => c.metadata!.name)).toEqual(['c1']);
  expect(Number(list.metadata!.resourceVersion)).toBeGreaterThanOrEqual(Number(updated.metadata!.resourceVersion));

  await core.deleteNamespacedConfigMap({ name: 'c1', namespace: 'crud' });
  expect((await statusOf(core.readNamespacedConfigMap({ name: 'c1', namespace: 'crud' }))).code).toBe(404);

  const noNs = await statusOf(core.createNamespacedConfigMap({ namespace: 'no-such-ns', body: { metadata: { name: 'x' } } }));
  expect(noNs.code).toBe(404);
});

test('422 Invalid with field causes; generateName', async () => {
  const bad = await statusOf(
    core.createNamespacedPod({ namespace: 'default', body: { metadata: { name: 'Bad_Name' }, spec: { containers: [] } } }),
  );
  expect(bad.code).toBe(422);
  expect(bad.body.reason).toBe('Invalid');
  const fields = bad.body.details.causes.map((c: { field: string }) => c.field);
  expect(fields).toContain('metadata.name');
  expect(fields).toContain('spec.containers');
  const gen = await core.createNamespacedPod({ namespace: 'default', body: { metadata: { generateName: 'gen-' }, spec: pod('x').spec } });
  expect(gen.metadata!.name).toMatch(/^gen-[a-z0-9]{5}$/);
  expect(gen.status!.phase).toBe('Pending');
  await core.deleteNamespacedPod({ name: gen.metadata!.name!, namespace: 'default' });
});

test('label and field selectors', async () => {
  await core.createNamespace({ body: { metadata: { name: 'sel' } } });
  await core.createNamespacedPod({ namespace: 'sel', body: pod('p1', { app: 'a', role: 'prefill' }) });
  await core.createNamespacedPod({ namespace: 'sel', body: pod('p2', { app: 'a', role: 'decode' }) });
  await core.createNamespacedPod({ namespace: 'sel', body: pod('p3', { app: 'b' }) });
  const names = async (labelSelector?: string, fieldSelector?: string) =>
    (
      await core.listNamespacedPod({
        namespace: 'sel',
        ...(labelSelector ? { labelSelector } : {}),
        ...(fieldSelector ? { fieldSelector } : {}),
      })
    ).items
      .map((p) => p.metadata!.name)
      .sort();
  expect(await names('app=a')).toEqual(['p1', 'p2']);
  expect(await names('app==a,role!=decode')).toEqual(['p1']);
  expect(await names('role in (prefill,decode)')).toEqual(['p1', 'p2']);
  expect(await names('role notin (prefill)')).toEqual(['p2', 'p3']);
  expect(await names('role')).toEqual(['p1', 'p2']);
  expect(await names('!role')).toEqual(['p3']);
  expect(await names(undefined, 'metadata.name=p2')).toEqual(['p2']);
  expect(await names(undefined, 'status.phase=Pending,spec.nodeName=')).toEqual(['p1', 'p2', 'p3']);
  const all = await core.listPodForAllNamespaces({ labelSelector: 'app=b' });
  expect(all.items.map((p) => `${p.metadata!.namespace}/${p.metadata!.name}`)).toEqual(['sel/p3']);
  const bad = await statusOf(core.listNamespacedPod({ namespace: 'sel', labelSelector: 'a in (' }));
  expect(bad.code).toBe(400);
  await core.deleteCollectionNamespacedPod({ namespace: 'sel', labelSelector: 'app=a', gracePeriodSeconds: 0 });
  expect(await names()).toEqual(['p3']);
});

test('patches: merge, strategic, JSON, server-side apply with conflicts; bad patches are 400/422', async () => {
  await core.createNamespace({ body: { metadata: { name: 'patch' } } });
  await apps.createNamespacedDeployment({
    namespace: 'patch',
    body: {
      metadata: { name: 'd', labels: { app: 'd' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'd' } },
        template: {
          metadata: { labels: { app: 'd' } },
          spec: {
            containers: [
              { name: 'a', image: 'i:1', env: [{ name: 'X', value: '1' }] },
              { name: 'b', image: 'i:2' },
            ],
          },
        },
      },
    },
  });
  const merged = await apps.patchNamespacedDeployment(
    { name: 'd', namespace: 'patch', body: { metadata: { labels: { extra: 'y' } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  expect(merged.metadata!.labels).toEqual({ app: 'd', extra: 'y' });
  expect(merged.metadata!.generation).toBe(1);

  const smp = await apps.patchNamespacedDeployment(
    {
      name: 'd',
      namespace: 'patch',
      body: { spec: { template: { spec: { containers: [{ name: 'a', env: [{ name: 'Y', value: '2' }] }] } } } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
  );
  const cs = smp.spec!.template.spec!.containers;
  expect(cs.map((c) => c.name)).toEqual(['a', 'b']);
  expect(cs[0]!.env!.map((e) => e.name)).toEqual(['X', 'Y']);
  expect(smp.metadata!.generation).toBe(2);

  const jp = await apps.patchNamespacedDeployment(
    { name: 'd', namespace: 'patch', body: [{ op: 'replace', path: '/spec/replicas', value: 4 }] },
    setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
  );
  expect(jp.spec!.replicas).toBe(4);

  const failing = await statusOf(
    apps.patchNamespacedDeployment(
      { name: 'd', namespace: 'patch', body: [{ op: 'remove', path: '/spec/nope/x' }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    ),
  );
  expect(failing.code).toBe(422);
  const notArray = await statusOf(
    apps.patchNamespacedDeployment(
      { name: 'd', namespace: 'patch', body: { op: 'x' } },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    ),
  );
  expect(notArray.code).toBe(400);

  // Server-side apply: create, re-apply removes what the manager dropped, another manager conflicts.
  const cm = (data: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'ssa', namespace: 'patch' },
    data,
  });
  const applyOpts = (manager: string, force = false) => ({
    name: 'ssa',
    namespace: 'patch',
    fieldManager: manager,
    ...(force ? { force: true } : {}),
  });
  const c1 = await core.patchNamespacedConfigMap(
    { ...applyOpts('alice'), body: cm({ a: '1', b: '2' }) },
    setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
  );
  expect(c1.data).toEqual({ a: '1', b: '2' });
  expect(c1.metadata!.managedFields!.map((m) => [m.manager, m.operation])).toEqual([['alice', 'Apply']]);
  const c2 = await core.patchNamespacedConfigMap(
    { ...applyOpts('alice'), body: cm({ a: '1' }) },
    setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
  );
  expect(c2.data).toEqual({ a: '1' });
  const conflict = await statusOf(
    core.patchNamespacedConfigMap(
      { ...applyOpts('bob'), body: cm({ a: 'other' }) },
      setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
    ),
  );
  expect(conflict.code).toBe(409);
  expect(conflict.body.message).toContain('conflict with "alice"');
  const forced = await core.patchNamespacedConfigMap(
    { ...applyOpts('bob', true), body: cm({ a: 'other' }) },
    setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
  );
  expect(forced.data).toEqual({ a: 'other' });
});

test('status subresource: spec writes ignore status and status writes ignore spec; generation only on spec', async () => {
  await core.createNamespace({ body: { metadata: { name: 'stat' } } });
  const d = await apps.createNamespacedDeployment({
    namespace: 'stat',
    body: {
      metadata: { name: 'd' },
      spec: {
        selector: { matchLabels: { a: 'b' } },
        template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
      },
    },
  });
  expect(d.spec!.replicas).toBe(1);
  const s = await apps.patchNamespacedDeploymentStatus(
    { name: 'd', namespace: 'stat', body: { status: { replicas: 7 }, spec: { replicas: 9 } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  expect(s.status!.replicas).toBe(7);
  expect(s.spec!.replicas).toBe(1);
  expect(s.metadata!.generation).toBe(1);
  const m = await apps.patchNamespacedDeployment(
    { name: 'd', namespace: 'stat', body: { status: { replicas: 0 }, spec: { replicas: 2 } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  expect(m.status!.replicas).toBe(7);
  expect(m.spec!.replicas).toBe(2);
  expect(m.metadata!.generation).toBe(2);
  const scale = await apps.readNamespacedDeploymentScale({ name: 'd', namespace: 'stat' });
  expect(scale.spec!.replicas).toBe(2);
  expect(scale.status!.selector).toBe('a=b');
  await apps.patchNamespacedDeploymentScale(
    { name: 'd', namespace: 'stat', body: { spec: { replicas: 5 } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  expect((await apps.readNamespacedDeployment({ name: 'd', namespace: 'stat' })).spec!.replicas).toBe(5);
});

test('graceful pod deletion: scheduled pods are marked, grace 0 removes; finalizers only mark', async () => {
  await core.createNamespace({ body: { metadata: { name: 'grace' } } });
  await core.createNamespacedPod({
    namespace: 'grace',
    body: { ...pod('sched'), spec: { ...pod('x').spec, nodeName: 'worker-a', terminationGracePeriodSeconds: 7 } },
  });
  const marked = (await core.deleteNamespacedPod({ name: 'sched', namespace: 'grace' })) as k8s.V1Pod;
  expect(marked.metadata!.deletionTimestamp).toBeTruthy();
  expect(marked.metadata!.deletionGracePeriodSeconds).toBe(7);
  expect((await core.readNamespacedPod({ name: 'sched', namespace: 'grace' })).metadata!.deletionTimestamp).toBeTruthy();
  await core.deleteNamespacedPod({ name: 'sched', namespace: 'grace' }); // again, no grace given: still only marked
  expect((await core.readNamespacedPod({ name: 'sched', namespace: 'grace' })).metadata!.deletionGracePeriodSeconds).toBe(7);
  await core.deleteNamespacedPod({ name: 'sched', namespace: 'grace', gracePeriodSeconds: 0 });
  expect((await statusOf(core.readNamespacedPod({ name: 'sched', namespace: 'grace' }))).code).toBe(404);

  await core.createNamespacedPod({ namespace: 'grace', body: pod('unsched') });
  await core.deleteNamespacedPod({ name: 'unsched', namespace: 'grace' });
  expect((await statusOf(core.readNamespacedPod({ name: 'unsched', namespace: 'grace' }))).code).toBe(404);

  await core.createNamespacedConfigMap({ namespace: 'grace', body: { metadata: { name: 'fin', finalizers: ['example.com/hold'] } } });
  await core.deleteNamespacedConfigMap({ name: 'fin', namespace: 'grace' });
  const held = await core.readNamespacedConfigMap({ name: 'fin', namespace: 'grace' });
  expect(held.metadata!.deletionTimestamp).toBeTruthy();
  await core.patchNamespacedConfigMap(
    { name: 'fin', namespace: 'grace', body: { metadata: { finalizers: null } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  expect((await statusOf(core.readNamespacedConfigMap({ name: 'fin', namespace: 'grace' }))).code).toBe(404);
});

test('watch: initial ADDED, live events, selector transitions, resume from resourceVersion, bookmarks, 410 Expired', async () => {
  await core.createNamespace({ body: { metadata: { name: 'watch' } } });
  await core.createNamespacedConfigMap({ namespace: 'watch', body: { metadata: { name: 'w1', labels: { w: 'yes' } } } });
  const events: Array<[string, string]> = [];
  const watch = new k8s.Watch(kc);
  const ctl = await watch.watch(
    '/api/v1/namespaces/watch/configmaps',
    { labelSelector: 'w=yes', allowWatchBookmarks: true },
    (type, obj) => events.push([type, obj?.metadata?.name ?? '']),
    () => {},
  );
  try {
    await expect.poll(() => events.length).toBeGreaterThan(0);
    await core.createNamespacedConfigMap({ namespace: 'watch', body: { metadata: { name: 'w2', labels: { w: 'yes' } } } });
    await core.patchNamespacedConfigMap(
      { name: 'w2', namespace: 'watch', body: { data: { x: '1' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await core.patchNamespacedConfigMap(
      { name: 'w1', namespace: 'watch', body: { metadata: { labels: { w: 'no' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await core.deleteNamespacedConfigMap({ name: 'w2', namespace: 'watch' });
    await expect
      .poll(() => events.filter(([t]) => t !== 'BOOKMARK'))
      .toEqual([
        ['ADDED', 'w1'],
        ['ADDED', 'w2'],
        ['MODIFIED', 'w2'],
        ['DELETED', 'w1'],
        ['DELETED', 'w2'],
      ]);
    await expect.poll(() => events.some(([t]) => t === 'BOOKMARK')).toBe(true);
  } finally {
    ctl.abort();
  }

  // Resume: only what happened after the given resourceVersion.
  const rv = (await core.listNamespacedConfigMap({ namespace: 'watch' })).metadata!.resourceVersion!;
  await core.createNamespacedConfigMap({ namespace: 'watch', body: { metadata: { name: 'w3' } } });
  const resumed: Array<[string, string]> = [];
  const ctl2 = await watch.watch(
    '/api/v1/namespaces/watch/configmaps',
    { resourceVersion: rv },
    (type, obj) => resumed.push([type, obj?.metadata?.name ?? '']),
    () => {},
  );
  try {
    await expect.poll(() => resumed).toEqual([['ADDED', 'w3']]);
  } finally {
    ctl2.abort();
  }

  // Too old: an ERROR event with a 410 Expired Status (a server with a tiny event history).
  const expired: Array<[string, any]> = [];
  const smallDir = fs.mkdtempSync(path.join(os.tmpdir(), 'apiserver-rest-small-'));
  const small = await startApiServer({ stateDir: smallDir, controllers: false, watchHistoryLimit: 5 });
  try {
    // the event history is bounded: churn well past it, then ask for an early version
    const smallKc = new k8s.KubeConfig();
    smallKc.loadFromFile(small.kubeconfigPath);
    const smallCore = smallKc.makeApiClient(k8s.CoreV1Api);
    await smallCore.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'churn' } } });
    for (let i = 0; i < 10; i++)
      await smallCore.patchNamespacedConfigMap(
        { name: 'churn', namespace: 'default', body: { data: { i: String(i) } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    const ctl3 = await new k8s.Watch(smallKc).watch(
      '/api/v1/namespaces/default/configmaps',
      { resourceVersion: '2' },
      (type, obj) => expired.push([type, obj]),
      () => {},
    );
    try {
      await expect.poll(() => expired.length).toBe(1);
      expect(expired[0]![0]).toBe('ERROR');
      expect(expired[0]![1].code).toBe(410);
      expect(expired[0]![1].reason).toBe('Expired');
    } finally {
      ctl3.abort();
    }
  } finally {
    await small.stop();
    fs.rmSync(smallDir, { recursive: true, force: true });
  }
});

test('pod logs: container, previous, tailLines, timestamps, sinceTime, limitBytes, follow', async () => {
  await core.createNamespace({ body: { metadata: { name: 'logs' } } });
  const lp = await core.createNamespacedPod({
    namespace: 'logs',
    body: {
      metadata: { name: 'lp' },
      spec: {
        nodeName: 'worker-a',
        containers: [
          { name: 'main', image: 'i' },
          { name: 'side', image: 'i' },
        ],
      },
    },
  });
  const setRestarts = (n: number) =>
    core.patchNamespacedPodStatus(
      {
        name: 'lp',
        namespace: 'logs',
        body: {
          status: {
            phase: 'Running',
            containerStatuses: [
              {
                name: 'main',
                ready: true,
                restartCount: n,
                image: 'i',
                imageID: '',
                state: { running: { startedAt: new Date().toISOString() } },
              },
              {
                name: 'side',
                ready: true,
                restartCount: 0,
                image: 'i',
                imageID: '',
                state: { running: { startedAt: new Date().toISOString() } },
              },
            ],
          },
        },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  await setRestarts(0);
  // the files the kubelet would write (twin/runtime/cri-log.ts podLogPath)
  const logFile = (container: string, restart: number) =>
    podLogPath(stateDir, { namespace: 'logs', name: 'lp', uid: lp.metadata!.uid! }, container, restart);
  fs.mkdirSync(path.dirname(logFile('main', 0)), { recursive: true });
  fs.mkdirSync(path.dirname(logFile('side', 0)), { recursive: true });
  fs.writeFileSync(
    logFile('main', 0),
    '2026-01-01T00:00:00.000000001Z stdout F first\n2026-01-01T00:00:01.5Z stderr P part-\n2026-01-01T00:00:01.6Z stderr F joined\n2030-01-01T00:00:00Z stdout F future\n',
  );
  fs.writeFileSync(logFile('side', 0), '2026-01-01T00:00:00Z stdout F side line\n');

  expect(await core.readNamespacedPodLog({ name: 'lp', namespace: 'logs' })).toBe('first\npart-joined\nfuture\n');
  expect(await core.readNamespacedPodLog({ name: 'lp', namespace: 'logs', container: 'side' })).toBe('side line\n');
  expect(await core.readNamespacedPodLog({ name: 'lp', namespace: 'logs', tailLines: 1 })).toBe('future\n');
  expect(await core.readNamespacedPodLog({ name: 'lp', namespace: 'logs', timestamps: true, tailLines: 1 })).toBe(
    '2030-01-01T00:00:00Z future\n',
  );
  expect(await core.readNamespacedPodLog({ name: 'lp', namespace: 'logs', limitBytes: 3 })).toBe('fir');
  expect(await core.readNamespacedPodLog({ name: 'lp', namespace: 'logs', sinceSeconds: 60 })).toBe('future\n');

  const noPrev = await statusOf(core.readNamespacedPodLog({ name: 'lp', namespace: 'logs', previous: true }));
  expect(noPrev.code).toBe(400);
  expect(noPrev.body.message).toBe('previous terminated container "main" in pod "lp" not found');
  const badContainer = await statusOf(core.readNamespacedPodLog({ name: 'lp', namespace: 'logs', container: 'nope' }));
  expect(badContainer.code).toBe(400);

  await setRestarts(1);
  fs.writeFileSync(logFile('main', 1), '2026-01-02T00:00:00Z stdout F after restart\n');
  expect(await core.readNamespacedPodLog({ name: 'lp', namespace: 'logs' })).toBe('after restart\n');
  expect(await core.readNamespacedPodLog({ name: 'lp', namespace: 'logs', previous: true })).toBe('first\npart-joined\nfuture\n');

  // follow: new lines arrive; the stream ends when the container restarts.
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  const ended = new Promise<void>((resolve) => out.on('end', () => resolve()));
  const ctl = await new k8s.Log(kc).log('logs', 'lp', 'main', out, { follow: true });
  try {
    await expect.poll(() => text).toBe('after restart\n');
    fs.appendFileSync(logFile('main', 1), '2026-01-02T00:00:01Z stdout F streamed\n');
    await expect.poll(() => text).toBe('after restart\nstreamed\n');
    await setRestarts(2);
    await ended;
  } finally {
    ctl.abort();
  }
});

test('CRDs: built-ins are served; a new CRD serves its kind with status subresource; re-applying works', async () => {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  await core.createNamespace({ body: { metadata: { name: 'crs' } } });
  const pool = await custom.createNamespacedCustomObject({
    group: 'inference.networking.k8s.io',
    version: 'v1',
    namespace: 'crs',
    plural: 'inferencepools',
    body: {
      apiVersion: 'inference.networking.k8s.io/v1',
      kind: 'InferencePool',
      metadata: { name: 'pool' },
      spec: {
        selector: { matchLabels: { role: 'proxy' } },
        targetPorts: [{ number: 8080 }],
        endpointPickerRef: { name: 'epp', port: { number: 9002 } },
      },
    },
  });
  expect(pool.metadata.generation).toBe(1);
  await custom.createNamespacedCustomObject({
    group: 'sim.llm-d.io',
    version: 'v1alpha1',
    namespace: 'crs',
    plural: 'schedulerinstalls',
    body: { apiVersion: 'sim.llm-d.io/v1alpha1', kind: 'SchedulerInstall', metadata: { name: 's' }, spec: {} },
  });
  await custom.createNamespacedCustomObject({
    group: 'k6.io',
    version: 'v1alpha1',
    namespace: 'crs',
    plural: 'testruns',
    body: { apiVersion: 'k6.io/v1alpha1', kind: 'TestRun', metadata: { name: 't' }, spec: { parallelism: 1 } },
  });

  const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
  const crd = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wd'] },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          subresources: { status: {} },
        },
      ],
    },
  };
  const made = await ext.createCustomResourceDefinition({ body: crd });
  expect(
    made
      .status!.conditions!.filter((c) => c.status === 'True')
      .map((c) => c.type)
      .sort(),
  ).toEqual(['Established', 'NamesAccepted']);
  await ext.replaceCustomResourceDefinition({
    name: 'widgets.example.com',
    body: { ...made, spec: { ...made.spec, names: { ...made.spec.names, shortNames: ['wd', 'wdg'] } } },
  });
  const w = await custom.createNamespacedCustomObject({
    group: 'example.com',
    version: 'v1',
    namespace: 'crs',
    plural: 'widgets',
    body: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec: { size: 1 }, status: { ignored: true } },
  });
  expect(w.status).toBeUndefined();
  const ws = await custom.patchNamespacedCustomObjectStatus(
    { group: 'example.com', version: 'v1', namespace: 'crs', plural: 'widgets', name: 'w', body: { status: { ok: true } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  expect(ws.status).toEqual({ ok: true });
  expect(ws.metadata.generation).toBe(1);

  // Generic client: KubernetesObjectApi resolves the kind through discovery.
  const objApi = k8s.KubernetesObjectApi.makeApiClient(kc);
  const read = await objApi.read({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'crs' } });
  expect((read as { spec?: { size?: number } }).spec?.size).toBe(1);

  await ext.deleteCustomResourceDefinition({ name: 'widgets.example.com' });
  const gone = await statusOf(
    custom.listNamespacedCustomObject({ group: 'example.com', version: 'v1', namespace: 'crs', plural: 'widgets' }),
  );
  expect(gone.code).toBe(404);
});

test('unknown paths are 404, wrong methods 405, malformed bodies 400', async () => {
  const { Agent, request } = await import('undici');
  const ca = Buffer.from(/certificate-authority-data: (\S+)/.exec(fs.readFileSync(h.kubeconfigPath, 'utf8'))![1]!, 'base64');
  const dispatcher = new Agent({ connect: { ca } });
  const auth = { authorization: `Bearer ${h.token}` };
  try {
    const r404 = await request(`${h.url}/api/v1/nothings`, { dispatcher, headers: auth });
    expect(r404.statusCode).toBe(404);
    expect(((await r404.body.json()) as { kind: string }).kind).toBe('Status');
    const r405 = await request(`${h.url}/api/v1/namespaces/default/configmaps`, { dispatcher, method: 'PUT', headers: auth, body: '{}' });
    expect(r405.statusCode).toBe(405);
    await r405.body.dump();
    const r400 = await request(`${h.url}/api/v1/namespaces/default/configmaps`, {
      dispatcher,
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(r400.statusCode).toBe(400);
    expect(((await r400.body.json()) as { reason: string }).reason).toBe('BadRequest');
  } finally {
    await dispatcher.close();
  }
});

test('client-node informer: list then watch from the list resourceVersion', async () => {
  await core.createNamespace({ body: { metadata: { name: 'inf' } } });
  await core.createNamespacedConfigMap({ namespace: 'inf', body: { metadata: { name: 'before' } } });
  const informer = k8s.makeInformer(kc, '/api/v1/namespaces/inf/configmaps', () => core.listNamespacedConfigMap({ namespace: 'inf' }));
  const seen: string[] = [];
  informer.on('add', (o) => seen.push(`add:${o.metadata!.name}`));
  informer.on('update', (o) => seen.push(`update:${o.metadata!.name}`));
  informer.on('delete', (o) => seen.push(`delete:${o.metadata!.name}`));
  await informer.start();
  try {
    await expect.poll(() => seen).toEqual(['add:before']);
    await core.createNamespacedConfigMap({ namespace: 'inf', body: { metadata: { name: 'after' } } });
    await core.patchNamespacedConfigMap(
      { name: 'before', namespace: 'inf', body: { data: { x: '1' } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await core.deleteNamespacedConfigMap({ name: 'after', namespace: 'inf' });
    await expect.poll(() => seen).toEqual(['add:before', 'add:after', 'update:before', 'delete:after']);
    expect(informer.list('inf').map((o) => o.metadata!.name)).toEqual(['before']);
  } finally {
    await informer.stop();
  }
});

test('the nodes option replaces the seeded nodes; unknown patch content types are 415', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apiserver-rest-nodes-'));
  const other = await startApiServer({ stateDir: dir, controllers: false, nodes: [{ name: 'solo-node', labels: { zone: 'z1' } }] });
  try {
    const okc = new k8s.KubeConfig();
    okc.loadFromFile(other.kubeconfigPath);
    const nodes = (await okc.makeApiClient(k8s.CoreV1Api).listNode()).items;
    expect(nodes.map((n) => n.metadata!.name)).toEqual(['solo-node']);
    expect(nodes[0]!.metadata!.labels).toMatchObject({ zone: 'z1', 'kubernetes.io/hostname': 'solo-node' });
  } finally {
    await other.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'ct' } } });
  const res = await statusOf(
    core.patchNamespacedConfigMap(
      { name: 'ct', namespace: 'default', body: { data: { a: 'b' } } },
      setHeaderOptions('Content-Type', 'text/plain'),
    ),
  );
  expect(res.code).toBe(415);
});

test('a repeated apply by a second manager with equal values is recorded, and a no-op patch keeps the resourceVersion', async () => {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owners', namespace: 'default' }, data: { a: '1' } };
  const ssa = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
  await core.patchNamespacedConfigMap({ name: 'owners', namespace: 'default', fieldManager: 'one', body: cm }, ssa);
  const two = await core.patchNamespacedConfigMap({ name: 'owners', namespace: 'default', fieldManager: 'two', body: cm }, ssa);
  expect(two.metadata!.managedFields!.map((m) => m.manager).sort()).toEqual(['one', 'two']);
  const same = await core.patchNamespacedConfigMap(
    { name: 'owners', namespace: 'default', body: { data: { a: '1' } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  expect(same.metadata!.resourceVersion).toBe(two.metadata!.resourceVersion);
  // Both own data.a: a third manager changing it conflicts with both.
  const conflict = await statusOf(
    core.patchNamespacedConfigMap({ name: 'owners', namespace: 'default', fieldManager: 'three', body: { ...cm, data: { a: '2' } } }, ssa),
  );
  expect(conflict.code).toBe(409);
  expect(conflict.body.details.causes).toHaveLength(2);
});

test('pods/binding sets the node once; a watch with timeoutSeconds ends on its own', async () => {
  await core.createNamespacedPod({ namespace: 'default', body: pod('bind-me') });
  await core.createNamespacedPodBinding({
    name: 'bind-me',
    namespace: 'default',
    body: { metadata: { name: 'bind-me' }, target: { kind: 'Node', name: 'worker-b' } },
  });
  expect((await core.readNamespacedPod({ name: 'bind-me', namespace: 'default' })).spec!.nodeName).toBe('worker-b');
  const again = await statusOf(
    core.createNamespacedPodBinding({
      name: 'bind-me',
      namespace: 'default',
      body: { metadata: { name: 'bind-me' }, target: { kind: 'Node', name: 'worker-a' } },
    }),
  );
  expect(again.code).toBe(409);

  let ended = false;
  const ctl = await new k8s.Watch(kc).watch(
    '/api/v1/namespaces/default/pods',
    { timeoutSeconds: 1 },
    () => {},
    () => {
      ended = true;
    },
  );
  try {
    await expect.poll(() => ended).toBe(true);
  } finally {
    ctl.abort();
  }
});
