import { expect, test } from '@playwright/test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Cluster } from '../../cluster/driver.ts';
import { readManifests } from '../../cluster/manifests.ts';
import { waitCondition } from '../../cluster/observe.ts';
import { WaitTimeoutError, waitFor } from '../../cluster/waits.ts';
import { consoleReporter } from '../../runner/reporter.ts';
import { runSuite } from '../../runner/run-suite.ts';
import { loadSuite } from '../../suites/loader.ts';
import { RANDOM_IP_PREFIX, startTwin, type TwinHandle } from '../../twin/launcher.ts';

/**
 * A suite run against the twin leaves nothing behind: what it created is deleted, what it patched is put
 * back, whether the run passed or failed.
 */
test.describe.configure({ mode: 'serial', timeout: 240_000 });

let twin: TwinHandle;
let stateDir = '';
const SCHED_NS = 'llm-d-inference-scheduler';
const SI = { apiVersion: 'sim.llm-d.io/v1alpha1', kind: 'SchedulerInstall', name: 'llm-sched-install', namespace: SCHED_NS };
const quiet = { ...consoleReporter, step: <T>(_: string, body: () => Promise<T>) => body(), log: () => undefined };

test.beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'pdh-suite-run-'));
  twin = await startTwin({ stateDir, gatewayPort: 0, ipPrefix: RANDOM_IP_PREFIX });
  // What "the cluster had before the run": namespaces, CRDs and a SchedulerInstall on the default profile.
  const pre = await Cluster.connect({ kubeconfigPath: twin.kubeconfigPath });
  const objects = readManifests([
    resolve('manifests/namespaces.yaml'),
    resolve('manifests/crds'),
    resolve('manifests/gateway-routing/schedulerinstall-proxy-performance.yaml'),
  ]);
  const si = objects.find((o) => o.kind === 'SchedulerInstall')!;
  (si as unknown as { spec: { epp: { configProfile: string } } }).spec.epp.configProfile = 'default';
  await pre.apply(objects);
  // the operator renders the EPP objects and the HTTPRoute from it: the "before" inventory is taken after that
  await waitCondition(pre, SI, 'Ready', 'True', 60_000);
  await waitFor({
    name: 'HTTPRoute llm-d-inference-scheduling rendered by the operator',
    timeoutMs: 60_000,
    probe: async () => {
      const route = await pre.tryRead({
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        name: 'llm-d-inference-scheduling',
        namespace: SCHED_NS,
      });
      return { done: !!route, state: route ? 'present' : 'absent' };
    },
  });
});

test.afterAll(async () => {
  try {
    await twin?.stop();
  } finally {
    // after the twin has stopped: its state holds the kubeconfig (a bearer token)
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  }
});

async function inventory(cluster: Cluster): Promise<string[]> {
  const out: string[] = [];
  for (const ns of ['llm-d-vllm', SCHED_NS]) {
    for (const [apiVersion, kind] of [
      ['v1', 'ConfigMap'],
      ['v1', 'Service'],
      ['apps/v1', 'Deployment'],
      ['inference.networking.k8s.io/v1', 'InferencePool'],
      ['gateway.networking.k8s.io/v1', 'HTTPRoute'],
      ['sim.llm-d.io/v1alpha1', 'SchedulerInstall'],
    ] as const) {
      for (const o of await cluster.list(apiVersion, kind, ns)) out.push(`${kind} ${ns}/${o.metadata?.name}`);
    }
    // pods a Deployment owns get new names on every rollout; bare pods are the run's own
    for (const p of await cluster.listPods(ns)) if (!p.metadata?.ownerReferences?.length) out.push(`Pod ${ns}/${p.metadata?.name}`);
  }
  return out.filter((s) => !s.includes('kube-root-ca')).sort();
}

async function profileOf(cluster: Cluster): Promise<string> {
  const si = await cluster.read<{ spec: { epp: { configProfile: string } } } & Record<string, unknown>>(SI);
  return (si as unknown as { spec: { epp: { configProfile: string } } }).spec.epp.configProfile;
}

test('a passing run deletes what it created and puts the SchedulerInstall back', async () => {
  const observer = await Cluster.connect({ kubeconfigPath: twin.kubeconfigPath });
  const before = await inventory(observer);
  expect(await profileOf(observer)).toBe('default');

  const cluster = await Cluster.connect({ kubeconfigPath: twin.kubeconfigPath });
  const outcome = await runSuite({
    cluster,
    gatewayUrl: twin.gatewayUrl,
    loaded: loadSuite('suites/proxy-performance.suite.yaml'),
    rep: quiet,
  });
  expect(outcome.verdicts.filter((v) => !v.ok).map((v) => v.summary)).toEqual([]);
  // the EPP decisions counted are the load's own: the steady-state probe's pick, a moment before, stays out
  expect(outcome.load?.records.length).toBe(60);
  expect(outcome.verdicts.find((v) => v.name === 'proxiesChosen')?.summary).toContain('of 60 picks');
  expect(await profileOf(observer)).toBe('proxy-performance');
  expect((await observer.listPods('llm-d-vllm')).length).toBeGreaterThanOrEqual(6);

  const undo = await cluster.teardown();
  expect(undo.filter((o) => !o.ok)).toEqual([]);
  expect(await profileOf(observer)).toBe('default');
  expect(await inventory(observer)).toEqual(before);
});

test('a broken setup fails with InferencePoolResourceExhausted in the verdicts, not with a timeout', async () => {
  const cluster = await Cluster.connect({ kubeconfigPath: twin.kubeconfigPath });
  try {
    const outcome = await runSuite({
      cluster,
      gatewayUrl: twin.gatewayUrl,
      loaded: loadSuite('test/fixtures/suites/broken-by-backend.suite.yaml'),
      rep: quiet,
    });
    expect(outcome.passed).toBe(false);
    const chosen = outcome.verdicts.find((v) => v.name === 'proxiesChosen')!;
    expect(chosen.ok).toBe(false);
    expect(chosen.summary).toContain('InferencePoolResourceExhausted');
    expect(outcome.verdicts.find((v) => v.name === 'noSchedulingFailures')?.summary).toContain('InferencePoolResourceExhausted');
    expect(outcome.load?.summary.byStatus).toEqual({ '429': 12 });
  } finally {
    expect((await cluster.teardown()).filter((o) => !o.ok)).toEqual([]);
  }
});

test('a run that fails in setup still restores what it patched and deletes what it created', async () => {
  const observer = await Cluster.connect({ kubeconfigPath: twin.kubeconfigPath });
  const before = await inventory(observer);
  const cluster = await Cluster.connect({ kubeconfigPath: twin.kubeconfigPath });
  const err = await runSuite({
    cluster,
    gatewayUrl: twin.gatewayUrl,
    loaded: loadSuite('test/fixtures/suites/stuck-setup.suite.yaml'),
    rep: quiet,
  }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WaitTimeoutError);
  expect((err as Error).message).toContain('waiting for pods app=does-not-exist in llm-d-vllm Ready');
  expect(await profileOf(observer)).toBe('proxy-performance-by-backend');
  expect((await cluster.teardown()).filter((o) => !o.ok)).toEqual([]);
  expect(await profileOf(observer)).toBe('default');
  expect(await inventory(observer)).toEqual(before);
});
