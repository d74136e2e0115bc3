/**
 * The one plan + guard verdict of a run, used by `pd-harness run --dry-run`, by `pd-harness run` before it
 * starts Playwright, and by the runner before its first write: the write set (every object deploy, setup,
 * faults, the load and the cleanup touch), each object's verdict, and the faults resolved against the cluster.
 */
import type { Cluster } from '../cluster/driver.ts';
import { readManifests, type ManifestObject } from '../cluster/manifests.ts';
import { GuardRefusal } from '../core/errors.ts';
import { DEFAULT_TIMEOUTS, type TimeoutConfig } from '../core/timeouts.ts';
import { guardFaults, judgeWrites, writeRefusal, formatWriteSet, type JudgedWrite, type WriteGuardOptions } from '../chaos/guard.ts';
import { formatPlan, guardSubjects, planFaults, planProblems, type PlannedFault } from '../chaos/plan.ts';
import {
  accessNeeds,
  checkAccess,
  checkEngineOnCluster,
  checkGateway,
  credentialsNamespace,
  preflightGuard,
  staticPreflight,
} from '../chaos/preflight.ts';
import { computeWriteSet, type PlannedWrite } from '../chaos/write-set.ts';
import type { LoadEngineName } from '../load/plan.ts';
import type { LoadedSuite } from '../suites/loader.ts';
import type { Suite } from '../suites/schema.ts';
import { engineFor } from '../chaos/preflight-static.ts';
import type { RunReporter } from './reporter.ts';

export interface RunPlanOptions extends WriteGuardOptions {
  /** The live cluster: scopes of custom kinds, the default namespace and the faults' pods are read from it. */
  cluster?: Cluster;
  /** The twin (faults may use the simulators' endpoints) or a real cluster. */
  twin: boolean;
  /** --engine (the `engine` option fixture); default the suite's. */
  engine?: LoadEngineName;
  /** Base seed of the faults' random choices (the `seed` option fixture); default the suite name. */
  seed?: string;
}

export interface RunPlan {
  suite: Suite;
  engine: LoadEngineName;
  manifests: ManifestObject[];
  writes: JudgedWrite[];
  faults: PlannedFault[];
  /** The guard's one-line refusal, when any write or fault is outside the target. */
  refusal?: string;
  /** Faults that cannot run on this target (judged before anything happens). */
  faultProblems: string[];
}

export { engineFor } from '../chaos/preflight-static.ts';

/** Computes the write set and judges it; with a cluster, refined against live objects (reads only). */
export async function planRun(loaded: LoadedSuite, opts: RunPlanOptions): Promise<RunPlan> {
  const { suite } = loaded;
  const engine = engineFor(suite, opts.engine);
  const deploy = suite.spec.deploy.map((path) => ({ path, objects: readManifests([path]) }));
  const applies = new Map<number, ManifestObject[]>();
  suite.spec.setup.forEach((step, i) => {
    if ('apply' in step && step.apply) applies.set(i, readManifests([step.apply.file]));
  });
  const manifests = deploy.flatMap((d) => d.objects);
  let writes: PlannedWrite[] = computeWriteSet({
    suite,
    deploy,
    applies,
    engine,
    ...(opts.cluster ? { defaultNamespace: opts.cluster.defaultNamespace() } : {}),
  });
  if (opts.cluster) writes = await refineScopes(opts.cluster, writes);
  const judged = judgeWrites(suite.spec.target, writes, opts);
  const refusals: string[] = [];
  const writeRefused = writeRefusal(suite.spec.target, judged, opts);
  if (writeRefused) refusals.push(writeRefused);
  const f = await judgeFaults(opts.cluster, suite, {
    twin: opts.twin,
    manifests,
    requirePods: false,
    ...(opts.seed ? { seed: opts.seed } : {}),
  });
  refusals.push(...f.refusals);
  return {
    suite,
    engine,
    manifests,
    writes: judged,
    faults: f.faults,
    ...(refusals.length ? { refusal: refusals.join('; ') } : {}),
    faultProblems: f.problems,
  };
}

