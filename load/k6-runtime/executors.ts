import type { ScenarioPlan } from './options.ts';
import { ownsArrival, type ExecutionSegment } from './segment.ts';
import type { Vu } from './vu-pool.ts';

/** What an executor needs from the run: VUs, one iteration, the clock and the abort state. */
export interface ExecutorHost {
  readonly aborted: boolean;
  /** A VU for this scenario: pre-initialized ones first, then new ones (initialized now, as k6 does mid-test). */
  takeVu(plan: ScenarioPlan): Promise<Vu>;
  iterate(vu: Vu, plan: ScenarioPlan, st: ScenarioState): Promise<void>;
  dropped(plan: ScenarioPlan): void;
  /** Resolves when the run is aborted (thresholds with abortOnFail, exec.test.abort(), a refusal). */
  abortSignal: Promise<void>;
  setActive(plan: ScenarioPlan, n: number): void;
  /** This instance's execution segment (the plans it gets are already scaled; arrivals are picked here). */
  readonly segment: ExecutionSegment;
}

export interface ScenarioState {
  /** performance.now() at the scenario's start. */
  start: number;
  startEpochMs: number;
  /** Iterations started in the scenario so far (exec.scenario.iterationInTest of the next one). */
  started: number;
  progress(): number;
  running: Set<Vu>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Wait until `deadline` (performance.now() ms), or the abort. */
async function until(host: ExecutorHost, deadline: number): Promise<void> {
  const ms = deadline - performance.now();
  if (ms <= 0 || host.aborted) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([new Promise<void>((r) => (timer = setTimeout(r, ms))), host.abortSignal]);
  clearTimeout(timer);
}

/** After the graceful stop, iterations still running are interrupted (their VUs are stopped). */
async function hardStop(host: ExecutorHost, st: ScenarioState, done: Promise<unknown>, at: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const stop = new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, at - performance.now()))));
  const winner = await Promise.race([
    done.then(() => 'done' as const),
    stop.then(() => 'stop' as const),
    host.abortSignal.then(() => 'stop' as const),
  ]);
  clearTimeout(timer);
  if (winner === 'stop') {
    await Promise.all([...st.running].map((v) => v.kill()));
    await done;
  }
}

function newState(plan: ScenarioPlan, totalMs: number): ScenarioState {
  const start = performance.now();
  return {
    start,
    startEpochMs: Date.now(),
    started: 0,
    progress: () => (totalMs > 0 ? Math.min(1, (performance.now() - start) / totalMs) : 0),
    running: new Set(),
  };
}

/**
 * k6's executors (lib/executor/*.go, k6 v2.2.0). Iterations start only within the scenario's duration
 * (maxDuration for the iteration-based ones); running ones then get gracefulStop to finish before they are
 * interrupted.
 */
export async function runExecutor(host: ExecutorHost, plan: ScenarioPlan): Promise<void> {
  switch (plan.executor) {
    case 'shared-iterations':
    case 'per-vu-iterations':
      return iterationsExecutor(host, plan);
    case 'constant-vus':
      return constantVus(host, plan);
    case 'ramping-vus':
      return rampingVus(host, plan);
    default:
      return arrivalRate(host, plan);
  }
}

async function iterationsExecutor(host: ExecutorHost, plan: ScenarioPlan): Promise<void> {
  const shared = plan.executor === 'shared-iterations';
  const nVus = shared ? Math.min(plan.vus, plan.iterations) : plan.vus;
  const vus = await Promise.all(Array.from({ length: nVus }, () => host.takeVu(plan)));
  host.setActive(plan, nVus);
  const st = newState(plan, plan.maxDurationMs);
  const end = st.start + plan.maxDurationMs;
  let claimed = 0;
  const loops = vus.map(async (vu) => {
    for (let mine = 0; !host.aborted && performance.now() < end && !vu.dead; mine++) {
      if (shared ? claimed >= plan.iterations : mine >= plan.iterations) break;
      claimed++;
      await host.iterate(vu, plan, st);
    }
  });
  const done = Promise.all(loops);
  await hardStop(host, st, done, end + plan.gracefulStopMs);
  host.setActive(plan, 0);
}

async function constantVus(host: ExecutorHost, plan: ScenarioPlan): Promise<void> {
  const vus = await Promise.all(Array.from({ length: plan.vus }, () => host.takeVu(plan)));
  host.setActive(plan, plan.vus);
  const st = newState(plan, plan.durationMs);
  const end = st.start + plan.durationMs;
  const done = Promise.all(
    vus.map(async (vu) => {
      while (!host.aborted && performance.now() < end && !vu.dead) await host.iterate(vu, plan, st);
    }),
  );
  await hardStop(host, st, done, end + plan.gracefulStopMs);
  host.setActive(plan, 0);
}

/** VUs wanted at `t` ms into a ramping-vus scenario: linear between stage targets, whole VUs (k6 ramps one VU at a time). */
export function rampingTarget(startVUs: number, stages: ScenarioPlan['stages'], t: number): number {
  let from = startVUs;
  let at = 0;
  for (const s of stages) {
    if (t < at + s.durationMs) {
      const v = from + ((s.target - from) * (t - at)) / s.durationMs;
      return s.target >= from ? Math.floor(v) : Math.ceil(v);
    }
    at += s.durationMs;
    from = s.target;
  }
  return from;
}

