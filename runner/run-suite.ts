import type { Cluster } from '../cluster/driver.ts';
import { deployManifests } from '../cluster/deploy.ts';
import { evaluateCriteria, type Verdict } from '../criteria/index.ts';
import type { Observations } from '../criteria/observations.ts';
import type { LoadResult } from '../load/result.ts';
import type { LoadedSuite } from '../suites/loader.ts';
import { attachLoadEvidence, attachObservations, attachVerdicts } from './evidence.ts';
import { describeLoad, runSuiteLoad } from './load.ts';
import { collectObservations } from './observe.ts';
import type { RunReporter } from './reporter.ts';
import { runSetup } from './setup.ts';

const DEPLOY_TIMEOUT_MS = 180_000;

export interface SuiteRunContext {
  cluster: Cluster;
  gatewayUrl: string;
  loaded: LoadedSuite;
  rep: RunReporter;
  allowRemote?: boolean;
  signal?: AbortSignal;
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
  const { cluster, loaded, rep } = ctx;
  const { suite } = loaded;
  if (suite.spec.deploy.length) {
    await rep.step(`deploy ${suite.spec.deploy.length} manifest(s)`, () => deployManifests(cluster, suite.spec.deploy, DEPLOY_TIMEOUT_MS));
  }
  await runSetup(cluster, suite, rep);
  const since = Date.now();
  let load: LoadResult | undefined;
  if (suite.spec.load) {
    const spec = suite.spec.load;
    load = await rep.step(`load: ${describeLoad(spec)}`, () =>
      runSuiteLoad(spec, { gatewayUrl: ctx.gatewayUrl, allowRemote: ctx.allowRemote, ...(ctx.signal ? { signal: ctx.signal } : {}) }),
    );
    await attachLoadEvidence(rep, load);
  }
  const observations = await rep.step('observe: routes, pools, EPP config and decisions', () => collectObservations(cluster, suite, { since, ...(load ? { load } : {}) }));
  await attachObservations(rep, observations);
  const verdicts = evaluateCriteria(suite.spec.criteria, observations);
  await attachVerdicts(rep, verdicts);
  return { name: suite.metadata.name, verdicts, ...(load ? { load } : {}), observations, passed: verdicts.every((v) => v.ok) };
}
