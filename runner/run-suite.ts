import type { Cluster } from '../cluster/driver.ts';
import { deployManifests } from '../cluster/deploy.ts';
import { thresholdsVerdict } from '../criteria/thresholds.ts';
import { describeCheck, requireSteadyState } from '../chaos/steady-state.ts';
import { evaluateCriteria, type Verdict } from '../criteria/index.ts';
import type { Observations } from '../criteria/observations.ts';
import type { LoadEngineName } from '../load/plan.ts';
import type { LoadResult } from '../load/result.ts';
import type { LoadedSuite } from '../suites/loader.ts';
import type { Suite } from '../suites/schema.ts';
import { readEppEnvironment, recordEnvironment } from '../reporters/environment.ts';
import { attachLoadEvidence, attachObservations, attachVerdicts } from './evidence.ts';
import { describeLoad, runSuiteLoad } from './load.ts';
import { collectObservations, markEppLog, startPodIpWatch } from './observe.ts';
import type { LogMark } from '../cluster/observe.ts';
import type { RunReporter } from './reporter.ts';
import { runSetup } from './setup.ts';
import { criteriaOf, faultsHappened } from './faults-verdict.ts';
import { runFaultsPhase, type FaultsPhaseResult } from './faults-phase.ts';
import { guardBeforeFirstWrite } from './run-plan.ts';
import { loadNamespaceOf } from '../chaos/write-set.ts';
import { recordOutcome, recordFailure } from './outcome.ts';
import type { TimeoutConfig } from '../core/timeouts.ts';
import { runTimeouts } from './timeouts.ts';

export interface SuiteRunContext {
  cluster: Cluster;
  gatewayUrl: string;
  loaded: LoadedSuite;
  rep: RunReporter;
  allowRemote?: boolean;
  signal?: AbortSignal;
  /** The twin (faults may use its simulators' endpoints) or a real cluster; default: twin unless allowRemote. */
  targetKind?: 'twin' | 'cluster';
  /** `--allow-protected` (the `allowProtected` option fixture): protected namespaces in the target may be written. */
  allowProtected?: boolean;
  /** The command line's `--timeout` values; the run resolves them over the suite's `spec.timeouts` (runTimeouts). */
  timeouts?: Partial<TimeoutConfig>;
  /** `--engine` (the `engine` option fixture): the load engine, overriding the suite's. */
  engine?: LoadEngineName;
  /** Base seed of the faults' random choices (the `seed` option fixture); default the suite name. */
  seed?: string;
}

export interface SuiteOutcome {
  name: string;
  verdicts: Verdict[];
  load?: LoadResult;
  observations: Observations;
  passed: boolean;
}

/** deploy -> setup -> load -> observe -> judge. Cleanup is the caller's (the cluster fixture's teardown). */
export async function runSuite(ctx: SuiteRunContext): Promise<SuiteOutcome> {
  try {
    const outcome = await runSuiteSteps(ctx);
    recordOutcome(outcome.name, outcome.verdicts);
    return outcome;
  } catch (err) {
    recordFailure(ctx.loaded.suite.metadata.name, err);
    throw err;
  }
}