async function rampingVus(host: ExecutorHost, plan: ScenarioPlan): Promise<void> {
  const max = Math.max(plan.startVUs, ...plan.stages.map((s) => s.target));
  const slots: Vu[] = await Promise.all(Array.from({ length: max }, () => host.takeVu(plan)));
  const totalMs = plan.stages.reduce((a, s) => a + s.durationMs, 0);
  const st = newState(plan, totalMs);
  const end = st.start + totalMs;
  const target = () => rampingTarget(plan.startVUs, plan.stages, performance.now() - st.start);
  const deactivatedAt = new Map<number, number>();
  const ticker = setInterval(() => {
    const want = target();
    host.setActive(plan, Math.min(want, max));
    // gracefulRampDown: a VU ramped down mid-iteration gets this long to finish, then it is interrupted.
    slots.forEach((vu, i) => {
      if (i < want || !vu.busy) {
        deactivatedAt.delete(i);
        return;
      }
      const since = deactivatedAt.get(i) ?? performance.now();
      deactivatedAt.set(i, since);
      if (performance.now() - since > plan.gracefulRampDownMs) void vu.kill();
    });
  }, 20);
  const done = Promise.all(
    slots.map(async (_v, i) => {
      while (!host.aborted && performance.now() < end) {
        if (i >= target()) {
          await Promise.race([sleep(10), host.abortSignal]);
          continue;
        }
        let vu = slots[i] as Vu;
        if (vu.dead) {
          vu = await host.takeVu(plan);
          slots[i] = vu;
        }
        await host.iterate(vu, plan, st);
      }
    }),
  );
  try {
    await hardStop(host, st, done, end + plan.gracefulStopMs);
  } finally {
    clearInterval(ticker);
    host.setActive(plan, 0);
  }
}

/** Start offsets (ms) of a constant-arrival-rate scenario: one at 0, then every timeUnit/rate, within the duration. */
export function constantArrivals(plan: Pick<ScenarioPlan, 'rate' | 'timeUnitMs' | 'durationMs'>): number[] {
  const period = plan.timeUnitMs / plan.rate;
  const out: number[] = [];
  for (let k = 0; k * period < plan.durationMs; k++) out.push(k * period);
  return out;
}

/**
 * Start offsets (ms) of a ramping-arrival-rate scenario: iteration i (1-based) starts when the area under the
 * rate curve reaches i (lib/executor/ramping_arrival_rate.go, cal()).
 */
export function rampingArrivals(plan: Pick<ScenarioPlan, 'startRate' | 'timeUnitMs' | 'stages'>): number[] {
  const out: number[] = [];
  let from = plan.startRate / plan.timeUnitMs;
  let stageStart = 0;
  let doneSoFar = 0;
  let endCount = 0;
  let i = 1;
  for (const s of plan.stages) {
    const to = s.target / plan.timeUnitMs;
    const d = s.durationMs;
    if (from !== to) {
      endCount += d * ((to - from) / 2 + from);
      for (; i <= endCount + 1e-9; i++) {
        const x = (from * d - Math.sqrt(Math.max(0, d * (from * from * d + 2 * (i - doneSoFar) * (to - from))))) / (from - to);
        out.push(x + stageStart);
      }
    } else {
      endCount += d * to;
      for (; i <= endCount + 1e-9; i++) out.push((i - doneSoFar) / to + stageStart);
    }
    doneSoFar = endCount;
    from = to;
    stageStart += d;
  }
  return out;
}

async function arrivalRate(host: ExecutorHost, plan: ScenarioPlan): Promise<void> {
  const ramping = plan.executor === 'ramping-arrival-rate';
  const arrivals = (ramping ? rampingArrivals(plan) : constantArrivals(plan)).filter((_at, k) => ownsArrival(k, host.segment));
  const totalMs = ramping ? plan.stages.reduce((a, s) => a + s.durationMs, 0) : plan.durationMs;
  const free: Vu[] = await Promise.all(Array.from({ length: plan.preAllocatedVUs }, () => host.takeVu(plan)));
  let allocated = free.length;
  let allocating = false;
  host.setActive(plan, allocated);
  const st = newState(plan, totalMs);
  const running = new Set<Promise<void>>();
  for (const at of arrivals) {
    await until(host, st.start + at);
    if (host.aborted) break;
    const vu = free.pop();
    if (!vu) {
      // No free VU: the iteration is dropped (dropped_iterations) and one more VU is initialized in the
      // background, up to maxVUs (constant_arrival_rate.go, "Insufficient VUs").
      host.dropped(plan);
      if (allocated < plan.maxVUs && !allocating) {
        allocating = true;
        allocated++;
        void host.takeVu(plan).then(
          (v) => {
            free.push(v);
            allocating = false;
            host.setActive(plan, allocated);
          },
          () => {
            allocating = false;
          },
        );
      }
      continue;
    }
    const p: Promise<void> = host.iterate(vu, plan, st).finally(() => {
      running.delete(p);
      if (!vu.dead) free.push(vu);
    });
    running.add(p);
  }
  await until(host, st.start + totalMs);
  await hardStop(host, st, Promise.all([...running]), st.start + totalMs + plan.gracefulStopMs);
  host.setActive(plan, 0);
}
