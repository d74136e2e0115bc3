import { test, expect } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { V1Pod } from '#client-node';
import { containerEnv, expandVars, referencedSources } from '../../twin/kubelet/env.ts';
import { IpAllocator, chooseNode, defaultNodes } from '../../twin/kubelet/scheduler.ts';
import { podConditions, podPhase, terminatedFromExit, type Condition, type ContainerView } from '../../twin/kubelet/status.ts';
import { containerMounts, prepareVolumes, VolumeError } from '../../twin/runtime/mounts.ts';

const nodes = defaultNodes('127.50');

function pod(name: string, spec: V1Pod['spec'] = { containers: [] }, labels: Record<string, string> = {}, nodeName?: string): V1Pod {
  return { metadata: { name, namespace: 'llm-d-vllm', labels, uid: `uid-${name}` }, spec: { ...spec!, ...(nodeName ? { nodeName } : {}) } };
}

test('nodeSelector picks the node with the label; no match gives a FailedScheduling message', () => {
  const p = pod('prefill', { containers: [], nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-H100-NVL' } });
  expect(chooseNode(p, nodes, [])).toMatchObject({ ok: true, node: { name: 'worker-a' } });
  const q = pod('x', { containers: [], nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-B200' } });
  const r = chooseNode(q, nodes, []);
  expect(r.ok).toBe(false);
  if (!r.ok)
    expect(r.message).toBe(
      "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
    );
});

test('required podAffinity on kubernetes.io/hostname co-locates with the matching pod, and waits for it', () => {
  const affinity = {
    podAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        { labelSelector: { matchLabels: { app: 'vllm-p2p-test', role: 'prefill' } }, topologyKey: 'kubernetes.io/hostname' },
      ],
    },
  };
  const decode = pod('decode', { containers: [], affinity }, { app: 'vllm-p2p-test', role: 'decode' });
  expect(chooseNode(decode, nodes, []).ok).toBe(false);
  for (const where of ['worker-a', 'worker-b']) {
    const prefill = pod('prefill', { containers: [] }, { app: 'vllm-p2p-test', role: 'prefill' }, where);
    // Even though the other node is emptier, affinity wins.
    const busy = [prefill, pod('other', { containers: [] }, {}, where)];
    expect(chooseNode(decode, nodes, busy)).toMatchObject({ ok: true, node: { name: where } });
  }
});

test('required anti-affinity keeps pods apart; without constraints pods spread over nodes', () => {
  const anti = {
    podAntiAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: [
        { labelSelector: { matchLabels: { app: 'x' } }, topologyKey: 'kubernetes.io/hostname' },
      ],
    },
  };
  const placed = [pod('x1', { containers: [] }, { app: 'x' }, 'worker-a')];
  expect(chooseNode(pod('x2', { containers: [], affinity: anti }, { app: 'x' }), nodes, placed)).toMatchObject({
    ok: true,
    node: { name: 'worker-b' },
  });
  const both = [...placed, pod('x3', { containers: [] }, { app: 'x' }, 'worker-b')];
  expect(chooseNode(pod('x4', { containers: [], affinity: anti }, { app: 'x' }), nodes, both).ok).toBe(false);
  expect(chooseNode(pod('free', { containers: [] }), nodes, placed)).toMatchObject({ ok: true, node: { name: 'worker-b' } });
});

test('pod addresses skip .0/.1/.255 and host IPs, are unique, and are not reused at once', () => {
  const ips = new IpAllocator('127.50', new Set(nodes.map((n) => n.hostIP)));
  const seen = new Set<string>();
  for (let i = 0; i < 600; i++) {
    const ip = ips.allocate(`p${i}`);
    const last = Number(ip.split('.')[3]);
    expect(last).toBeGreaterThanOrEqual(2);
    expect(last).toBeLessThanOrEqual(254);
    expect(nodes.map((n) => n.hostIP)).not.toContain(ip);
    expect(seen.has(ip)).toBe(false);
    seen.add(ip);
  }
  expect(ips.allocate('p0')).toBe(ips.ipOf('p0'));
  const freed = ips.ipOf('p1')!;
  ips.release('p1');
  expect(ips.allocate('new')).not.toBe(freed);
  expect(() => new IpAllocator('10.0')).toThrow(/127\.N/);
});

test('env: values, $(VAR) expansion, downward API, ConfigMap/Secret refs; missing refs fail', () => {
  const p: V1Pod = { ...pod('web', { containers: [] }, { tier: 'front' }, 'worker-a'), status: { podIP: '127.50.0.9' } };
  const env = containerEnv(
    p,
    {
      name: 'c',
      envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CFG_' }],
      env: [
        { name: 'A', value: 'a' },
        { name: 'B', value: '$(A)-b-$(MISSING)-$$(A)' },
        { name: 'NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'TIER', valueFrom: { fieldRef: { fieldPath: "metadata.labels['tier']" } } },
        { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'sec', key: 'token' } } },
      ],
    },
    { configMaps: { cfg: { MODE: 'x' } }, secrets: { sec: { token: 't0k' } } },
  );
  expect(env).toEqual({ CFG_MODE: 'x', A: 'a', B: 'a-b-$(MISSING)-$(A)', NAME: 'web', IP: '127.50.0.9', TIER: 'front', TOKEN: 't0k' });
  expect(() =>
    containerEnv(
      p,
      { name: 'c', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }] },
      { configMaps: {}, secrets: {} },
    ),
  ).toThrow(/nope/);
  expect(expandVars('$(X)$(X)', { X: '1' })).toBe('11');
  const refs = referencedSources(
    pod('r', {
      containers: [{ name: 'c', envFrom: [{ secretRef: { name: 's1' } }] }],
      volumes: [{ name: 'v', configMap: { name: 'cm1' } }],
    }),
  );
  expect([...refs.configMaps]).toEqual(['cm1']);
  expect([...refs.secrets]).toEqual(['s1']);
});

