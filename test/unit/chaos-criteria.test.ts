import { expect, test } from '@playwright/test';
import { evaluateCriteria } from '../../criteria/index.ts';
import { eppLinesSince } from '../../criteria/after-recovery.ts';
import { criteriaOf, faultsHappened } from '../../runner/faults-verdict.ts';
import type { Suite } from '../../suites/schema.ts';

const decision = (tsSec: number, pod: string) =>
  JSON.stringify({
    level: 'info',
    ts: tsSec,
    msg: 'Scoring decision',
    request_id: `r${tsSec}`,
    selected: [`llm-d-vllm/${pod}-5d9c7b7f6-x2k4q-rank-0`],
    scores: [],
  });

// before recovery (t < 100 s) only the fs proxy is picked; after it both are
const lines = [
  ...Array.from({ length: 20 }, (_, i) => decision(50 + i, 'vllm-fs-proxy')),
  ...Array.from({ length: 20 }, (_, i) => decision(100 + i, i % 2 ? 'vllm-fs-proxy' : 'vllm-p2p-proxy')),
];
const criterion = (afterRecovery: boolean) => ({
  proxiesChosen: { workloads: ['vllm-p2p-proxy', 'vllm-fs-proxy'], minShare: 0.3, afterRecovery },
});
const base = { httpRoutes: [], inferencePools: [], eppLogLines: lines };

test('eppLinesSince keeps lines at or after the time and lines without ts', () => {
  expect(eppLinesSince([decision(99.5, 'a'), decision(100, 'b'), 'plain line'], 100_000)).toEqual([decision(100, 'b'), 'plain line']);
});

test('proxiesChosen afterRecovery judges only the picks after the recovery point', () => {
  const recovery = { errorWindowMs: 1000, recoveryMs: 5000, errorRate: 0.1, recoveredAtMs: 100_000 };
  const [whole] = evaluateCriteria([criterion(false)], { ...base, recovery });
  const [after] = evaluateCriteria([criterion(true)], { ...base, recovery });
  expect(whole!.ok).toBe(false);
  expect(whole!.cause).toBe('routing');
  expect(after!.ok).toBe(true);
  expect(after!.cause).toBeUndefined();
  expect(after!.summary).toContain('after recovery');
  expect(after!.summary).toContain('vllm-p2p-proxy 10');
});

test('proxiesChosen afterRecovery fails without a recovery point', () => {
  const [v] = evaluateCriteria([criterion(true)], base);
  expect(v!.ok).toBe(false);
  expect(v!.summary).toContain('no recovery point');
  expect(v!.cause).toBe('no-data');
});

test('spec.recovery becomes a recovery criterion unless the criteria name one', () => {
  const suite = {
    spec: { criteria: [{ responses: { status: 200, atLeast: 1 } }], recovery: { within: 60_000, maxErrorRate: 0.2 } },
  } as unknown as Suite;
  expect(criteriaOf(suite)).toEqual([{ responses: { status: 200, atLeast: 1 } }, { recovery: { within: 60_000, maxErrorRate: 0.2 } }]);
  const [, v] = evaluateCriteria(criteriaOf(suite), { ...base, recovery: { errorWindowMs: 0, recoveryMs: 70_000, errorRate: 0 } });
  expect(v!.ok).toBe(false);
  expect(v!.cause).toBe('recovery');
  const withOwn = {
    spec: { criteria: [{ recovery: { within: 1000, maxErrorRate: 0 } }], recovery: { within: 60_000, maxErrorRate: 0.2 } },
  } as unknown as Suite;
  expect(criteriaOf(withOwn)).toHaveLength(1);
});

test('faultsHappened passes with no problems and fails naming them', () => {
  const event = {
    t: 0,
    fault: 0,
    kind: 'podKill' as const,
    targets: [{ pod: 'vllm-decode-p2p', uidBefore: 'aaaaaaaa-1', uidAfter: 'bbbbbbbb-2' }],
    detail: '',
  };
  expect(faultsHappened({ events: [event], problems: [] })).toMatchObject({
    ok: true,
    summary: expect.stringContaining('vllm-decode-p2p aaaaaaaa→bbbbbbbb'),
  });
  expect(faultsHappened({ events: [event], problems: ['podKill: x still running'] })).toMatchObject({
    ok: false,
    summary: 'podKill: x still running',
    cause: 'faults',
  });
});
