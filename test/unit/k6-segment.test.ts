import { expect, test } from '@playwright/test';
import { constantArrivals } from '../../load/k6-runtime/executors.ts';
import { planScenarios } from '../../load/k6-runtime/options.ts';
import { iterationInTest, ownsArrival, scaleInt, segmentPlan } from '../../load/k6-runtime/segment.ts';

// k6's equal execution segments (lib/execution_segment.go, k6 v2.2.0): each of n instances gets every n-th
// element from its index, so the shares of a value add up to it and no arrival or iteration id is repeated.

test('equal segments split VUs and shared iterations as k6 ScaleInt64 does: shares add up to the whole', () => {
  for (const count of [1, 2, 3, 4]) {
    for (const v of [0, 1, 2, 5, 10, 11]) {
      const shares = Array.from({ length: count }, (_, index) => scaleInt(v, { index, count }));
      expect(shares.reduce((a, b) => a + b, 0)).toBe(v);
      expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
    }
  }
  // 10 iterations over 3 instances: 4, 3, 3 (striped from index 0)
  expect([0, 1, 2].map((index) => scaleInt(10, { index, count: 3 }))).toEqual([4, 3, 3]);
});

test('a scenario plan per segment: VUs and shared iterations scaled, per-VU iterations and rates kept', () => {
  const plans = planScenarios(
    {
      scenarios: {
        shared: { executor: 'shared-iterations', vus: 4, iterations: 9 },
        pervu: { executor: 'per-vu-iterations', vus: 3, iterations: 5 },
        rate: { executor: 'constant-arrival-rate', rate: 10, timeUnit: '1s', duration: '1s', preAllocatedVUs: 4, maxVUs: 6 },
      },
    },
    ['default'],
  );
  const seg = { index: 1, count: 2 };
  const by = Object.fromEntries(plans.map((p) => [p.name, segmentPlan(p, seg)]));
  expect([by['shared']?.vus, by['shared']?.iterations]).toEqual([2, 4]);
  expect([by['pervu']?.vus, by['pervu']?.iterations]).toEqual([1, 5]);
  expect([by['rate']?.rate, by['rate']?.preAllocatedVUs, by['rate']?.maxVUs]).toEqual([10, 2, 3]);
  // the whole test is the plan itself
  expect(segmentPlan(plans[0]!, { index: 0, count: 1 })).toBe(plans[0]);
});

test('arrivals and iteration ids: every one owned by exactly one instance, ids unique across instances', () => {
  const arrivals = constantArrivals({ rate: 10, timeUnitMs: 1000, durationMs: 1000 });
  const count = 3;
  const owners = arrivals.map((_a, k) =>
    Array.from({ length: count }, (_, index) => index).filter((index) => ownsArrival(k, { index, count })),
  );
  expect(owners.every((o) => o.length === 1)).toBe(true);
  const ids = Array.from({ length: count }, (_, index) =>
    Array.from({ length: scaleInt(10, { index, count }) }, (_x, local) => iterationInTest(local, { index, count })),
  ).flat();
  expect(ids.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});
