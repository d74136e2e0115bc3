import type { Cluster } from '../cluster/driver.ts';
import { readManifests } from '../cluster/manifests.ts';
import { FAULTS, type FaultOutcome } from '../chaos/faults/index.ts';
import { GuardRefusal, guardFaults } from '../chaos/guard.ts';
import { formatPlan, type PlannedFault } from '../chaos/plan.ts';
import { livePods } from '../chaos/pods.ts';
import { watchPods } from '../chaos/pod-watch.ts';
import { summarizeRecovery, type FaultRecovery } from '../chaos/recovery.ts';
import { FaultScheduler } from '../chaos/schedule.ts';
import { checkSteadyState, describeCheck, requireSteadyState, steadyStateChecks } from '../chaos/steady-state.ts';
import { buildTimeline, timelineSvg, type Timeline } from '../chaos/timeline.ts';
import type { FaultEvent } from '../chaos/types.ts';
import type { RecoveryMeasurement } from '../criteria/observations.ts';
import type { LoadProgress } from '../load/progress.ts';
import type { LoadResult } from '../load/result.ts';
import type { LoadedSuite } from '../suites/loader.ts';
import type { RunReporter } from './reporter.ts';
import { judgeFaults } from './run-plan.ts';
import type { TimeoutConfig } from '../core/timeouts.ts';

/** How often a fault's recovery is checked while it is watched. */
const RECOVERY_POLL_MS = 500;

export interface FaultsPhaseContext {
  cluster: Cluster;
  gatewayUrl: string;
  loaded: LoadedSuite;
  rep: RunReporter;
  twin: boolean;
  allowRemote: boolean;
  /**
   * The run's timeouts in force: steadyStateBeforeFault; recovery is watched recoveryMargin past the suite's
   * `recovery.within`, or recoveryWatch in all without one. Default: the cluster's (set by runSuite).
   */
  timeouts?: Readonly<TimeoutConfig>;
  /** Base seed of the faults' random choices (the `seed` option fixture); default the suite name. */
  seed?: string;
}

export interface FaultsPhaseResult {
  load: LoadResult;
  plan: PlannedFault[];
  events: FaultEvent[];
  recovery: RecoveryMeasurement;
  recoveries: FaultRecovery[];
  /** Faults that did not happen, did not fire or failed: each fails the run. */
  problems: string[];
  timeline: Timeline;
}

/**
 * The chaos part of a suite run, around its load: plan and guard (nothing touched on refusal) → steady
 * state before → load with faults fired on schedule, each followed by a watch for recovery → undo the
 * twin fault configs → verify each fault happened → timeline and recovery measurement.
 */
export async function runFaultsPhase(
  ctx: FaultsPhaseContext,
  runLoad: (hooks: { onProgress: (p: LoadProgress) => void; onStarted: () => void }) => Promise<LoadResult>,
): Promise<FaultsPhaseResult> {
  const { cluster, rep, loaded } = ctx;
  const { suite } = loaded;
  const timeouts = ctx.timeouts ?? cluster.timeouts;
  const manifests = readManifests(suite.spec.deploy);
  const plan = await planStep(ctx, manifests);
  const checks = steadyStateChecks(suite);
  const ssOpts = { cluster, gatewayUrl: ctx.gatewayUrl, allowRemote: ctx.allowRemote };
  await steadyBeforeFaults(ctx, checks, ssOpts, timeouts);

  const watchMs = suite.spec.recovery ? suite.spec.recovery.within + timeouts.recoveryMargin : timeouts.recoveryWatch;
  const faults = new FiredFaults(ctx, plan, manifests, {
    watchMs,
    steady: () => checkSteadyState(checks, suite.spec.load, ssOpts).then((r) => r.ok),
  });
  const pods = watchPods(cluster, suite.spec.target.namespaces);
  const scheduler = new FaultScheduler(
    plan.map((p) => p.trigger),
    (index) => faults.fire(index),
  );
  let load: LoadResult;
  try {
    // the fault clock starts when the load really begins (k6-operator: its runners unpaused), not when it is asked for
    let started = false;
    load = await runLoad({
      onProgress: (p) => scheduler.onProgress(p.done),
      onStarted: () => {
        if (started) return;
        started = true;
        scheduler.start();
      },
    });
    await scheduler.stop();
    await rep.step('recovery: steady state again after each fault', () => faults.recovered());
  } finally {
    await scheduler.stop();
    await faults.undoAll();
    await pods.stop();
  }

  const problems = [...schedulerProblems(scheduler, plan)];
  await rep.step('verify each fault happened', async () => problems.push(...(await faults.verifyAll())));
  const recovery = recoveryOf(load, faults.recoveries);
  const timeline = await attachTimeline(rep, {
    load,
    events: faults.events,
    pods: pods.changes,
    recoveries: faults.recoveries,
    recovery,
    problems,
  });
  return { load, plan, events: faults.events, recovery, recoveries: faults.recoveries, problems, timeline };
}

