import { expect, test } from '@playwright/test';
import { guardFaults, type GuardSubject } from '../../chaos/guard.ts';
import { errorRate, errorWindow, summarizeRecovery } from '../../chaos/recovery.ts';
import { FaultScheduler, dueTriggers, nextTimerDelay, triggerOf } from '../../chaos/schedule.ts';
import { choosePods, countForMode } from '../../chaos/select.ts';
import { bucketRequests, buildTimeline, timelineSvg } from '../../chaos/timeline.ts';
import type { RequestRecord } from '../../load/result.ts';

const target = { namespaces: ['llm-d-vllm', 'llm-d-inference-scheduler'] };
const decode = { name: 'vllm-decode-p2p', labels: { app: 'vllm-p2p-test', role: 'decode' } };
const proxy = { name: 'vllm-p2p-proxy-abc-1', labels: { app: 'vllm-p2p-test', role: 'proxy' } };
const subject = (over: Partial<GuardSubject>): GuardSubject => ({
  index: 0,
  kind: 'podKill',
  namespace: 'llm-d-vllm',
  pods: [decode],
  ...over,
});

test.describe('guard', () => {
  test('allows a fault inside the namespaces when no selectors are given', () => {
    expect(guardFaults(target, [subject({})])).toEqual({ ok: true });
  });

  test('refuses a namespace outside the guard with one line naming it', () => {
    const d = guardFaults(target, [subject({}), subject({ index: 1, namespace: 'kube-system' })]);
    expect(d.ok).toBe(false);
    if (d.ok) return;
    expect(d.problems).toHaveLength(1);
    expect(d.message).toContain('fault 2 (podKill) targets namespace kube-system');
    expect(d.message).not.toContain('\n');
  });

  test('with selectors, refuses pods matching none of them and allows pods matching one', () => {
    const guarded = { ...target, selectors: ['role=decode', 'role in (prefill)'] };
    expect(guardFaults(guarded, [subject({ pods: [decode] })]).ok).toBe(true);
    const d = guardFaults(guarded, [subject({ pods: [decode, proxy] })]);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.message).toContain('vllm-p2p-proxy-abc-1');
  });

  test('judges every fault: two bad faults give two problems', () => {
    const d = guardFaults({ ...target, selectors: ['role=decode'] }, [
      subject({ pods: [proxy] }),
      subject({ index: 1, kind: 'eppRestart', namespace: 'other' }),
    ]);
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.problems).toHaveLength(2);
  });
});

