import { until } from '../helpers/until.ts';
import { test, expect } from '@playwright/test';
import * as fs from 'node:fs';
import { AppsV1Api, CoreV1Api, type V1Pod } from '#client-node';
import { podCondition, startApiAndKubelet, type ApiAndKubelet } from '../helpers/api-and-kubelet.ts';
import { isSameProcessAlive, listPids } from '../../twin/runtime/pidfiles.ts';

// One twin (API server + kubelet) for the file; the tests run in order and the last one stops the kubelet.
test.describe.configure({ mode: 'serial' });

const NS = 'default';
let twin: ApiAndKubelet;
let core: CoreV1Api;
let apps: AppsV1Api;

test.beforeAll(async () => {
  twin = await startApiAndKubelet('kubelet-twin');
  core = twin.core;
  apps = twin.kc.makeApiClient(AppsV1Api);
});

test.afterAll(async () => {
  await twin?.stop();
});

const readPod = (name: string) => core.readNamespacedPod({ name, namespace: NS });
const condition = podCondition;

async function podEvents(name: string) {
  const list = await core.listNamespacedEvent({ namespace: NS });
  return list.items.filter((e) => e.involvedObject.name === name);
}

test('a pause pod comes Running and Ready with a pod IP on a node', async () => {
  await core.createNamespacedPod({
    namespace: NS,
    body: { metadata: { name: 'pause-1' }, spec: { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.9' }] } },
  });
  const pod = await until('pause-1 Ready', async () => {
    const p = await readPod('pause-1');
    return condition(p, 'Ready') === 'True' ? p : undefined;
  });
  expect(pod.status?.phase).toBe('Running');
  expect(pod.spec?.nodeName).toMatch(/^worker-[ab]$/);
  expect(pod.status?.podIP).toMatch(new RegExp(`^${twin.ipPrefix.replace('.', '\\.')}\\.\\d+\\.\\d+$`));
  expect(pod.status?.podIPs?.[0]?.ip).toBe(pod.status?.podIP);
  expect(pod.status?.hostIP).toBe(twin.kubelet.nodes.find((n) => n.name === pod.spec?.nodeName)?.hostIP);
  for (const type of ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready']) expect(condition(pod, type)).toBe('True');
  const cs = pod.status?.containerStatuses?.[0];
  expect(cs).toMatchObject({ name: 'pause', image: 'registry.k8s.io/pause:3.9', ready: true, started: true, restartCount: 0 });
  expect(cs?.state?.running?.startedAt).toBeTruthy();
  expect(cs?.containerID).toMatch(/^containerd:\/\//);
  const pid = twin.kubelet.pids()[`${NS}/pause-1`]?.pause;
  expect(pid).toBeGreaterThan(0);
  expect(isSameProcessAlive(pid!, null)).toBe(true);
  const reasons = (await podEvents('pause-1')).map((e) => e.reason);
  for (const r of ['Scheduled', 'Pulled', 'Created', 'Started']) expect(reasons).toContain(r);
});

const SERVER = `
import http from 'node:http';
let ready = false;
console.log('server starting as ' + process.env.POD_NAME);
http.createServer((req, res) => {
  if (req.url === '/make-ready') { ready = true; res.end('ok'); return; }
  if (req.url === '/health') { res.statusCode = ready ? 200 : 503; res.end(ready ? 'ok' : 'not yet'); return; }
  res.end('hello from ' + process.env.POD_IP);
}).listen(8000);
process.on('SIGTERM', () => process.exit(0));
`;

test('a readiness probe holds Ready back until it passes; the program comes from a ConfigMap volume', async () => {
  await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'server-src' }, data: { 'server.mjs': SERVER } } });
  await core.createNamespacedPod({
    namespace: NS,
    body: {
      metadata: { name: 'probed' },
      spec: {
        volumes: [{ name: 'src', configMap: { name: 'server-src' } }],
        containers: [
          {
            name: 'app',
            image: 'node:20',
            command: ['node', '/app/server.mjs'],
            ports: [{ name: 'http', containerPort: 8000 }],
            volumeMounts: [{ name: 'src', mountPath: '/app' }],
            readinessProbe: { httpGet: { path: '/health', port: 'http' }, periodSeconds: 0.2, failureThreshold: 1 } as never,
          },
        ],
      },
    },
  });
  const running = await until('probed running', async () => {
    const p = await readPod('probed');
    return p.status?.containerStatuses?.[0]?.state?.running ? p : undefined;
  });
  const ip = running.status!.podIP!;
  // The server answers, but its health says no: an Unhealthy event, and the pod stays unready.
  await until('Unhealthy event', async () => (await podEvents('probed')).find((e) => e.reason === 'Unhealthy'));
  const unready = await readPod('probed');
  expect(condition(unready, 'Ready')).toBe('False');
  expect(unready.status?.containerStatuses?.[0]?.ready).toBe(false);
  // Up and answering on its own pod IP, while still unready.
  expect(await until('server answers', async () => (await fetch(`http://${ip}:8000/`)).text())).toBe(`hello from ${ip}`);
  expect(condition(await readPod('probed'), 'Ready')).toBe('False');
  await fetch(`http://${ip}:8000/make-ready`);
  const ready = await until('probed Ready', async () => {
    const p = await readPod('probed');
    return condition(p, 'Ready') === 'True' ? p : undefined;
  });
  expect(ready.status?.containerStatuses?.[0]?.ready).toBe(true);
});

