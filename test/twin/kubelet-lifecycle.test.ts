import { until } from '../helpers/until.ts';
import { test, expect } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CoreV1Api, type V1Container, type V1Pod } from '#client-node';
import { podCondition, startApiAndKubelet, type ApiAndKubelet } from '../helpers/api-and-kubelet.ts';
import { podLogPath } from '../../twin/runtime/cri-log.ts';
import { podVolumesDir } from '../../twin/runtime/mounts.ts';
import { isSameProcessAlive } from '../../twin/runtime/pidfiles.ts';

test.describe.configure({ mode: 'serial' });

const NS = 'default';
let twin: ApiAndKubelet;
let core: CoreV1Api;

test.beforeAll(async () => {
  twin = await startApiAndKubelet('kubelet-life');
  core = twin.core;
  await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'programs' }, data: PROGRAMS } });
});

test.afterAll(async () => {
  await twin?.stop();
});

const readPod = (name: string) => core.readNamespacedPod({ name, namespace: NS });
const condition = podCondition;
const podWhere = (name: string, ok: (p: V1Pod) => boolean, what = name) =>
  until(what, async () => {
    const p = await readPod(name);
    return ok(p) ? p : undefined;
  });
async function podEvents(name: string) {
  return (await core.listNamespacedEvent({ namespace: NS })).items.filter((e) => e.involvedObject.name === name);
}

const PROGRAMS: Record<string, string> = {
  'server.mjs': `
import http from 'node:http';
const healthy = { value: process.env.HEALTHY !== 'false' };
http.createServer(async (req, res) => {
  if (req.url === '/health') { res.statusCode = healthy.value ? 200 : 500; res.end(); return; }
  if (req.url === '/sick') { healthy.value = false; res.end('ok'); return; }
  if (req.url?.startsWith('/call/')) {
    try { res.end(await (await fetch('http://' + req.url.slice(6) + '/')).text()); } catch (e) { res.statusCode = 502; res.end(String(e.cause?.code ?? e)); }
    return;
  }
  res.end(process.env.POD_NAME);
}).listen(8000);
process.on('SIGTERM', () => { if (process.env.IGNORE_TERM !== 'true') process.exit(0); console.log('ignoring SIGTERM'); });
`,
  'exit.mjs': `console.log('exiting with ' + process.argv[2]); process.exit(Number(process.argv[2]));`,
  'write.mjs': `import fs from 'node:fs'; for (const f of process.argv.slice(2)) fs.writeFileSync(f, process.env.POD_NAME); console.log('wrote'); setInterval(() => {}, 1000); process.on('SIGTERM', () => process.exit(0));`,
};

function nodeContainer(program: string, extra: Partial<V1Container> = {}): V1Container {
  return {
    name: 'app',
    image: 'node:20',
    command: ['node', `/programs/${program}`],
    ports: [{ name: 'http', containerPort: 8000 }],
    volumeMounts: [{ name: 'programs', mountPath: '/programs' }],
    ...extra,
  };
}

async function createPod(name: string, container: V1Container, spec: Partial<V1Pod['spec']> = {}, labels: Record<string, string> = {}) {
  await core.createNamespacedPod({
    namespace: NS,
    body: {
      metadata: { name, labels },
      spec: { volumes: [{ name: 'programs', configMap: { name: 'programs' } }], containers: [container], ...spec },
    },
  });
}

