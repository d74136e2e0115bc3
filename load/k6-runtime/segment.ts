import type { ScenarioPlan } from './options.ts';

/**
 * k6's `--execution-segment i/n:(i+1)/n` with the sequence `0,1/n,...,1` (equal segments: what k6-operator
 * passes its `parallelism` runners, pkg/segmentation in grafana/k6-operator). For equal segments k6's striped
 * offsets (lib/execution_segment.go, GetStripedOffsets, k6 v2.2.0) give instance `index` every `count`-th
 * element from `index`: it scales a VU or iteration count with ScaleInt64 to ceil((v - index) / count)
 * (lib/executor/*.go GetVUs, GetIterations), it starts every count-th arrival of an arrival-rate scenario
 * (constant_arrival_rate.go, GetStripedOffsets), and its i-th iteration is `iterationInTest`
 * i * count + index across the whole distributed test.
 */
export interface ExecutionSegment {
  index: number;
  count: number;
}

export const WHOLE_TEST: ExecutionSegment = { index: 0, count: 1 };

export function isEqualSegment(s: ExecutionSegment): boolean {
  return Number.isInteger(s.count) && s.count >= 1 && Number.isInteger(s.index) && s.index >= 0 && s.index < s.count;
}

/** This instance's share of `value` (k6's ExecutionTuple.ScaleInt64 for an equal segment). */
export function scaleInt(value: number, s: ExecutionSegment): number {
  return Math.max(0, Math.ceil((value - s.index) / s.count));
}

/**
 * The part of a scenario this instance runs: VU counts scaled (also ramping-vus stage targets), a
 * shared-iterations total scaled (per-vu-iterations keeps its per-VU count); arrival-rate scenarios keep their
 * rate, and `ownsArrival` picks this instance's arrivals.
 */
export function segmentPlan(p: ScenarioPlan, s: ExecutionSegment): ScenarioPlan {
  if (s.count === 1) return p;
  return {
    ...p,
    vus: scaleInt(p.vus, s),
    iterations: p.executor === 'shared-iterations' ? scaleInt(p.iterations, s) : p.iterations,
    startVUs: scaleInt(p.startVUs, s),
    stages: p.executor === 'ramping-vus' ? p.stages.map((st) => ({ ...st, target: scaleInt(st.target, s) })) : p.stages,
    preAllocatedVUs: scaleInt(p.preAllocatedVUs, s),
    maxVUs: scaleInt(p.maxVUs, s),
  };
}

/** Whether arrival `k` (0-based, of the whole test) is this instance's. */
export function ownsArrival(k: number, s: ExecutionSegment): boolean {
  return k % s.count === s.index;
}

/** `exec.scenario.iterationInTest` of this instance's `local`-th iteration of a scenario. */
export function iterationInTest(local: number, s: ExecutionSegment): number {
  return local * s.count + s.index;
}
