import { expect } from '@playwright/test';
import { Cluster } from '../../cluster/driver.ts';
import { waitFor } from '../../cluster/waits.ts';
import { DEFAULT_TIMEOUTS } from '../../core/timeouts.ts';
import { deferDeletions, requireDeletionsSettled, settleDeletions } from '../../fixtures/deferred-deletions.ts';
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

/*
 * A cleanup says ok only for what it saw gone. A finalizer nobody removes keeps an object (and its namespace)
 * Terminating forever (kubernetes pkg/controller/namespace/deletion: a namespace goes only once its contents
 * have): the teardown that waits reports that delete as failed, naming what holds it; a deferred deletion is
 * reported by the worker's end (requireDeletionsSettled), and a later test does not wait for it again.
 */
const HELD = 'held-by-finalizer';
const held = () => [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: HELD } },
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', namespace: HELD, finalizers: ['example.com/hold'] }, data: { k: 'v' } },
];
const heldCm = { apiVersion: 'v1', kind: 'ConfigMap', name: 'held', namespace: HELD };

test('a deletion that does not finish fails the cleanup, and a deferred one fails the worker end, naming the finalizer', async ({
  twin,
}) => {
  const release = async (c: Cluster) => {
    if (await c.tryRead(heldCm)) await c.patchRaw(heldCm, { metadata: { finalizers: null } });
  };
  // waited for: the namespace's delete turns into a failure once the (short) cleanup timeout ends
  const first = await Cluster.connect({ kubeconfigPath: twin.kubeconfigPath });
  try {
    await first.apply(held());
    const outcomes = await first.teardown(1000);
    const failed = outcomes.filter((o) => !o.ok).map((o) => o.detail);
    expect(failed).toEqual([
      `deleted Namespace/${HELD} (first, with everything in it), but still present after 1s (timeout cleanup): Terminating`,
    ]);
    // the namespace controller deletes the ConfigMap in its own time; its finalizer then holds it Terminating
    const cm = await waitFor({
      name: 'the held ConfigMap Terminating',
      timeoutMs: 60_000,
      probe: async () => {
        const [l] = await first.stillPresent([heldCm]);
        return { done: !!l?.state.startsWith('Terminating'), state: l?.state ?? 'gone', value: l };
      },
    });
    expect(cm).toEqual({ key: heldCm, state: 'Terminating, finalizers [example.com/hold]' });
  } finally {
    await release(first);
    await first.waitGone([{ apiVersion: 'v1', kind: 'Namespace', name: HELD }], 60_000);
  }

  // deferred: the test's teardown is ok (it does not wait), the next test's start reports it once, the worker's end fails
  const second = await Cluster.connect({ kubeconfigPath: twin.kubeconfigPath });
  try {
    await second.apply(held());
    second.timeouts = { ...second.timeouts, cleanup: 1000 };
    expect((await second.teardown(undefined, { deferNamespaces: true })).filter((o) => !o.ok)).toEqual([]);
    deferDeletions(second);
    const line = `Namespace/${HELD} (Terminating) after 1s (timeout cleanup)`;
    expect(await settleDeletions()).toEqual([line]);
    expect(await settleDeletions(), 'a later test does not wait for it again').toEqual([]);
    await expect(requireDeletionsSettled()).rejects.toThrow(`cleanup did not finish: deleted but still present: ${line}`);
  } finally {
    await release(second);
    second.timeouts = DEFAULT_TIMEOUTS;
  }
  // once the finalizer is gone the namespace goes (within the default cleanup timeout), and the worker's end is satisfied
  await requireDeletionsSettled();
  expect(await second.tryRead({ apiVersion: 'v1', kind: 'Namespace', name: HELD })).toBeUndefined();
});