/**
 * The faults resolved against the cluster (reads only) and judged: each inside the target namespaces and
 * selectors, over the pods the manifests will run and the pods there now. `requirePods`: a fault with no pod
 * to act on is a problem (once deployed; before the deploy the pods do not exist yet).
 */
export async function judgeFaults(
  cluster: Cluster | undefined,
  suite: Suite,
  opts: { twin: boolean; manifests: ManifestObject[]; requirePods: boolean; seed?: string },
): Promise<{ faults: PlannedFault[]; refusals: string[]; problems: string[] }> {
  if (!suite.spec.faults.length) return { faults: [], refusals: [], problems: [] };
  const faults = await planFaults(cluster, suite, {
    twin: opts.twin,
    manifests: opts.manifests,
    ...(opts.seed ? { seed: opts.seed } : {}),
  });
  const refusals: string[] = [];
  const pre = preflightGuard(suite, opts.manifests);
  if (!pre.ok) refusals.push(pre.message);
  const live = guardFaults(suite.spec.target, guardSubjects(faults));
  if (!live.ok && live.message !== (pre.ok ? undefined : pre.message)) refusals.push(live.message);
  return { faults, refusals, problems: planProblems(faults, { requirePods: opts.requirePods }) };
}

/** Custom kinds the manifests do not define: their scope from the cluster's discovery. */
async function refineScopes(cluster: Cluster, writes: PlannedWrite[]): Promise<PlannedWrite[]> {
  const out: PlannedWrite[] = [];
  for (const w of writes) {
    if (w.scope !== 'unknown') {
      out.push(w);
      continue;
    }
    const res = await cluster.resourceOf(w.apiVersion, w.kind).catch(() => undefined);
    if (!res) out.push(w);
    else if (res.namespaced) out.push({ ...w, scope: 'namespaced' });
    else {
      const { namespace: _ns, defaultedNamespace: _d, ...rest } = w;
      out.push({ ...rest, scope: 'cluster' });
    }
  }
  return out;
}

/** Throws the guard's refusal (exit 4), or the faults that cannot run here. Nothing has been written. */
export function assertRunPlan(plan: RunPlan): void {
  if (plan.refusal) throw new GuardRefusal(plan.refusal);
  if (plan.faultProblems.length) throw new GuardRefusal(`chaos plan refused, nothing was written: ${plan.faultProblems.join('; ')}`);
}

/** The plan as text: the write set with a verdict per object, then the faults. */
export function formatRunPlan(plan: RunPlan): string {
  let text = `engine: ${plan.engine}\n${formatWriteSet(plan.writes)}`;
  if (plan.faults.length) text += formatPlan(plan.suite.metadata.name, plan.faults);
  text +=
    plan.refusal || plan.faultProblems.length
      ? `guard: REFUSED: ${[plan.refusal, ...plan.faultProblems].filter(Boolean).join('; ')}\n`
      : 'guard: every write is inside spec.target\n';
  return text;
}

/**
 * Before the first write, against the live target: the engine is installed (k6 on PATH, or the TestRun
 * CRD), its script exists, the load sends something, the gateway answers, and the credentials may do every
 * verb the write set needs (SelfSubjectAccessReview). Each failure is one line (exit 2 or 3).
 */
export async function preflightRun(
  cluster: Cluster,
  plan: RunPlan,
  gatewayUrl: string | undefined,
  timeouts: Readonly<TimeoutConfig> = DEFAULT_TIMEOUTS,
): Promise<void> {
  staticPreflight({ suite: plan.suite, engine: plan.engine });
  await checkEngineOnCluster(cluster, plan.engine);
  if (plan.suite.spec.load && gatewayUrl !== undefined) await checkGateway(gatewayUrl, timeouts.gatewayReachable);
  await checkAccess(cluster, await accessNeeds(cluster, plan.writes));
}

/**
 * What `pd-harness validate` can judge without a cluster: the guard over the whole write set (manifest
 * contents included) and the target's protected namespaces. Returns the one-line refusal, or undefined.
 */
