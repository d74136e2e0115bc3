import { expect, test } from '@playwright/test';
import { backoffMs, containsDesired, nextStatus } from '../../twin/operator/drift.ts';

test('containsDesired: server-added fields are not drift; changed, missing or reordered owned fields are', () => {
  const desired = { metadata: { name: 'x', labels: { a: '1' } }, data: { k: 'v' }, spec: { args: ['--a', '--b'] } };
  const withDefaults = {
    metadata: {
      name: 'x',
      labels: { a: '1', extra: 'y' },
      resourceVersion: '7',
      annotations: { 'kubectl.kubernetes.io/restartedAt': 't' },
    },
    data: { k: 'v' },
    spec: { args: ['--a', '--b'], strategy: { type: 'RollingUpdate' } },
    status: { replicas: 1 },
  };
  expect(containsDesired(desired, withDefaults)).toBe(true);
  expect(containsDesired(desired, { ...withDefaults, data: { k: 'hand-edited' } })).toBe(false);
  expect(containsDesired(desired, { ...withDefaults, data: {} })).toBe(false);
  expect(containsDesired(desired, { ...withDefaults, spec: { args: ['--b', '--a'] } })).toBe(false);
  expect(containsDesired(desired, { ...withDefaults, spec: { args: ['--a', '--b', '--c'] } })).toBe(false);
  expect(containsDesired({ n: 1 }, { n: '1' })).toBe(false);
});

test('nextStatus: Ready=True with observedGeneration, then nothing to write until something changes', () => {
  const t0 = new Date('2025-01-01T00:00:00Z');
  const first = nextStatus(undefined, 2, { ok: true, objects: 6 }, t0)!;
  expect(first).toEqual({
    observedGeneration: 2,
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'Reconciled',
        message: 'rendered 6 objects',
        lastTransitionTime: t0.toISOString(),
        observedGeneration: 2,
      },
    ],
  });
  expect(nextStatus(first, 2, { ok: true, objects: 6 }, new Date())).toBeUndefined();
  // A new generation is reported; the condition did not flip, so its transition time stays.
  const gen3 = nextStatus(first, 3, { ok: true, objects: 6 }, new Date('2025-01-02T00:00:00Z'))!;
  expect(gen3.observedGeneration).toBe(3);
  expect(gen3.conditions[0]!.lastTransitionTime).toBe(t0.toISOString());
  // A failure flips it and moves the transition time.
  const t1 = new Date('2025-01-03T00:00:00Z');
  const bad = nextStatus(gen3, 4, { ok: false, reason: 'InvalidSpec', message: 'nope' }, t1)!;
  expect(bad.conditions[0]).toMatchObject({
    status: 'False',
    reason: 'InvalidSpec',
    message: 'nope',
    lastTransitionTime: t1.toISOString(),
  });
});

test('nextStatus keeps conditions of other types', () => {
  const current = { conditions: [{ type: 'Other', status: 'True' as const, reason: 'x', message: '', lastTransitionTime: 't' }] };
  const s = nextStatus(current, 1, { ok: true, objects: 1 }, new Date())!;
  expect(s.conditions.map((c) => c.type)).toEqual(['Other', 'Ready']);
});

test('backoffMs doubles from 200 ms and is capped', () => {
  expect([1, 2, 3, 4].map((n) => backoffMs(n))).toEqual([400, 800, 1600, 3200]);
  expect(backoffMs(0)).toBe(200);
  expect(backoffMs(50)).toBe(5000);
  expect(backoffMs(3, 1000)).toBe(1000);
});
