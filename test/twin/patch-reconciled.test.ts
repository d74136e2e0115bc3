import { expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Cluster } from '../../cluster/driver.ts';
import { readManifests } from '../../cluster/manifests.ts';
import type { ObjectKey } from '../../cluster/cleanup.ts';
import { DEFAULT_TIMEOUTS } from '../../core/timeouts.ts';
import { runSetupStep } from '../../runner/setup.ts';
import type { ApiServerHandle } from '../../twin/apiserver/server.ts';

/*
 * A suite's `patch` step waits until the object's controller has acted on the patch (status.observedGeneration
 * = metadata.generation) before the next step. A SchedulerInstall patched right after the suite applied it has
 * no observedGeneration yet: its operator has not rendered it even once. Taking that as reconciled let a
 * rolloutRestart start the EPP on the ConfigMap of the spec before the patch (an old profile, answering 200
 * where the patched one refuses every request: a rare guard-twin failure under load). Here the twin's API
 * server runs without the operator, so the test writes the status itself, when it chooses.
 */
const NS = 'reconcile-wait';
let api: ApiServerHandle;
let dir: string;
let cluster: Cluster;

test.beforeAll(async () => {
  const { startApiServer } = await import('../../twin/apiserver/server.ts');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'patch-reconciled-'));
  api = await startApiServer({ stateDir: dir });
  cluster = await Cluster.connect({ kubeconfigPath: api.kubeconfigPath });
  const crds = readManifests(['manifests/crds/sim.llm-d.io_schedulerinstalls.yaml', 'manifests/crds/k6.io_testruns.yaml']);
  await cluster.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } }, ...crds]);
});

test.afterAll(async () => {
  await cluster?.teardown().catch(() => undefined);
  await api?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Resolves when `cluster.read` has been called `n` times for `kind` after `armed()` turned true. */
function readsOf(kind: string, n: number, armed: () => boolean): Promise<void> {
  const read = cluster.read.bind(cluster);
  let seen = 0;
  return new Promise((resolve) => {
    cluster.read = ((ref: ObjectKey) => {
      if (armed() && ref.kind === kind && ++seen === n) resolve();
      return read(ref);
    }) as typeof cluster.read;
  });
}

test('a SchedulerInstall not reconciled once is waited for, until its status reports the patched generation', async () => {
  const ref = { apiVersion: 'sim.llm-d.io/v1alpha1', kind: 'SchedulerInstall', name: 'fresh', namespace: NS };
  await cluster.apply([{ ...ref, metadata: { name: ref.name, namespace: NS }, spec: { epp: { configProfile: 'proxy-performance' } } }]);
  let patched = false;
  const mergePatch = cluster.mergePatch.bind(cluster);
  cluster.mergePatch = async (...args: Parameters<Cluster['mergePatch']>) => {
    const out = await mergePatch(...args);
    patched = true;
    return out;
  };
  // the second probe after the patch: the first said "not yet" (waitFor probes one at a time)
  const secondProbe = readsOf('SchedulerInstall', 2, () => patched);
  const step = runSetupStep(
    cluster,
    {
      patch: { ref: 'schedulerinstall/fresh', namespace: NS, merge: { spec: { epp: { configProfile: 'proxy-performance-by-backend' } } } },
    },
    { ...DEFAULT_TIMEOUTS, reconcile: 60_000 },
  );
  const first = await Promise.race([step.then(() => 'the step went on'), secondProbe.then(() => 'still waiting')]);
  expect(first, 'no status.observedGeneration yet: the operator has not acted on any generation').toBe('still waiting');
  const generation = (await cluster.read(ref)).metadata?.generation;
  expect(generation).toBe(2);
  // what the operator writes once it rendered the patched spec
  const { CustomObjectsApi, PatchStrategy, setHeaderOptions } = await import('#client-node');
  await cluster.kc.makeApiClient(CustomObjectsApi).patchNamespacedCustomObjectStatus(
    {
      group: 'sim.llm-d.io',
      version: 'v1alpha1',
      namespace: NS,
      plural: 'schedulerinstalls',
      name: ref.name,
      body: { status: { observedGeneration: generation } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  await step;
});

test('a kind whose CRD declares no status.observedGeneration (a k6 TestRun) goes on once the patch is accepted', async () => {
  const ref = { apiVersion: 'k6.io/v1alpha1', kind: 'TestRun', name: 'tr', namespace: NS };
  await cluster.apply([
    { ...ref, metadata: { name: ref.name, namespace: NS }, spec: { parallelism: 1, script: { configMap: { name: 's', file: 's.js' } } } },
  ]);
  // were it waited for, the step would fail after this timeout
  await runSetupStep(
    cluster,
    { patch: { ref: 'testrun/tr', namespace: NS, merge: { spec: { parallelism: 2 } } } },
    {
      ...DEFAULT_TIMEOUTS,
      reconcile: 20_000,
    },
  );
  const tr = await cluster.read(ref);
  expect((tr.spec as { parallelism?: number }).parallelism).toBe(2);
  // the twin's TestRun controller writes a status, with no observedGeneration in it
  expect((tr.status as { observedGeneration?: number } | undefined)?.observedGeneration).toBeUndefined();
});