/** The chaos plan, judged as the dry run judges it, now over the deployed pods: refused before anything is touched. */
async function planStep(ctx: FaultsPhaseContext, manifests: ReturnType<typeof readManifests>): Promise<PlannedFault[]> {
  const { cluster, rep, loaded } = ctx;
  const { suite } = loaded;
  return rep.step(`chaos plan: ${suite.spec.faults.length} fault(s)`, async () => {
    const p = await judgeFaults(cluster, suite, { twin: ctx.twin, manifests, requirePods: true, ...(ctx.seed ? { seed: ctx.seed } : {}) });
    await rep.attach('chaos plan', formatPlan(suite.metadata.name, p.faults), 'text/plain');
    if (p.refusals.length) throw new GuardRefusal(p.refusals.join('; '));
    if (p.problems.length) throw new GuardRefusal(`chaos plan refused, nothing was touched: ${p.problems.join('; ')}`);
    return p.faults;
  });
}

/** Steady state must hold before the first fault, within steadyStateBeforeFault. */
async function steadyBeforeFaults(
  ctx: FaultsPhaseContext,
  checks: ReturnType<typeof steadyStateChecks>,
  ssOpts: { cluster: Cluster; gatewayUrl: string; allowRemote: boolean },
  timeouts: Readonly<TimeoutConfig>,
): Promise<void> {
  const { suite } = ctx.loaded;
  await ctx.rep.step(`steady state before the faults: ${checks.map(describeCheck).join(', ')}`, async () => {
    await requireSteadyState(checks, suite.spec.load, {
      ...ssOpts,
      within: timeouts.steadyStateBeforeFault,
      timeoutName: 'steadyStateBeforeFault',
      before: 'before the fault',
    });
  });
}

/**
 * The faults fired so far: each is judged by the guard against the pods there when it fires, injected, and
 * watched until it is restored and steady state holds again (or the watch runs out).
 */
class FiredFaults {
  readonly events: FaultEvent[] = [];
  readonly recoveries: FaultRecovery[] = [];
  private readonly outcomes: FaultOutcome[] = [];
  private readonly watchers: Promise<void>[] = [];

  constructor(
    private readonly ctx: FaultsPhaseContext,
    private readonly plan: readonly PlannedFault[],
    private readonly manifests: ReturnType<typeof readManifests>,
    private readonly opts: { watchMs: number; steady: () => Promise<boolean> },
  ) {}

  async fire(index: number): Promise<void> {
    const { cluster, rep, loaded } = this.ctx;
    const planned = this.plan[index]!;
    const current = planned.selector !== undefined ? await livePods(cluster, planned.namespace, planned.selector) : [];
    // pods may have changed since the plan (an earlier fault replaced them): judge the ones there now
    const guard = guardFaults(loaded.suite.spec.target, [{ index, kind: planned.kind, namespace: planned.namespace, pods: current }]);
    if (!guard.ok) throw new GuardRefusal(guard.message);
    if (current.length === 0) throw new Error(`no pod matches ${planned.selector} in ${planned.namespace} when the fault fired`);
    const outcome = await FAULTS[planned.kind]({
      cluster,
      twin: this.ctx.twin,
      planned,
      pods: current,
      manifests: this.manifests,
      log: (l) => rep.log(l),
    });
    this.events.push(outcome.event);
    this.outcomes.push(outcome);
    const rec: FaultRecovery = { fault: index, faultAtMs: outcome.event.t };
    this.recoveries.push(rec);
    this.watchers.push(this.watchRecovery(outcome, rec));
  }