test('restartPolicy Never: exit 0 -> Succeeded, exit 3 -> Failed; OnFailure restarts only failures', async () => {
  await createPod('ok-never', nodeContainer('exit.mjs', { args: ['0'] }), { restartPolicy: 'Never' });
  await createPod('fail-never', nodeContainer('exit.mjs', { args: ['3'] }), { restartPolicy: 'Never' });
  await createPod('fail-onfailure', nodeContainer('exit.mjs', { args: ['4'] }), { restartPolicy: 'OnFailure' });
  const ok = await podWhere('ok-never', (p) => p.status?.phase === 'Succeeded');
  expect(ok.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
  expect(condition(ok, 'Ready')).toBe('False');
  const failed = await podWhere('fail-never', (p) => p.status?.phase === 'Failed');
  expect(failed.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
  expect(failed.status?.containerStatuses?.[0]?.restartCount).toBe(0);
  const looping = await podWhere('fail-onfailure', (p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2, 'two restarts');
  expect(looping.status?.phase).toBe('Running');
  expect(looping.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode).toBe(4);
  const waiting = await podWhere(
    'fail-onfailure',
    (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff',
    'CrashLoopBackOff',
  );
  expect(waiting.status?.containerStatuses?.[0]?.state?.waiting?.message).toMatch(
    /^back-off \S+ restarting failed container=app pod=fail-onfailure_default\(/,
  );
  const previous = await core.readNamespacedPodLog({ name: 'fail-onfailure', namespace: NS, previous: true });
  expect(previous).toContain('exiting with 4');
  for (const n of ['ok-never', 'fail-never', 'fail-onfailure'])
    await core.deleteNamespacedPod({ name: n, namespace: NS, gracePeriodSeconds: 0 });
});

test("a pod created again under the name of a deleted one has its own logs, not the old one's", async () => {
  const gone = (name: string) =>
    until(`${name} gone`, async () =>
      readPod(name).then(
        () => undefined,
        (e: { code?: number }) => e.code === 404,
      ),
    );
  await createPod('again', nodeContainer('exit.mjs', { args: ['0'] }), { restartPolicy: 'Never' });
  await podWhere('again', (p) => p.status?.phase === 'Succeeded');
  expect(await core.readNamespacedPodLog({ name: 'again', namespace: NS })).toBe('exiting with 0\n');
  await core.deleteNamespacedPod({ name: 'again', namespace: NS, gracePeriodSeconds: 0 });
  await gone('again');
  // a bare pod re-applied under the same name (a suite's deploy step on a twin that ran it before)
  await createPod('again', nodeContainer('exit.mjs', { args: ['3'] }), { restartPolicy: 'Never' });
  await podWhere('again', (p) => p.status?.phase === 'Failed');
  expect(await core.readNamespacedPodLog({ name: 'again', namespace: NS })).toBe('exiting with 3\n');
  await core.deleteNamespacedPod({ name: 'again', namespace: NS, gracePeriodSeconds: 0 });
  await gone('again');
});

test('a failing liveness probe restarts the container; a startup probe gates the other probes', async () => {
  await createPod(
    'live',
    nodeContainer('server.mjs', {
      startupProbe: { tcpSocket: { port: 'http' }, periodSeconds: 0.2, failureThreshold: 50 } as never,
      livenessProbe: { httpGet: { path: '/health', port: 8000 }, periodSeconds: 0.2, failureThreshold: 2 } as never,
      readinessProbe: { httpGet: { path: '/health', port: 'http' }, periodSeconds: 0.2 } as never,
    }),
  );
  const ready = await podWhere('live', (p) => condition(p, 'Ready') === 'True');
  expect(ready.status?.containerStatuses?.[0]).toMatchObject({ started: true, ready: true, restartCount: 0 });
  await fetch(`http://${ready.status!.podIP}:8000/sick`);
  const restarted = await podWhere(
    'live',
    (p) => p.status?.containerStatuses?.[0]?.restartCount === 1 && condition(p, 'Ready') === 'True',
    'restart after liveness failure',
  );
  expect(restarted.status?.containerStatuses?.[0]?.lastState?.terminated?.message).toContain('failed liveness probe');
  const events = await podEvents('live');
  expect(
    events.some((e) => e.reason === 'Unhealthy' && e.message?.startsWith('Liveness probe failed: HTTP probe failed with statuscode: 500')),
  ).toBe(true);
  expect(events.some((e) => e.reason === 'Killing' && e.message?.includes('failed liveness probe, will be restarted'))).toBe(true);
  await core.deleteNamespacedPod({ name: 'live', namespace: NS, gracePeriodSeconds: 0 });

  // A startup probe that never passes: readiness and liveness never run, the container never counts as started.
  await createPod(
    'never-started',
    nodeContainer('server.mjs', {
      startupProbe: { tcpSocket: { port: 9999 }, periodSeconds: 0.2, failureThreshold: 1000 } as never,
      readinessProbe: { httpGet: { path: '/health', port: 'http' }, periodSeconds: 0.2 } as never,
    }),
  );
  await until('startup probe failures', async () =>
    (await podEvents('never-started')).find((e) => e.reason === 'Unhealthy' && e.message?.startsWith('Startup probe failed')),
  );
  // the kubelet writes the container's running state to the API apart from its probe events (as a real kubelet's
  // status manager does, batched): a failed startup probe's event can be read before that status
  const gated = await podWhere('never-started', (p) => !!p.status?.containerStatuses?.[0]?.state?.running, 'container running');
  expect(gated.status?.containerStatuses?.[0]).toMatchObject({ started: false, ready: false });
  expect((await podEvents('never-started')).some((e) => e.message?.startsWith('Readiness probe failed'))).toBe(false);
  await core.deleteNamespacedPod({ name: 'never-started', namespace: NS, gracePeriodSeconds: 0 });
});

test('seed placement: nodeSelector to the H100-NVL node, podAffinity next to the prefill pod, FailedScheduling otherwise', async () => {
  const affinity = {
    podAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        { labelSelector: { matchLabels: { app: 'p2p', role: 'prefill' } }, topologyKey: 'kubernetes.io/hostname' },
      ],
    },
  };
  const pause: V1Container = { name: 'c', image: 'registry.k8s.io/pause:3.9' };
  // The decode pod arrives first: it waits until its prefill pod has a node.
  await core.createNamespacedPod({
    namespace: NS,
    body: { metadata: { name: 'decode', labels: { app: 'p2p', role: 'decode' } }, spec: { containers: [pause], affinity } },
  });
  await until('FailedScheduling', async () => (await podEvents('decode')).find((e) => e.reason === 'FailedScheduling'));
  const unscheduled = await readPod('decode');
  expect(unscheduled.spec?.nodeName).toBeFalsy();
  expect(unscheduled.status?.conditions?.find((c) => c.type === 'PodScheduled')).toMatchObject({
    status: 'False',
    reason: 'Unschedulable',
  });
  await core.createNamespacedPod({
    namespace: NS,
    body: {
      metadata: { name: 'prefill', labels: { app: 'p2p', role: 'prefill' } },
      spec: { containers: [pause], nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-H100-NVL' } },
    },
  });
  const prefill = await podWhere('prefill', (p) => condition(p, 'Ready') === 'True');
  const decode = await podWhere('decode', (p) => condition(p, 'Ready') === 'True');
  expect(prefill.spec?.nodeName).toBe('worker-a');
  expect(decode.spec?.nodeName).toBe('worker-a');
  expect(decode.status?.hostIP).toBe(prefill.status?.hostIP);
  expect(decode.status?.podIP).not.toBe(prefill.status?.podIP);
  await core.createNamespacedPod({
    namespace: NS,
    body: { metadata: { name: 'nowhere' }, spec: { containers: [pause], nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-B200' } } },
  });
  const failed = await until('FailedScheduling for nowhere', async () =>
    (await podEvents('nowhere')).find((e) => e.reason === 'FailedScheduling'),
  );
  expect(failed.message).toContain("didn't match Pod's node affinity/selector");
  for (const n of ['decode', 'prefill', 'nowhere']) await core.deleteNamespacedPod({ name: n, namespace: NS, gracePeriodSeconds: 0 });
});

test('pods reach each other by Service name; a Service without ready pods refuses connections', async () => {
  await createPod(
    'backend',
    nodeContainer('server.mjs', { readinessProbe: { httpGet: { path: '/health', port: 'http' }, periodSeconds: 0.2 } as never }),
    {},
    { app: 'backend' },
  );
  await createPod('frontend', nodeContainer('server.mjs'), {}, { app: 'frontend' });
  await core.createNamespacedService({
    namespace: NS,
    body: { metadata: { name: 'backend' }, spec: { selector: { app: 'backend' }, ports: [{ port: 8000 }] } },
  });
  await core.createNamespacedService({
    namespace: NS,
    body: { metadata: { name: 'nobody' }, spec: { selector: { app: 'nobody' }, ports: [{ port: 8000 }] } },
  });
  await podWhere('backend', (p) => condition(p, 'Ready') === 'True');
  const front = await podWhere('frontend', (p) => condition(p, 'Ready') === 'True');
  const call = async (target: string) => (await fetch(`http://${front.status!.podIP}:8000/call/${target}`)).text();
  expect(await until('backend by name', async () => ((await call('backend:8000')) === 'backend' ? 'backend' : undefined))).toBe('backend');
  expect(await call('backend.default:8000')).toBe('backend');
  expect(await call('backend.default.svc.cluster.local:8000')).toBe('backend');
  expect(await until('nobody refused', async () => ((await call('nobody:8000')) === 'ECONNREFUSED' ? 'ECONNREFUSED' : undefined))).toBe(
    'ECONNREFUSED',
  );
  for (const n of ['backend', 'frontend']) await core.deleteNamespacedPod({ name: n, namespace: NS, gracePeriodSeconds: 0 });
});

test('graceful deletion: SIGTERM first, SIGKILL after terminationGracePeriodSeconds', async () => {
  await createPod('stubborn', nodeContainer('server.mjs', { env: [{ name: 'IGNORE_TERM', value: 'true' }] }), {
    terminationGracePeriodSeconds: 1,
  });
  const stubborn = await podWhere('stubborn', (p) => condition(p, 'Ready') === 'True');
  // Running is not yet listening: wait until the program (and so its SIGTERM handler) is up.
  await until('stubborn answers', async () => (await fetch(`http://${stubborn.status!.podIP}:8000/`)).ok);
  const pid = twin.kubelet.pids()[`${NS}/stubborn`]?.app;
  const logFile = podLogPath(twin.stateDir, { namespace: NS, name: 'stubborn', uid: stubborn.metadata!.uid! }, 'app', 0);
  expect(pid).toBeGreaterThan(0);
  await core.deleteNamespacedPod({ name: 'stubborn', namespace: NS });
  await until('stubborn gone', async () =>
    readPod('stubborn').then(
      () => undefined,
      (e: { code?: number }) => e.code === 404,
    ),
  );
  expect(isSameProcessAlive(pid!, null)).toBe(false);
  const log = fs.readFileSync(logFile, 'utf8'); // the pod is gone: its log file is still on the node
  expect(log).toContain('ignoring SIGTERM');
});

test('a PersistentVolumeClaim volume is one directory shared by the pods using it; it outlives them, their emptyDirs and roots do not', async () => {
  await core.createNamespacedPersistentVolumeClaim({
    namespace: NS,
    body: { metadata: { name: 'shared' }, spec: { accessModes: ['ReadWriteMany'], resources: { requests: { storage: '1Gi' } } } },
  });
  for (const n of ['writer-1', 'writer-2']) {
    await core.createNamespacedPod({
      namespace: NS,
      body: {
        metadata: { name: n },
        spec: {
          volumes: [
            { name: 'programs', configMap: { name: 'programs' } },
            { name: 'data', persistentVolumeClaim: { claimName: 'shared' } },
            { name: 'cache', emptyDir: {} },
          ],
          containers: [
            nodeContainer('write.mjs', {
              args: [`/cache/${n}.txt`, `/data/${n}.txt`], // the PVC file last: once it is there, both are
              volumeMounts: [
                { name: 'programs', mountPath: '/programs' },
                { name: 'data', mountPath: '/data' },
                { name: 'cache', mountPath: '/cache' },
              ],
            }),
          ],
        },
      },
    });
  }
  const dir = path.join(twin.stateDir, 'volumes', 'pvc', NS, 'shared');
  await until('both files', async () => fs.existsSync(path.join(dir, 'writer-1.txt')) && fs.existsSync(path.join(dir, 'writer-2.txt')));
  expect(fs.readFileSync(path.join(dir, 'writer-2.txt'), 'utf8')).toBe('writer-2');
  // each pod's own directory: its emptyDir (what it wrote there) and its container's root (TMPDIR)
  const podDirs = await Promise.all(
    ['writer-1', 'writer-2'].map(async (n) =>
      podVolumesDir(twin.stateDir, { namespace: NS, name: n, uid: (await readPod(n)).metadata!.uid! }),
    ),
  );
  for (const [i, d] of podDirs.entries()) {
    expect(fs.readFileSync(path.join(d, 'empty-dir', 'cache', `writer-${i + 1}.txt`), 'utf8')).toBe(`writer-${i + 1}`);
    expect(fs.readdirSync(path.join(d, 'rootfs', 'app'))).toEqual(['tmp']);
  }
  // a graceful deletion and a forced one: the pod leaves the node, and its emptyDir's data with it (the PVC stays)
  await core.deleteNamespacedPod({ name: 'writer-1', namespace: NS });
  await core.deleteNamespacedPod({ name: 'writer-2', namespace: NS, gracePeriodSeconds: 0 });
  await until('both pods gone', async () =>
    (await core.listNamespacedPod({ namespace: NS })).items.every((p) => !p.metadata?.name?.startsWith('writer-')),
  );
  await until("both pods' directories removed", async () => podDirs.every((d) => !fs.existsSync(d)));
  expect(fs.readdirSync(dir).sort()).toEqual(['writer-1.txt', 'writer-2.txt']);
});

test('init containers run to completion before the app containers; a failed one with restartPolicy Never fails the pod', async () => {
  await createPod(
    'with-init',
    { name: 'main', image: 'registry.k8s.io/pause:3.9' },
    {
      initContainers: [
        { ...nodeContainer('exit.mjs', { args: ['0'] }), name: 'init-1', ports: [] },
        { ...nodeContainer('exit.mjs', { args: ['0'] }), name: 'init-2', ports: [] },
      ],
    },
  );
  const ready = await podWhere('with-init', (p) => condition(p, 'Ready') === 'True');
  expect(ready.status?.initContainerStatuses?.map((s) => [s.name, s.state?.terminated?.reason])).toEqual([
    ['init-1', 'Completed'],
    ['init-2', 'Completed'],
  ]);
  expect(condition(ready, 'Initialized')).toBe('True');
  const initLog = await core.readNamespacedPodLog({ name: 'with-init', namespace: NS, container: 'init-2' });
  expect(initLog).toContain('exiting with 0');

  await createPod(
    'bad-init',
    { name: 'main', image: 'registry.k8s.io/pause:3.9' },
    {
      restartPolicy: 'Never',
      initContainers: [{ ...nodeContainer('exit.mjs', { args: ['5'] }), name: 'init', ports: [] }],
    },
  );
  const failed = await podWhere('bad-init', (p) => p.status?.phase === 'Failed');
  expect(condition(failed, 'Initialized')).toBe('False');
  expect(failed.status?.initContainerStatuses?.[0]?.state?.terminated?.exitCode).toBe(5);
  expect(failed.status?.containerStatuses?.[0]?.state?.waiting?.reason).toBe('PodInitializing');
  for (const n of ['with-init', 'bad-init']) await core.deleteNamespacedPod({ name: n, namespace: NS, gracePeriodSeconds: 0 });
});

test('fixing the image of a pod in ImagePullBackOff starts it; changing a running image restarts it in place', async () => {
  await core.createNamespacedPod({
    namespace: NS,
    body: { metadata: { name: 'typo' }, spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pasue:3.9' }] } },
  });
  await podWhere('typo', (p) => p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff', 'ImagePullBackOff');
  const { PatchStrategy, setHeaderOptions } = await import('#client-node');
  const setImage = (image: string) =>
    core.patchNamespacedPod(
      { name: 'typo', namespace: NS, body: { spec: { containers: [{ name: 'c', image }] } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
  await setImage('registry.k8s.io/pause:3.9');
  const running = await podWhere('typo', (p) => condition(p, 'Ready') === 'True', 'fixed image running');
  expect(running.status?.containerStatuses?.[0]).toMatchObject({ image: 'registry.k8s.io/pause:3.9', restartCount: 0 });
  const pid = twin.kubelet.pids()[`${NS}/typo`]?.c;
  await setImage('registry.k8s.io/pause:3.10');
  const restarted = await podWhere(
    'typo',
    (p) => p.status?.containerStatuses?.[0]?.restartCount === 1 && condition(p, 'Ready') === 'True',
    'restart on image change',
  );
  expect(restarted.status?.containerStatuses?.[0]?.image).toBe('registry.k8s.io/pause:3.10');
  expect(restarted.status?.containerStatuses?.[0]?.lastState?.terminated?.message).toContain('definition changed');
  expect(twin.kubelet.pids()[`${NS}/typo`]?.c).not.toBe(pid);
  await core.deleteNamespacedPod({ name: 'typo', namespace: NS, gracePeriodSeconds: 0 });
});
