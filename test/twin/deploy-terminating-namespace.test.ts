import { expect } from '@playwright/test';
import { Cluster } from '../../cluster/driver.ts';
import { twinTest as test } from '../../fixtures/twin.ts';

/*
 * A run's cleanup deletes its namespaces and does not wait for the namespace controller (the verdict comes
 * first); the next deploy into a namespace that is still Terminating must not fail with the API server's 403
 * ("... because it is being terminated"): Cluster.apply waits until it is gone, then creates it afresh.
 * Cluster.teardown({ deferNamespaces }) returns before the namespace is gone and names it in deferredDeletions.
 * A teardown deletes the namespaces its run created first and leaves their contents to the namespace controller.
 */
const NS = 'terminating-redeploy';
const objects = () => [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: NS }, data: { k: 'v' } },
];

test('a deploy into a namespace still Terminating waits for it and creates it afresh', async ({ twin }) => {
  const first = await Cluster.connect({ kubeconfigPath: twin.kubeconfigPath });
  await first.apply(objects());
  const oldUid = (await first.read({ apiVersion: 'v1', kind: 'Namespace', name: NS })).metadata?.uid;
  const undone = await first.teardown(undefined, { deferNamespaces: true });
  expect(undone.filter((o) => !o.ok)).toEqual([]);
  // the namespace is deleted first, and the ConfigMap in it with it (the namespace controller's work), not on its own
  expect(undone.map((o) => `${o.action.type} ${o.detail}`)).toEqual([
    'delete with Namespace/terminating-redeploy',
    `delete deleted Namespace/${NS} (first, with everything in it)`,
  ]);
  expect(first.deferredDeletions.map((k) => `${k.kind}/${k.name}`)).toEqual([`Namespace/${NS}`]);
  // teardown returned while the namespace controller is still at work
  const terminating = await first.tryRead({ apiVersion: 'v1', kind: 'Namespace', name: NS });
  expect(terminating?.metadata?.deletionTimestamp, 'the namespace is Terminating when teardown returns').toBeTruthy();

  const second = await Cluster.connect({ kubeconfigPath: twin.kubeconfigPath });
  try {
    const { created } = await second.apply(objects());
    expect(created.map((k) => `${k.kind}/${k.name}`)).toEqual([`Namespace/${NS}`, 'ConfigMap/c']);
    const fresh = await second.read({ apiVersion: 'v1', kind: 'Namespace', name: NS });
    expect(fresh.metadata?.uid).not.toBe(oldUid);
    expect(fresh.metadata?.deletionTimestamp).toBeUndefined();
  } finally {
    expect((await second.teardown()).filter((o) => !o.ok)).toEqual([]);
  }
  // the default teardown waits for its namespaces, and so for what the namespace controller deleted in them
  expect(await second.tryRead({ apiVersion: 'v1', kind: 'Namespace', name: NS })).toBeUndefined();
  expect(await second.tryRead({ apiVersion: 'v1', kind: 'ConfigMap', name: 'c', namespace: NS })).toBeUndefined();
});