  private async watchRecovery(outcome: FaultOutcome, rec: FaultRecovery): Promise<void> {
    const deadline = rec.faultAtMs + this.opts.watchMs;
    for (let i = 0; i < 100_000 && Date.now() < deadline; i++) {
      const missing = await outcome.restored().catch((err: Error) => err.message);
      if (missing === undefined && (await this.opts.steady())) {
        rec.recoveredAtMs = Date.now();
        return;
      }
      await new Promise((r) => setTimeout(r, RECOVERY_POLL_MS));
    }
  }

  /** Resolves when every fault fired so far has recovered or its watch ran out. */
  async recovered(): Promise<void> {
    await Promise.all(this.watchers);
  }

  /** Undoes what the faults set outside Kubernetes (the twin's fault endpoints); never throws. */
  async undoAll(): Promise<void> {
    for (const o of this.outcomes) await o.undo?.().catch(() => undefined);
  }

  /** A problem for each fault that did not really happen (or could not be verified). */
  async verifyAll(): Promise<string[]> {
    const problems: string[] = [];
    for (const o of this.outcomes) {
      const problem = await o.verify().catch((err: Error) => `fault ${o.event.fault + 1}: could not verify: ${err.message}`);
      if (problem) problems.push(problem);
    }
    return problems;
  }
}

/** Faults that never fired (the load ended first) or failed to fire. */
function schedulerProblems(scheduler: FaultScheduler, plan: readonly PlannedFault[]): string[] {
  const problems: string[] = [];
  for (const i of scheduler.unfired()) problems.push(`fault ${i + 1} (${plan[i]!.kind}) never fired: the load ended first`);
  for (const e of scheduler.errors)
    problems.push(`fault ${e.index + 1} (${plan[e.index]!.kind}) failed: ${e.error.message.split('\n')[0]}`);
  return problems;
}

function recoveryOf(load: LoadResult, recoveries: readonly FaultRecovery[]): RecoveryMeasurement {
  const summary = summarizeRecovery(load.records, recoveries);
  return {
    errorWindowMs: summary.errorWindowMs,
    recoveryMs: summary.recoveryMs,
    errorRate: summary.errorRate,
    ...(summary.recoveredAtMs !== undefined ? { recoveredAtMs: summary.recoveredAtMs } : {}),
  };
}

/** The timeline (JSON and chart) and the fault events, attached to the report. */
async function attachTimeline(
  rep: RunReporter,
  r: {
    load: LoadResult;
    events: FaultEvent[];
    pods: Parameters<typeof buildTimeline>[0]['pods'];
    recoveries: FaultRecovery[];
    recovery: RecoveryMeasurement;
    problems: string[];
  },
): Promise<Timeline> {
  const startMs = Math.min(Date.parse(r.load.startedAt), ...r.load.records.map((x) => x.startMs));
  const timeline = buildTimeline({ startMs, records: r.load.records, faults: r.events, pods: r.pods, recoveries: r.recoveries });
  await rep.attach(
    'chaos timeline.json',
    JSON.stringify({ ...timeline, recovery: r.recovery, problems: r.problems }, null, 2),
    'application/json',
  );
  try {
    await rep.attach('chaos timeline.svg', await timelineSvg(timeline), 'image/svg+xml');
  } catch (err) {
    rep.log(`timeline chart not drawn: ${(err as Error).message}`);
  }
  await rep.attach('fault events', r.events.map(formatEvent).join('\n') + '\n', 'text/plain');
  return timeline;
}

function formatEvent(e: FaultEvent): string {
  const targets = e.targets.map((t) => `${t.pod} uid ${t.uidBefore ?? '?'} -> ${t.uidAfter ?? '?'}`).join(', ');
  return `${new Date(e.t).toISOString()} fault ${e.fault + 1} ${e.kind}: ${e.detail} [${targets}]`;
}