test.describe('mode selection', () => {
  const pods = ['d', 'a', 'c', 'b', 'e'].map((name) => ({ name }));

  test('counts per mode', () => {
    expect(countForMode('one', 5)).toBe(1);
    expect(countForMode('all', 5)).toBe(5);
    expect(countForMode({ fixed: 2 }, 5)).toBe(2);
    expect(countForMode({ fixed: 9 }, 5)).toBe(5);
    expect(countForMode({ fixedPercent: 30 }, 5)).toBe(2);
    expect(countForMode('one', 0)).toBe(0);
  });

  test('the same seed picks the same pods; the pick is sorted and from the candidates', () => {
    const a = choosePods(pods, { fixed: 2 }, 42);
    expect(choosePods([...pods].reverse(), { fixed: 2 }, 42)).toEqual(a);
    expect(a).toHaveLength(2);
    expect(a.map((p) => p.name)).toEqual([...a.map((p) => p.name)].sort());
    const seen = new Set<string>();
    for (let seed = 0; seed < 50; seed++) seen.add(choosePods(pods, 'one', seed)[0]!.name);
    expect(seen.size).toBeGreaterThan(1);
    expect(choosePods(pods, 'all', 1).map((p) => p.name)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });
});

test.describe('schedule', () => {
  test('triggers: at, afterRequests, default at 0', () => {
    expect(triggerOf({ podKill: { namespace: 'n', selector: 'a=b', mode: 'one', at: 3000 } })).toEqual({ at: 3000 });
    expect(triggerOf({ eppRestart: { how: 'rollout', namespace: 'n', ref: 'deploy/x', afterRequests: 10 } })).toEqual({
      afterRequests: 10,
    });
    expect(triggerOf({ eppRestart: { how: 'rollout', namespace: 'n', ref: 'deploy/x' } })).toEqual({ at: 0 });
  });

  test('due triggers by time and by completed requests, never twice', () => {
    const triggers = [{ at: 1000 }, { afterRequests: 5 }, { at: 3000 }];
    expect(dueTriggers(triggers, { elapsedMs: 999, done: 4 }, new Set())).toEqual([]);
    expect(dueTriggers(triggers, { elapsedMs: 1000, done: 5 }, new Set())).toEqual([0, 1]);
    expect(dueTriggers(triggers, { elapsedMs: 5000, done: 5 }, new Set([0, 1]))).toEqual([2]);
    expect(nextTimerDelay(triggers, 500, new Set())).toBe(500);
    expect(nextTimerDelay(triggers, 1500, new Set([0]))).toBe(1500);
    expect(nextTimerDelay(triggers, 0, new Set([0, 2]))).toBeUndefined();
  });

  test('the scheduler fires in order from progress, keeps errors and leaves late faults unfired', async () => {
    const fired: number[] = [];
    const s = new FaultScheduler([{ afterRequests: 3 }, { afterRequests: 4 }, { at: 600_000 }], async (i) => {
      fired.push(i);
      if (i === 0) throw new Error('boom');
    });
    s.start();
    s.onProgress(2);
    expect(fired).toEqual([]);
    s.onProgress(4);
    await s.settled();
    await s.stop();
    expect(fired).toEqual([0, 1]);
    expect(s.unfired()).toEqual([2]);
    expect(s.errors.map((e) => [e.index, e.error.message])).toEqual([[0, 'boom']]);
  });

  test('the scheduler fires an at-trigger from its timer', async () => {
    const fired: number[] = [];
    const s = new FaultScheduler([{ at: 10 }], async (i) => {
      fired.push(i);
    });
    s.start();
    const deadline = Date.now() + 5000;
    while (fired.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await s.stop();
    expect(fired).toEqual([0]);
  });
});

const rec = (startMs: number, latencyMs: number, status?: number): RequestRecord => ({
  index: 0,
  startMs,
  latencyMs,
  bytes: 0,
  ...(status !== undefined ? { status } : { error: 'reset' }),
});

test.describe('recovery maths', () => {
  const records = [rec(0, 100, 200), rec(900, 300, 500), rec(1000, 50), rec(2000, 500, 503), rec(3000, 100, 200), rec(500, 100, 500)];

  test('error rate over the whole load', () => {
    expect(errorRate(records)).toBeCloseTo(4 / 6);
    expect(errorRate([])).toBe(0);
  });

  test('error window: from the first failure at/after the fault to the end of the last', () => {
    // the failure ending at 600 is before the fault and does not count; the one in flight at the fault starts the window at the fault
    expect(errorWindow(records, 1000)).toEqual({ ms: 1500, firstMs: 1000, lastMs: 2500, failures: 3 });
    expect(errorWindow([rec(0, 10, 200)], 0)).toEqual({ ms: 0, failures: 0 });
  });

  test('recovery: the slowest fault, null when one never recovered, recovered-at of the last', () => {
    const s = summarizeRecovery(records, [
      { fault: 0, faultAtMs: 1000, recoveredAtMs: 4000 },
      { fault: 1, faultAtMs: 2000, recoveredAtMs: 9000 },
    ]);
    expect(s).toMatchObject({ recoveryMs: 7000, errorWindowMs: 1500, recoveredAtMs: 9000, firstFaultAtMs: 1000 });
    expect(summarizeRecovery(records, [{ fault: 0, faultAtMs: 1000 }]).recoveryMs).toBeNull();
  });
});

test.describe('timeline', () => {
  test('buckets by completion second, with empty seconds present', () => {
    const b = bucketRequests([rec(10_000, 100, 200), rec(10_500, 600, 500), rec(13_200, 100, 200)], 10_000);
    expect(b).toEqual([
      { second: 0, ok: 1, failed: 0 },
      { second: 1, ok: 0, failed: 1 },
      { second: 2, ok: 0, failed: 0 },
      { second: 3, ok: 1, failed: 0 },
    ]);
  });

  test('renders an SVG with the fault marked', async () => {
    const tl = buildTimeline({
      startMs: 0,
      records: [rec(0, 100, 200), rec(1000, 100, 500)],
      faults: [{ t: 1000, fault: 0, kind: 'podKill', targets: [{ pod: 'vllm-decode-p2p', uidBefore: 'a' }], detail: 'SIGKILL' }],
      pods: [
        { t: 1100, pod: 'vllm-decode-p2p', namespace: 'ns', uid: 'b', phase: 'Pending', ready: false, restartCount: 0, change: 'created' },
      ],
      recoveries: [{ fault: 0, faultAtMs: 1000, recoveredAtMs: 3000 }],
    });
    expect(tl.faults[0]!.s).toBe(1);
    expect(tl.recoveries[0]).toEqual({ fault: 0, s: 1, recoveredS: 3 });
    const svg = await timelineSvg(tl);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('fault 1: podKill');
    expect(svg).toContain('recovered (fault 1)');
  });
});