function view(partial: Partial<ContainerView>): ContainerView {
  return {
    name: 'c',
    image: 'i',
    imageID: '',
    ready: false,
    started: false,
    restartCount: 0,
    state: {},
    lastState: {},
    willRestart: true,
    ...partial,
  };
}

test('phase and conditions follow the containers; lastTransitionTime holds while status is unchanged', () => {
  const t1 = new Date('2026-11-25T10:00:00Z');
  const t2 = new Date('2026-11-25T10:00:05Z');
  expect(podPhase([view({ state: { waiting: { reason: 'ContainerCreating' } } })])).toBe('Pending');
  expect(podPhase([view({ state: { running: { startedAt: 'x' } } })])).toBe('Running');
  expect(podPhase([view({ state: { waiting: { reason: 'CrashLoopBackOff' } }, restartCount: 1 })])).toBe('Running');
  const done = terminatedFromExit({ code: 0, signal: null }, { startedAt: t1, finishedAt: t2 });
  expect(done).toMatchObject({ exitCode: 0, reason: 'Completed', startedAt: '2026-11-25T10:00:00Z', finishedAt: '2026-11-25T10:00:05Z' });
  expect(podPhase([view({ state: { terminated: done }, willRestart: false })])).toBe('Succeeded');
  const killed = terminatedFromExit({ code: null, signal: 'SIGKILL' }, { startedAt: t1, finishedAt: t2 });
  expect(killed).toMatchObject({ exitCode: 137, signal: 9, reason: 'Error' });
  expect(
    podPhase([view({ state: { terminated: done }, willRestart: false }), view({ state: { terminated: killed }, willRestart: false })]),
  ).toBe('Failed');

  const since = new Map<string, Condition>();
  const first = podConditions([view({ ready: false, state: { running: { startedAt: 'x' } } })], 'Running', since, t1);
  for (const c of first) since.set(c.type, c);
  expect(first.find((c) => c.type === 'Ready')).toMatchObject({
    status: 'False',
    reason: 'ContainersNotReady',
    message: 'containers with unready status: [c]',
    lastTransitionTime: '2026-11-25T10:00:00Z',
  });
  const second = podConditions([view({ ready: true, state: { running: { startedAt: 'x' } } })], 'Running', since, t2);
  expect(second.find((c) => c.type === 'Ready')).toMatchObject({ status: 'True', lastTransitionTime: '2026-11-25T10:00:05Z' });
  expect(second.find((c) => c.type === 'PodScheduled')).toMatchObject({ status: 'True', lastTransitionTime: '2026-11-25T10:00:00Z' });
});

test('volumes: emptyDir per pod, configMap files (items honoured), secrets, PVC shared across pods, hostPath under stateDir', () => {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'runtime-vol-'));
  try {
    const data = { configMaps: { cm: { 'a.txt': 'A', 'b.txt': 'B' } }, secrets: { s: { token: 'T' } } };
    const volumes = [
      { name: 'scratch', emptyDir: {} },
      { name: 'cfg', configMap: { name: 'cm', items: [{ key: 'b.txt', path: 'sub/bee.txt' }] } },
      { name: 'allcfg', configMap: { name: 'cm' } },
      { name: 'sec', secret: { secretName: 's' } },
      { name: 'shared', persistentVolumeClaim: { claimName: 'kv' } },
      { name: 'host', hostPath: { path: '/var/../../etc/x' } },
    ];
    const a = prepareVolumes(stateDir, { namespace: 'ns', name: 'a', uid: '1' }, volumes, data);
    const b = prepareVolumes(stateDir, { namespace: 'ns', name: 'b', uid: '2' }, volumes, data);
    expect(a.scratch).not.toBe(b.scratch);
    expect(a.shared).toBe(b.shared);
    expect(a.shared).toBe(path.join(stateDir, 'volumes', 'pvc', 'ns', 'kv'));
    expect(fs.readFileSync(path.join(a.cfg!, 'sub', 'bee.txt'), 'utf8')).toBe('B');
    expect(fs.existsSync(path.join(a.cfg!, 'a.txt'))).toBe(false);
    expect(fs.readdirSync(a.allcfg!).sort()).toEqual(['a.txt', 'b.txt']);
    expect(fs.readFileSync(path.join(a.sec!, 'token'), 'utf8')).toBe('T');
    expect(a.host!.startsWith(path.join(stateDir, 'volumes', 'hostpath'))).toBe(true);
    expect(
      containerMounts(
        [
          { name: 'cfg', mountPath: '/app' },
          { name: 'shared', mountPath: '/kv_cache', subPath: 'p' },
        ],
        a,
      ),
    ).toEqual({ '/app': a.cfg, '/kv_cache': path.join(a.shared!, 'p') });
    expect(() =>
      prepareVolumes(stateDir, { namespace: 'ns', name: 'c', uid: '3' }, [{ name: 'x', configMap: { name: 'missing' } }], data),
    ).toThrow(VolumeError);
    expect(() => containerMounts([{ name: 'nope', mountPath: '/x' }], a)).toThrow(VolumeError);
  } finally {
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
});