export async function staticGuardRefusal(loaded: LoadedSuite, opts: { allowProtected?: boolean } = {}): Promise<string | undefined> {
  const plan = await planRun(loaded, { twin: true, allowProtected: !!opts.allowProtected });
  return plan.refusal;
}

export interface CheckRunOptions {
  /** The live target: scopes, default namespace and the faults' pods are read from it; without one the plan is static. */
  cluster?: Cluster;
  twin: boolean;
  /** --engine (the `engine` option fixture); default the suite's. */
  engine?: LoadEngineName;
  /** Base seed of the faults' random choices (the `seed` option fixture); default the suite name. */
  seed?: string;
  allowProtected?: boolean;
  gatewayUrl?: string;
  timeouts?: Readonly<TimeoutConfig>;
  /** Also the live preflight (the engine on the cluster, the gateway answering, authorization); needs `cluster`. */
  live: boolean;
  /** Steps and attachments of the run's report; default: none (the CLI). */
  rep?: Pick<RunReporter, 'step' | 'attach'>;
  /** Called with the plan before it is judged: the run attaches it, the dry run prints it. */
  onPlan?: (plan: RunPlan) => void | Promise<void>;
}

/**
 * The one check before a run's first write, the same sequence wherever it runs: the plan (the write set and
 * the faults) judged by the guard, then the preflight (static: engine, script, load plan; live: also the
 * engine on the cluster, the gateway, authorization). Throws GuardRefusal (exit 4), UsageError (2) or
 * TargetError (3); nothing has been written when it does. Used by the runner right before its first write,
 * by `pd-harness run` before it starts Playwright (to fail in one line) and by `pd-harness run --dry-run`.
 */
export async function checkRun(loaded: LoadedSuite, opts: CheckRunOptions): Promise<RunPlan> {
  const step = opts.rep?.step ?? (<T>(_title: string, body: () => Promise<T>) => body());
  const plan = await step('plan and guard: every object the run writes', async () => {
    const credentials = credentialsNamespace(opts.cluster?.kc);
    const p = await planRun(loaded, {
      ...(opts.cluster ? { cluster: opts.cluster } : {}),
      twin: opts.twin,
      ...(opts.engine ? { engine: opts.engine } : {}),
      ...(opts.seed ? { seed: opts.seed } : {}),
      allowProtected: !!opts.allowProtected,
      ...(credentials ? { credentialsNamespace: credentials } : {}),
    });
    await opts.onPlan?.(p);
    assertRunPlan(p);
    return p;
  });
  await step('preflight: engine, gateway, authorization', async () => {
    if (opts.live && opts.cluster) await preflightRun(opts.cluster, plan, opts.gatewayUrl, opts.timeouts);
    else staticPreflight({ suite: plan.suite, engine: plan.engine });
  });
  return plan;
}

/** The runner's check before its first write (runSuite and the repro run): checkRun against the live cluster. */
export async function guardBeforeFirstWrite(
  cluster: Cluster,
  loaded: LoadedSuite,
  rep: Pick<RunReporter, 'step' | 'attach'>,
  opts: {
    twin: boolean;
    gatewayUrl?: string;
    allowProtected?: boolean;
    timeouts?: Readonly<TimeoutConfig>;
    engine?: LoadEngineName;
    seed?: string;
  },
): Promise<RunPlan> {
  return checkRun(loaded, {
    cluster,
    twin: opts.twin,
    ...(opts.engine ? { engine: opts.engine } : {}),
    ...(opts.seed ? { seed: opts.seed } : {}),
    live: true,
    rep,
    onPlan: (p) => rep.attach('write set', formatRunPlan(p), 'text/plain'),
    ...(opts.gatewayUrl !== undefined ? { gatewayUrl: opts.gatewayUrl } : {}),
    ...(opts.allowProtected !== undefined ? { allowProtected: opts.allowProtected } : {}),
    ...(opts.timeouts ? { timeouts: opts.timeouts } : {}),
  });
}