async function runSuiteSteps(ctx: SuiteRunContext): Promise<SuiteOutcome> {
  const { cluster, loaded, rep } = ctx;
  const { suite } = loaded;
  const twin = (ctx.targetKind ?? (ctx.allowRemote ? 'cluster' : 'twin')) === 'twin';
  const timeouts = runTimeouts(suite, ctx.timeouts);
  // the driver's own waits (CRD Established, objects gone, the teardown) keep the run's values too
  cluster.timeouts = timeouts;
  // the whole write set judged, and the target checked, before the first write: a refusal touches nothing
  await guardBeforeFirstWrite(cluster, loaded, rep, {
    twin,
    gatewayUrl: ctx.gatewayUrl,
    timeouts,
    ...(ctx.allowProtected !== undefined ? { allowProtected: ctx.allowProtected } : {}),
    ...(ctx.engine ? { engine: ctx.engine } : {}),
    ...(ctx.seed ? { seed: ctx.seed } : {}),
  });
  await deployAndSetUp(cluster, suite, rep, timeouts);
  // which pod held which IP during the run: maps a stock EPP's "Request handled" endpoints to pods
  const podIps = await startPodIpWatch(cluster, suite.spec.target.namespaces);
  try {
    let since = Date.now();
    let eppLogMark: LogMark | undefined;
    let load: LoadResult | undefined;
    let chaos: FaultsPhaseResult | undefined;
    if (suite.spec.load) {
      const spec = suite.spec.load;
      const loadOpts = {
        gatewayUrl: ctx.gatewayUrl,
        allowRemote: ctx.allowRemote,
        cluster,
        loadNamespace: loadNamespaceOf(suite),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
        suiteName: suite.metadata.name,
        ...(ctx.engine ? { engine: ctx.engine } : {}),
        attach: (name: string, body: string, type: string) => rep.attach(name, body, type),
      };
      if (suite.spec.faults.length > 0) {
        let mark: LogMark | undefined;
        chaos = await runFaultsPhase(
          {
            cluster,
            gatewayUrl: ctx.gatewayUrl,
            loaded,
            rep,
            twin,
            allowRemote: !!ctx.allowRemote,
            timeouts,
            ...(ctx.seed ? { seed: ctx.seed } : {}),
          },
          async (hooks) => {
            mark = await markEppLog(cluster, suite);
            return rep.step(`load with faults: ${describeLoad(spec, ctx.engine)}`, () => runSuiteLoad(spec, { ...loadOpts, ...hooks }));
          },
        );
        eppLogMark = mark;
        load = chaos.load;
      } else {
        await waitSteadyBeforeLoad(ctx, timeouts);
        // the probes are not the load: their EPP decisions stay out of the window (before the mark)
        eppLogMark = await markEppLog(cluster, suite);
        since = Date.now();
        load = await rep.step(`load: ${describeLoad(spec, ctx.engine)}`, () => runSuiteLoad(spec, loadOpts));
      }
      await attachLoadEvidence(rep, load);
    }
    const observations = await rep.step('observe: routes, pools, EPP config and decisions', () =>
      collectObservations(cluster, suite, {
        since,
        podIps: podIps.timeline,
        ...(load ? { load } : {}),
        ...(eppLogMark ? { eppLogMark } : {}),
      }),
    );
    if (chaos) observations.recovery = chaos.recovery;
    if (chaos)
      observations.faults = chaos.events.map((e) => ({ index: e.fault, kind: e.kind, atMs: e.t, targets: e.targets.map((t) => t.pod) }));
    await attachObservations(rep, observations);
    // the EPP image and profile the suite ran against, for the report's environment (the twin deploys them per suite)
    recordEnvironment(await readEppEnvironment({ tryRead: (ref) => cluster.tryRead(ref) as Promise<never> }));
    const verdicts = evaluateCriteria(criteriaOf(suite), observations);
    if (chaos) verdicts.push(faultsHappened(chaos));
    if (load?.thresholds?.length) verdicts.push(thresholdsVerdict(load.thresholds));
    await attachVerdicts(rep, verdicts);
    return { name: suite.metadata.name, verdicts, ...(load ? { load } : {}), observations, passed: verdicts.every((v) => v.ok) };
  } finally {
    podIps.stop();
  }
}

/** The suite's deploy (its manifests up within the `deploy` timeout), then its setup steps, in order. */
export async function deployAndSetUp(cluster: Cluster, suite: Suite, rep: RunReporter, timeouts: Readonly<TimeoutConfig>): Promise<void> {
  if (suite.spec.deploy.length) {
    await rep.step(`deploy ${suite.spec.deploy.length} manifest(s)`, () => deployManifests(cluster, suite.spec.deploy, timeouts.deploy));
  }
  await runSetup(cluster, suite, rep, timeouts);
}

/**
 * A suite's steadyState checks hold before its load starts (pods Ready is not enough: the gateway must also
 * have seen the endpoints): polled, bounded by `steadyStateBeforeLoad`, failing with what it last saw.
 */
async function waitSteadyBeforeLoad(ctx: SuiteRunContext, timeouts: Readonly<TimeoutConfig>): Promise<void> {
  const { suite } = ctx.loaded;
  if (!suite.spec.steadyState.length) return;
  const checks = suite.spec.steadyState;
  await ctx.rep.step(`steady state before the load: ${checks.map(describeCheck).join(', ')}`, async () => {
    await requireSteadyState(checks, suite.spec.load, {
      cluster: ctx.cluster,
      gatewayUrl: ctx.gatewayUrl,
      allowRemote: !!ctx.allowRemote,
      within: timeouts.steadyStateBeforeLoad,
      timeoutName: 'steadyStateBeforeLoad',
      before: 'before the load',
    });
  });
}
