import { expect, test } from '@playwright/test';
import { mkdtempSync, readFileSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CleanupRegistry,
  findOrphanJournals,
  describeStillPresent,
  foldedInto,
  markNotGone,
  namespacesToDelete,
  presentState,
  splitDeletionWaits,
  type CleanupAction,
} from '../../cluster/cleanup.ts';
import { orderForApply } from '../../cluster/manifests.ts';
import { formatEvent, lastEventsOf } from '../../cluster/observe.ts';
import type { CoreV1Event } from '#client-node';
import { applyMergePatch, restorePatchFor } from '../../cluster/patches.ts';
import { parseRef } from '../../cluster/refs.ts';
import { builtInReportsObservedGeneration, crdDeclaresObservedGeneration, judgeReconciled } from '../../cluster/reconciled.ts';
import { judgeDeploymentRollout } from '../../cluster/rollout.ts';
import { WaitTimeoutError, waitFor } from '../../cluster/waits.ts';

test.describe('rollout status judged like kubectl', () => {
  const base = { metadata: { name: 'epp', generation: 2 }, spec: { replicas: 1 } };
  test('unobserved spec', () => {
    const v = judgeDeploymentRollout({ ...base, status: { observedGeneration: 1 } });
    expect(v).toEqual({ done: false, message: 'Waiting for deployment spec update to be observed...' });
  });
  test('old replicas pending termination', () => {
    const v = judgeDeploymentRollout({ ...base, status: { observedGeneration: 2, replicas: 2, updatedReplicas: 1, availableReplicas: 1 } });
    expect(v.done).toBe(false);
    expect(v.message).toContain('1 old replicas are pending termination');
  });
  test('updated but not available', () => {
    const v = judgeDeploymentRollout({ ...base, status: { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 0 } });
    expect(v.message).toContain('0 of 1 updated replicas are available');
  });
  test('complete', () => {
    const v = judgeDeploymentRollout({ ...base, status: { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1 } });
    expect(v).toEqual({ done: true, message: 'deployment "epp" successfully rolled out' });
  });
  test('progress deadline exceeded fails', () => {
    const v = judgeDeploymentRollout({
      ...base,
      status: { observedGeneration: 2, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' }] },
    });
    expect(v.failed).toBe(true);
  });
});

test.describe('reconciled: status.observedGeneration against metadata.generation', () => {
  test('a kind that reports it is not reconciled before its first status, nor while the status lags', () => {
    expect(judgeReconciled({ metadata: { generation: 2 } }, true)).toEqual({
      done: false,
      state: 'generation 2, no status.observedGeneration yet (not reconciled once)',
    });
    expect(judgeReconciled({ metadata: { generation: 2 }, status: { observedGeneration: 1 } }, true).done).toBe(false);
    expect(judgeReconciled({ metadata: { generation: 2 }, status: { observedGeneration: 2 } }, true).done).toBe(true);
  });
  test('a kind that reports none, or an object without a generation, is reconciled at once', () => {
    expect(judgeReconciled({ metadata: { generation: 2 }, status: {} }, false).done).toBe(true);
    expect(judgeReconciled({ metadata: {} }, true)).toEqual({ done: true, state: 'no metadata.generation' });
  });
  test('what reports it: the built-in workloads, and a CRD whose served version declares the status field', () => {
    expect(builtInReportsObservedGeneration('apps/v1', 'Deployment')).toBe(true);
    expect(builtInReportsObservedGeneration('v1', 'ConfigMap')).toBe(false);
    const crd = (status: Record<string, unknown>) => ({
      spec: { versions: [{ name: 'v1alpha1', schema: { openAPIV3Schema: { properties: { status: { properties: status } } } } }] },
    });
    expect(crdDeclaresObservedGeneration(crd({ observedGeneration: { type: 'integer' } }), 'v1alpha1')).toBe(true);
    expect(crdDeclaresObservedGeneration(crd({ observedGeneration: { type: 'integer' } }), 'v1')).toBe(false);
    expect(crdDeclaresObservedGeneration(crd({ stage: { type: 'string' } }), 'v1alpha1')).toBe(false);
  });
});

test('restore patch puts back exactly the patched fields', () => {
  const current = { spec: { epp: { configProfile: 'default', image: 'x' } }, metadata: { name: 'si' } };
  const patch = { spec: { epp: { configProfile: 'proxy-performance', extra: 1 } } };
  const restore = restorePatchFor(current, patch);
  expect(restore).toEqual({ spec: { epp: { configProfile: 'default', extra: null } } });
  const patched = applyMergePatch(current, patch);
  expect(applyMergePatch(patched, restore)).toEqual(current);
});

test('references parse kubectl-style kinds', () => {
  expect(parseRef('deploy/gaie-inference-scheduling-epp', 'llm-d-inference-scheduler')).toEqual({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    namespaced: true,
    name: 'gaie-inference-scheduling-epp',
    namespace: 'llm-d-inference-scheduler',
  });
  expect(parseRef('schedulerinstall/llm-sched-install', 'ns').apiVersion).toBe('sim.llm-d.io/v1alpha1');
  expect(parseRef('ns/llm-d-vllm').namespace).toBeUndefined();
  expect(() => parseRef('widget/x')).toThrow(/unknown kind "widget"/);
  expect(() => parseRef('deploy')).toThrow(/expected KIND\/NAME/);
});

test('apply order: CRDs, namespaces, config, then the rest in file order', () => {
  const kinds = ['Deployment', 'Namespace', 'Pod', 'ConfigMap', 'CustomResourceDefinition', 'Service', 'InferencePool'];
  expect(orderForApply(kinds.map((kind) => ({ kind }))).map((o) => o.kind)).toEqual([
    'CustomResourceDefinition',
    'Namespace',
    'ConfigMap',
    'Service',
    'Deployment',
    'Pod',
    'InferencePool',
  ]);
});

test.describe('cleanup registry', () => {
  const ref = (name: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', name, namespace: 'ns' });

  test('undoes last first, once, and removes its journal when all went well', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pdh-journal-'));
    try {
      const journal = join(dir, 'run.journal.json');
      const reg = new CleanupRegistry('/kubeconfig', journal);
      reg.add({ type: 'delete', ref: ref('a') });
      reg.add({ type: 'restore', ref: ref('b'), patch: { data: { k: 'v' } } });
      const saved = JSON.parse(readFileSync(journal, 'utf8')) as { pid: number; actions: CleanupAction[] };
      expect(saved.pid).toBe(process.pid);
      expect(saved.actions).toHaveLength(2);
      const seen: string[] = [];
      const exec = async (a: CleanupAction) => {
        seen.push(`${a.type}:${a.type === 'recreate' ? a.object.name : a.ref.name}`);
        return 'ok';
      };
      const [first, second] = await Promise.all([reg.run(exec), reg.run(exec)]);
      expect(seen).toEqual(['restore:b', 'delete:a']);
      expect(first).toBe(second);
      expect(existsSync(journal)).toBe(false);
      expect(() => reg.add({ type: 'delete', ref: ref('c') })).toThrow(/cleanup already started/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a failed undo is reported, the rest still runs, and the journal stays', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pdh-journal-'));
    try {
      const journal = join(dir, 'run.journal.json');
      const reg = new CleanupRegistry('/kubeconfig', journal);
      reg.add({ type: 'delete', ref: ref('a') });
      reg.add({ type: 'delete', ref: ref('b') });
      const out = await reg.run(async (a) => {
        if (a.type === 'delete' && a.ref.name === 'b') throw new Error('boom\nstack');
        return 'ok';
      });
      expect(out.map((o) => [o.ok, o.detail])).toEqual([
        [false, 'boom'],
        [true, 'ok'],
      ]);
      expect(existsSync(journal)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('journals of dead runs are found, live ones are not', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pdh-journal-'));
    try {
      const dead = { pid: 2 ** 22 + 12345, startedAt: '', kubeconfigPath: '/k', actions: [{ type: 'delete', ref: ref('x') }] };
      writeFileSync(join(dir, 'dead.journal.json'), JSON.stringify(dead));
      writeFileSync(join(dir, 'live.journal.json'), JSON.stringify({ ...dead, pid: process.ppid }));
      const orphans = findOrphanJournals(dir);
      expect(orphans.map((o) => o.pid)).toEqual([dead.pid]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('a timed-out wait names what it waited for, how long and the last state', async () => {
  let n = 0;
  const err = await waitFor({
    name: 'pods app=x Ready',
    timeoutMs: 300,
    intervalMs: 50,
    probe: async () => ({ done: false, state: `0/1 ready (check ${++n})` }),
    diagnostics: async () => 'last log lines: boom',
  }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WaitTimeoutError);
  const msg = (err as Error).message;
  expect(msg).toMatch(/^timed out after 300ms waiting for pods app=x Ready; last state: 0\/1 ready \(check \d+\)/);
  expect(msg).toContain('last log lines: boom');
  expect(n).toBeGreaterThan(1);
});

test('a journal on disk keeps no credential material and says what it left out; recovery does not write it back', async () => {
  const { CleanupRegistry, findOrphanJournals, describeAction } = await import('../../cluster/cleanup.ts');
  const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'journal-'));
  try {
    const journal = join(dir, 'run.journal.json');
    const reg = new CleanupRegistry('/kubeconfig', journal);
    reg.add({
      type: 'restore',
      ref: { apiVersion: 'v1', kind: 'Secret', name: 's', namespace: 'ns' },
      patch: { data: { password: 'c2VjcmV0LWRhdGE=' }, metadata: { labels: { a: 'b' } } },
    });
    reg.add({
      type: 'restore',
      ref: { apiVersion: 'v1', kind: 'ConfigMap', name: 'c', namespace: 'ns' },
      patch: { data: { api_key: 'cm-api-key-1', url: 'https://u:cm-url-pw@h', plain: 'keep' } },
    });
    reg.add({
      type: 'recreate',
      object: {
        apiVersion: 'v1',
        kind: 'Pod',
        name: 'p',
        namespace: 'ns',
        spec: { containers: [{ name: 'c', env: [{ name: 'HF_TOKEN', value: 'hf_podTokenPodTokenPod1' }] }] },
      },
    });
    const text = readFileSync(journal, 'utf8');
    for (const secret of ['c2VjcmV0LWRhdGE=', 'cm-api-key-1', 'cm-url-pw', 'hf_podTokenPodTokenPod1']) expect(text).not.toContain(secret);
    expect(text).toContain('"plain": "keep"');
    // in memory the run keeps the full values: its own teardown restores exactly
    expect(JSON.stringify(reg.pending)).toContain('cm-api-key-1');
    // read back as an orphan (a dead pid): the omissions are named
    const j = JSON.parse(text) as { pid: number };
    j.pid = 2 ** 22 + 1;
    writeFileSync(journal, JSON.stringify(j));
    const [orphan] = findOrphanJournals(dir);
    const described = orphan!.actions.map(describeAction);
    expect(described[0]).toContain('credential values at data were not written to the journal');
    expect(described[1]).toContain('data.api_key');
    expect(described[2]).toContain('spec.containers.0.env.0.value');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a cleanup that defers its namespaces defers what it deleted inside them, and waits now for the rest', () => {
  const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', name });
  const pod = (name: string, namespace: string) => ({ apiVersion: 'v1', kind: 'Pod', name, namespace });
  const crd = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'x.example.io' };
  // a namespace-named object that is not a v1 Namespace stays a plain object
  const fake = { apiVersion: 'example.io/v1', kind: 'Namespace', name: 'fake' };
  const deleted = [pod('a', 'suite-ns'), pod('b', 'kept-ns'), crd, fake, ns('suite-ns')];
  expect(splitDeletionWaits(deleted, true)).toEqual({ waitNow: [pod('b', 'kept-ns'), crd, fake], deferred: [ns('suite-ns')] });
  // without deferring, everything is waited for now
  expect(splitDeletionWaits(deleted, false)).toEqual({ waitNow: deleted, deferred: [] });
  // a pod whose namespace is not deleted is waited for even when its namespace name matches another kind's name
  expect(splitDeletionWaits([pod('c', 'fake'), fake], true)).toEqual({ waitNow: [pod('c', 'fake'), fake], deferred: [] });
});

test('a cleanup that deletes a namespace the run created folds the undo of everything inside it into that deletion', () => {
  const ns = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', name });
  const actions: CleanupAction[] = [
    { type: 'delete', ref: ns('suite-ns') },
    { type: 'delete', ref: { apiVersion: 'v1', kind: 'Pod', name: 'a', namespace: 'suite-ns' } },
    { type: 'restore', ref: { apiVersion: 'v1', kind: 'ConfigMap', name: 'c', namespace: 'suite-ns' }, patch: { data: { k: 'v' } } },
    { type: 'recreate', object: { apiVersion: 'v1', kind: 'Pod', name: 'p', namespace: 'suite-ns', metadata: { name: 'p' } } },
    { type: 'restore', ref: { apiVersion: 'v1', kind: 'ConfigMap', name: 'c', namespace: 'kept-ns' }, patch: { data: null } },
    { type: 'delete', ref: { apiVersion: 'example.io/v1', kind: 'Namespace', name: 'not-a-namespace' } },
    { type: 'restore', ref: { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'x.example.io' }, patch: {} },
  ];
  expect(namespacesToDelete(actions)).toEqual(['suite-ns']);
  const deleted = new Set(namespacesToDelete(actions));
  expect(actions.map((a) => foldedInto(a, deleted))).toEqual([
    undefined,
    'suite-ns',
    'suite-ns',
    'suite-ns',
    undefined,
    undefined,
    undefined,
  ]);
  // nothing is folded when the namespace could not be deleted first
  expect(actions.map((a) => foldedInto(a, new Set()))).toEqual(actions.map(() => undefined));
});

test("a pod's last events come by when they last happened, repeats once with their count, as kubectl describe shows them", () => {
  const ev = (name: string, reason: string, last: string, extra: Record<string, unknown> = {}): CoreV1Event =>
    ({
      metadata: { name: `warming.${name}` },
      involvedObject: { kind: 'Pod', name: 'warming' },
      type: reason === 'Unhealthy' ? 'Warning' : 'Normal',
      reason,
      message: `${reason} message`,
      lastTimestamp: new Date(last),
      ...extra,
    }) as CoreV1Event;
  // listed by name (as the API lists them), not by time
  const events = [
    ev('a', 'Unhealthy', '2026-12-06T10:00:09Z', { count: 7, message: 'Readiness probe failed: HTTP probe failed with statuscode: 503' }),
    ev('b', 'Started', '2026-12-06T10:00:02Z'),
    ev('c', 'Scheduled', '2026-12-06T10:00:00Z'),
    ev('d', 'Unhealthy', '2026-12-06T10:00:03Z', { message: 'Readiness probe failed: connection refused' }),
    { ...ev('e', 'Killing', '2026-12-06T10:00:10Z'), involvedObject: { kind: 'Pod', name: 'other' } },
    { ...ev('f', 'ScalingReplicaSet', '2026-12-06T10:00:11Z'), involvedObject: { kind: 'Deployment', name: 'warming' } },
  ];
  // one second, three events: the order they were stored in (resourceVersion), not their names
  const sameSecond = [
    ev('z', 'Unhealthy', '2026-12-06T10:00:05Z', { metadata: { name: 'warming.z', resourceVersion: '30' }, message: 'last' }),
    ev('a', 'Started', '2026-12-06T10:00:05Z', { metadata: { name: 'warming.a', resourceVersion: '12' } }),
    ev('m', 'Created', '2026-12-06T10:00:05Z', { metadata: { name: 'warming.m', resourceVersion: '9' } }),
  ];
  expect(lastEventsOf(sameSecond, 'Pod', 'warming', 2).map((e) => e.message)).toEqual(['Started message', 'last']);
  expect(lastEventsOf(events, 'Pod', 'warming', 3).map(formatEvent)).toEqual([
    'event Normal Started: Started message',
    'event Warning Unhealthy: Readiness probe failed: connection refused',
    'event Warning Unhealthy (x7): Readiness probe failed: HTTP probe failed with statuscode: 503',
  ]);
});

test('a cleanup reports a deletion ok only once the object is gone: what is still present fails, saying what holds it', () => {
  const ns = { apiVersion: 'v1', kind: 'Namespace', name: 'suite-ns' };
  const crd = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'x.example.io' };
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', name: 'c', namespace: 'kept' };
  const outcomes = [
    { action: { type: 'delete' as const, ref: ns }, ok: true, detail: 'deleted Namespace/suite-ns (first, with everything in it)' },
    { action: { type: 'delete' as const, ref: crd }, ok: true, detail: 'deleted CustomResourceDefinition/x.example.io' },
    { action: { type: 'restore' as const, ref: cm, patch: {} }, ok: true, detail: 'restored ConfigMap/c' },
    { action: { type: 'delete' as const, ref: cm }, ok: false, detail: 'delete ConfigMap/c: 403' },
  ];
  const state = presentState({ metadata: { deletionTimestamp: '2026-12-06T10:00:00Z', finalizers: ['example.com/hold'] } });
  expect(state).toBe('Terminating, finalizers [example.com/hold]');
  expect(presentState({ metadata: {} })).toBe('not deleted');
  // the still-present namespace's delete fails; the gone CRD, the restore and an already failed delete are untouched
  const marked = markNotGone(
    outcomes,
    [
      { key: ns, state },
      { key: cm, state: 'not deleted' },
    ],
    'after 1m (timeout cleanup)',
  );
  expect(marked.map((o) => [o.ok, o.detail])).toEqual([
    [
      false,
      'deleted Namespace/suite-ns (first, with everything in it), but still present after 1m (timeout cleanup): Terminating, finalizers [example.com/hold]',
    ],
    [true, 'deleted CustomResourceDefinition/x.example.io'],
    [true, 'restored ConfigMap/c'],
    [false, 'delete ConfigMap/c: 403'],
  ]);
  expect(markNotGone(outcomes, [], 'after 1m')).toEqual(outcomes);
  const many = Array.from({ length: 7 }, (_, i) => ({ key: { ...cm, name: `c${i}` }, state: 'Terminating' }));
  expect(describeStillPresent(many)).toBe(
    'ConfigMap/c0 -n kept (Terminating), ConfigMap/c1 -n kept (Terminating), ConfigMap/c2 -n kept (Terminating), ConfigMap/c3 -n kept (Terminating), ConfigMap/c4 -n kept (Terminating) and 2 more',
  );
});
