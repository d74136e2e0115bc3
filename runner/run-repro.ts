/**
 * One repro suite's run: the same sequence as runSuite up to its load (plan and guard before the first write,
 * preflight, deploy, setup), then a check that every connector answers through the gateway, then the
 * reproduction campaign (chaos/repro/campaign.ts). Cleanup is the caller's (the cluster fixture's teardown).
 */
import type { Cluster } from '../cluster/driver.ts';
import { runCampaign, DEFAULT_OUT_DIR, type CampaignResult } from '../chaos/repro/campaign.ts';
import { TargetError } from '../core/errors.ts';
import type { TimeoutConfig } from '../core/timeouts.ts';
import type { LoadedSuite } from '../suites/loader.ts';
import type { RunReporter } from './reporter.ts';
import { runSuiteLoad, type SuiteLoadOptions } from './load.ts';
import { loadNamespaceOf } from '../chaos/write-set.ts';
import { guardBeforeFirstWrite } from './run-plan.ts';
import type { LoadEngineName } from '../load/plan.ts';
import { deployAndSetUp } from './run-suite.ts';
import { runTimeouts } from './timeouts.ts';

/** The gateway picks a new route up shortly after it is Accepted: the connector check is retried this often. */
const CONNECTOR_CHECK_ATTEMPTS = 20;
/** Pause between two connector checks. */
const CONNECTOR_CHECK_PAUSE_MS = 1000;

export interface ReproRunContext {
  cluster: Cluster;
  gatewayUrl: string;
  loaded: LoadedSuite;
  rep: RunReporter;
  target: 'twin' | 'cluster';
  allowRemote: boolean;
  /** The command line's `--timeout` values, resolved over the suite's `spec.timeouts`. */
  timeouts?: Partial<TimeoutConfig>;
  /** Run only this matrix cell. */
  cellId?: string;
  /** Overrides spec.repro.seed. */
  seed?: number;
  /** Base directory of campaigns (default reports/repro). */
  outDir?: string;
  /** `--engine` (the `engine` option fixture): the load engine, overriding the suite's. */
  engine?: LoadEngineName;
  /** `--allow-protected` (the `allowProtected` option fixture). */
  allowProtected?: boolean;
}

export async function runRepro(ctx: ReproRunContext): Promise<CampaignResult> {
  const { cluster, loaded, rep, gatewayUrl } = ctx;
  const { suite } = loaded;
  const timeouts = runTimeouts(suite, ctx.timeouts);
  cluster.timeouts = timeouts;
  // the blast-radius guard and the preflight before the first write (issue 13)
  await guardBeforeFirstWrite(cluster, loaded, rep, {
    twin: ctx.target === 'twin',
    gatewayUrl,
    timeouts,
    ...(ctx.engine ? { engine: ctx.engine } : {}),
    ...(ctx.allowProtected !== undefined ? { allowProtected: ctx.allowProtected } : {}),
  });
  await deployAndSetUp(cluster, suite, rep, timeouts);
  if (suite.spec.load) {
    const failed = await rep.step('preflight: every connector answers through the gateway', () =>
      connectorsAnswer(suite.spec.load!, {
        gatewayUrl,
        allowRemote: ctx.allowRemote,
        // engine k6-operator creates its TestRun in the suite's load namespace
        cluster,
        loadNamespace: loadNamespaceOf(suite),
        suiteName: suite.metadata.name,
        ...(ctx.engine ? { engine: ctx.engine } : {}),
      }),
    );
    if (failed.length) throw new TargetError(`preflight: requests that did not answer 200 through the gateway: ${failed.join('; ')}`);
  }
  return runCampaign({
    cluster,
    gatewayUrl,
    loaded,
    target: ctx.target,
    rep,
    timeouts,
    outDir: ctx.outDir ?? DEFAULT_OUT_DIR,
    ...(ctx.cellId ? { cellId: ctx.cellId } : {}),
    ...(ctx.seed !== undefined ? { seed: ctx.seed } : {}),
    allowRemote: ctx.allowRemote,
  });
}

/** The suite's load once (its connectors' requests), retried while some do not answer 200; returns those that did not. */
async function connectorsAnswer(load: NonNullable<LoadedSuite['suite']['spec']['load']>, opts: SuiteLoadOptions): Promise<string[]> {
  let failed: string[] = [];
  for (let attempt = 0; attempt < CONNECTOR_CHECK_ATTEMPTS; attempt++) {
    const preflight = await runSuiteLoad(load, opts);
    failed = preflight.records
      .filter((r) => r.status !== 200)
      .map((r) => `#${r.index} ${r.status ?? r.error} ${r.errorBody ?? r.errorMessage ?? ''}`.trim());
    if (failed.length === 0) break;
    await new Promise((r) => setTimeout(r, CONNECTOR_CHECK_PAUSE_MS));
  }
  return failed;
}