test('SIGKILL of a pod process restarts it in place; the previous log stays readable', async () => {
  const before = await readPod('probed');
  const pid = twin.kubelet.pids()[`${NS}/probed`]?.app;
  expect(pid).toBeGreaterThan(0);
  process.kill(pid!, 'SIGKILL');
  const after = await until('probed restarted', async () => {
    const p = await readPod('probed');
    const cs = p.status?.containerStatuses?.[0];
    return cs?.restartCount === 1 && cs.state?.running ? p : undefined;
  });
  const cs = after.status!.containerStatuses![0]!;
  expect(cs.lastState?.terminated).toMatchObject({ exitCode: 137, signal: 9, reason: 'Error' });
  expect(after.status?.podIP).toBe(before.status?.podIP);
  expect(after.metadata?.uid).toBe(before.metadata?.uid);
  expect(twin.kubelet.pids()[`${NS}/probed`]?.app).not.toBe(pid);
  const previous = await core.readNamespacedPodLog({ name: 'probed', namespace: NS, previous: true });
  expect(previous).toContain('server starting as probed');
  expect((await podEvents('probed')).map((e) => e.reason)).toContain('BackOff');
});

test('deleting a pod stops its process and removes the pod', async () => {
  const pid = twin.kubelet.pids()[`${NS}/probed`]?.app;
  expect(pid).toBeGreaterThan(0);
  await core.deleteNamespacedPod({ name: 'probed', namespace: NS });
  await until('probed gone', async () => {
    try {
      await readPod('probed');
      return undefined;
    } catch (err) {
      return (err as { code?: number }).code === 404 ? true : undefined;
    }
  });
  expect(isSameProcessAlive(pid!, null)).toBe(false);
  expect(twin.kubelet.pids()[`${NS}/probed`]).toBeUndefined();
  expect((await podEvents('probed')).map((e) => e.reason)).toContain('Killing');
});

test('an unknown image ends in ImagePullBackOff with an event naming the supported images', async () => {
  await core.createNamespacedPod({
    namespace: NS,
    body: { metadata: { name: 'bad-image' }, spec: { containers: [{ name: 'c', image: 'quay.io/nobody/nothing:1' }] } },
  });
  const pod = await until('ImagePullBackOff', async () => {
    const p = await readPod('bad-image');
    return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff' ? p : undefined;
  });
  expect(pod.status?.phase).toBe('Pending');
  expect(pod.status?.containerStatuses?.[0]?.state?.waiting?.message).toContain('registry.k8s.io/pause');
  const failed = (await podEvents('bad-image')).filter((e) => e.reason === 'Failed').map((e) => e.message ?? '');
  expect(failed.some((m) => m.includes('quay.io/nobody/nothing:1') && m.includes('vllm/vllm-openai'))).toBe(true);
  await core.deleteNamespacedPod({ name: 'bad-image', namespace: NS });
});

test('a Deployment of pause with 3 replicas comes Ready on distinct IPs', async () => {
  await apps.createNamespacedDeployment({
    namespace: NS,
    body: {
      metadata: { name: 'pauses' },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'pauses' } },
        template: {
          metadata: { labels: { app: 'pauses' } },
          spec: { containers: [{ name: 'pause', image: 'registry.k8s.io/pause:3.9' }] },
        },
      },
    },
  });
  const pods = await until(
    '3 ready replicas',
    async () => {
      const list = await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=pauses' });
      const ready = list.items.filter((p) => condition(p, 'Ready') === 'True');
      return ready.length === 3 ? ready : undefined;
    },
    60_000,
  );
  expect(new Set(pods.map((p) => p.status?.podIP)).size).toBe(3);
  // spread over both nodes
  expect(new Set(pods.map((p) => p.spec?.nodeName)).size).toBe(2);
});

test('Service names resolve to ready pod IPs in the hosts file', async () => {
  await core.createNamespacedService({
    namespace: NS,
    body: { metadata: { name: 'pauses' }, spec: { selector: { app: 'pauses' }, ports: [{ port: 80 }] } },
  });
  const list = await core.listNamespacedPod({ namespace: NS, labelSelector: 'app=pauses' });
  const ips = list.items.map((p) => p.status?.podIP).sort();
  await until('hosts file', async () => {
    const hosts = JSON.parse(fs.readFileSync(twin.kubelet.hostsFile, 'utf8')) as Record<string, string[]>;
    return JSON.stringify([...(hosts['pauses.default.svc.cluster.local'] ?? [])].sort()) === JSON.stringify(ips) ? true : undefined;
  });
});

test('stop() leaves no pod process behind', async () => {
  const pids = Object.values(twin.kubelet.pids()).flatMap((byContainer) => Object.values(byContainer));
  expect(pids.length).toBeGreaterThanOrEqual(4);
  const records = listPids(twin.stateDir);
  expect(records.length).toBe(pids.length);
  await twin.kubelet.stop();
  await twin.kubelet.stop();
  for (const r of records) expect(isSameProcessAlive(r.pid, r.startTime), `pid ${r.pid} (${r.pod})`).toBe(false);
  expect(listPids(twin.stateDir)).toHaveLength(0);
});
