/**
 * A reproduction campaign: for each matrix cell (or the one cell asked for), wait for the connector's pods,
 * seed the bug on the twin, send the cell's load through the gateway, detect a decode crash, write a bundle per
 * crash, and wait for the decode pod to be Ready again. Ends with summary.md / summary.json.
 * Deploy and setup are the caller's (the spec runs them through runner/).
 */
import { mkdirSync } from 'node:fs';
import { writeFileAtomic } from '../../common/atomic-write.ts';
import { redact, redactText } from '../../core/redact.ts';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Cluster } from '../../cluster/driver.ts';
import type { V1Pod } from '#client-node';
import { deploymentLogs, namespaceEvents, waitPodsReady } from '../../cluster/observe.ts';
import { waitFor } from '../../cluster/waits.ts';
import { isLoopbackHost } from '../../load/loopback.ts';
import type { LoadResult } from '../../load/result.ts';
import type { RunReporter } from '../../core/run-reporter.ts';
import type { TimeoutConfig } from '../../core/timeouts.ts';
import type { LoadedSuite } from '../../suites/loader.ts';
import {
  bundleFiles,
  buildBundle,
  eppDecisionsInWindow,
  requestsInFlightAt,
  writeBundle,
  type BundleJson,
  type EppWindow,
} from './bundle.ts';
import { detectCrashes, readRestarts } from './detect.ts';
import { SIM_FAULTS_PORT, clearInjections, injectForCell, type Injection } from './inject.ts';
import { CONNECTOR_TOPOLOGY, cellLoadPlan, cellSeed, expandMatrix, findCell, type ReproCell } from './matrix.ts';
import { errorsByKind, summarizeCampaign, summaryMarkdown, type CampaignSummary, type CellOutcome } from './summary.ts';

export const EPP_NAMESPACE = 'llm-d-inference-scheduler';
export const EPP_DEPLOYMENT = 'gaie-inference-scheduling-epp';
export const DEFAULT_OUT_DIR = 'reports/repro';

export interface CampaignOptions {
  cluster: Cluster;
  gatewayUrl: string;
  loaded: LoadedSuite;
  target: 'twin' | 'cluster';
  rep: RunReporter;
  /** Base directory; the campaign writes `<outDir>/<campaign>/`. */
  outDir?: string;
  /** Run only this cell. */
  cellId?: string;
  /** Overrides spec.repro.seed. */
  seed?: number;
  allowRemote?: boolean;
  signal?: AbortSignal;
  /**
   * The run's timeouts in force: reproReady (pods Ready before and after a cell), reproRestart, reproSettle,
   * reproSettleQuiet, healthCall. Default: the cluster's.
   */
  timeouts?: Readonly<TimeoutConfig>;
  /** Where replay.sh changes directory to, and what suite paths are relative to (default: process.cwd()). */
  cwd?: string;
}

export interface WrittenBundle {
  cellId: string;
  dir: string;
  files: string[];
  bundle: BundleJson;
}

export interface CampaignResult {
  campaign: string;
  dir: string;
  summary: CampaignSummary;
  outcomes: CellOutcome[];
  bundles: WrittenBundle[];
  summaryFiles: { markdown: string; json: string };
  /** Pods whose trigger could not be cleared at the end (one line each). */
  cleanupProblems: string[];
}

/** `proxy-index-error-seed1`, or with one cell `...-seed1-p2p-c4-p1500-t300ms` (a replay never overwrites the campaign). */
export function campaignName(suiteName: string, seed: number, cellId?: string): string {
  return `${suiteName}-seed${seed}${cellId ? `-${cellId}` : ''}`;
}

/** The suite file as the replay command should name it: relative to the checkout when inside it. */
export function suitePathFor(file: string, cwd: string): string {
  const abs = resolve(file);
  const rel = relative(cwd, abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}

/** The cells a run covers: all, or the one asked for (an unknown id throws, naming the cells there are). */
export function cellsToRun(loaded: LoadedSuite, cellId?: string): ReproCell[] {
  const repro = loaded.suite.spec.repro;
  if (!repro) throw new Error(`suite ${loaded.file} has no spec.repro matrix`);
  const cells = expandMatrix(repro);
  return cellId ? [findCell(cells, cellId)] : cells;
}

export async function runCampaign(o: CampaignOptions): Promise<CampaignResult> {
  const { cluster, loaded, rep } = o;
  const repro = loaded.suite.spec.repro;
  if (!repro) throw new Error(`suite ${loaded.file} has no spec.repro matrix`);
  const cwd = o.cwd ?? process.cwd();
  const seed = o.seed ?? repro.seed;
  const cells = cellsToRun(loaded, o.cellId);
  const campaign = campaignName(loaded.suite.metadata.name, seed, o.cellId);
  const dir = resolve(o.outDir ?? DEFAULT_OUT_DIR, campaign);
  mkdirSync(dir, { recursive: true });
  const suiteFile = suitePathFor(loaded.file, cwd);
  const startedAt = new Date().toISOString();
  const outcomes: CellOutcome[] = [];
  const bundles: WrittenBundle[] = [];
  const touched = new Map<string, Set<string>>();
  let cleanupProblems: string[] = [];

  try {
    for (const cell of cells) {
      o.signal?.throwIfAborted();
      const result = await rep.step(`cell ${cell.id}: ${cell.requests} request(s) at concurrency ${cell.concurrency}`, () =>
        runCell({ ...o, cwd, seed, campaign, dir, suiteFile, cell, touched }),
      );
      outcomes.push(result.outcome);
      bundles.push(...result.bundles);
    }
  } finally {
    if (o.target === 'twin') {
      for (const [ns, pods] of touched) cleanupProblems = [...cleanupProblems, ...(await clearInjections(cluster, ns, pods))];
    }
  }

  const summary = summarizeCampaign(
    { campaign, suiteFile, seed, target: o.target, startedAt, finishedAt: new Date().toISOString() },
    outcomes,
  );
  const markdown = join(dir, 'summary.md');
  const json = join(dir, 'summary.json');
  writeFileAtomic(markdown, redact(summaryMarkdown(summary)));
  writeFileAtomic(json, redactText(json, `${JSON.stringify(summary, null, 2)}\n`));
  await rep.attach('repro summary.md', summaryMarkdown(summary), 'text/markdown');
  await rep.attach('repro summary.json', JSON.stringify(summary, null, 2), 'application/json');
  rep.log(summary.answer.text);
  return { campaign, dir, summary, outcomes, bundles, summaryFiles: { markdown, json }, cleanupProblems };
}

interface CellContext extends CampaignOptions {
  cwd: string;
  seed: number;
  campaign: string;
  dir: string;
  suiteFile: string;
  cell: ReproCell;
  touched: Map<string, Set<string>>;
}

async function runCell(c: CellContext): Promise<{ outcome: CellOutcome; bundles: WrittenBundle[] }> {
  const { cluster, cell, rep } = c;
  const topo = CONNECTOR_TOPOLOGY[cell.connector];
  const t = c.timeouts ?? cluster.timeouts;
  const readyTimeoutMs = t.reproReady;
  const seed = cellSeed(c.seed, cell.id);

  await waitPodsReady(cluster, { namespace: topo.namespace, selector: `app=${topo.app}`, timeoutMs: readyTimeoutMs, min: 3 });
  const before = await readRestarts(cluster, topo.namespace, topo.decodeSelector);
  // Readiness lags an engine death by up to periodSeconds x failureThreshold; on the twin ask the engine itself.
  if (c.target === 'twin') await waitEnginesHealthy(before.pods, readyTimeoutMs, t.healthCall);

  let injections: Injection[] = [];
  if (c.target === 'twin') {
    injections = await injectForCell(cluster, c.loaded.suite, before.pods, seed);
    const set = c.touched.get(topo.namespace) ?? new Set<string>();
    for (const i of injections) set.add(i.pod);
    c.touched.set(topo.namespace, set);
    rep.log(
      injections.length
        ? `seeded on ${injections.map((i) => `${i.pod} ${JSON.stringify(i.config)}`).join('; ')}`
        : `nothing seeded for ${cell.connector}`,
    );
  }

  // the engine (undici) loads when a cell runs, not when the repro spec is listed
  const { runLoad } = await import('../../load/builtin/engine.ts');
  const cellStartedAtMs = Date.now();
  const load: LoadResult = await runLoad(cellLoadPlan(cell, seed), {
    baseUrl: c.gatewayUrl,
    ...(c.allowRemote ? { allowRemote: true } : {}),
    ...(c.signal ? { signal: c.signal } : {}),
  });
  // A dead engine shows as failed requests (500s, or timeouts when the client gives up first): look longer then.
  const anyFailure = load.records.some((r) => r.status !== 200 || r.error !== undefined);
  const { crashes, others } = await detectCrashes(cluster, {
    namespace: topo.namespace,
    selector: topo.decodeSelector,
    before: before.restarts,
    sinceMs: cellStartedAtMs,
    settleMs: anyFailure ? t.reproSettle : t.reproSettleQuiet,
    restartWaitMs: t.reproRestart,
  });
  const detectedAtMs = Date.now();
  for (const other of others) rep.log(`restart of ${other.rise.pod} without the crash signature: ${other.reason}`);

  const loadFacts = {
    requests: load.records.length,
    byStatus: load.summary.byStatus,
    errors: load.summary.errors as Record<string, number>,
  };
  const written: WrittenBundle[] = [];
  for (const [n, crash] of crashes.entries()) {
    const crashAt = crash.crashedAtMs ?? detectedAtMs;
    const events = await namespaceEvents(cluster, topo.namespace).catch(() => []);
    const epp = await eppWindow(cluster, cellStartedAtMs, crashAt + 2000);
    const input = {
      campaign: c.campaign,
      suiteFile: c.suiteFile,
      cell,
      seed: c.seed,
      cellSeed: seed,
      target: c.target,
      injected: injections.find((i) => i.pod === crash.rise.pod)?.config ?? null,
      cellStartedAtMs,
      detectedAtMs,
      crash,
      events,
      epp,
      load: loadFacts,
      clientRequestsInFlight: requestsInFlightAt(load.records, crashAt),
      cwd: c.cwd,
    };
    const bundleDir = join(c.dir, n === 0 ? cell.id : `${cell.id}-${n + 1}`);
    const files = writeBundle(bundleDir, bundleFiles(input));
    written.push({ cellId: cell.id, dir: bundleDir, files, bundle: buildBundle(input) });
    rep.log(`crash on ${crash.rise.pod} (restartCount ${crash.rise.before} -> ${crash.rise.after}): bundle ${bundleDir}`);
  }

  if (crashes.length || others.length) {
    await rep.step(`wait for ${topo.decodeSelector} Ready again`, () =>
      waitPodsReady(cluster, { namespace: topo.namespace, selector: topo.decodeSelector, timeoutMs: readyTimeoutMs }),
    );
  }

  const outcome: CellOutcome = {
    cell,
    seed,
    injected: injections.length > 0,
    requests: load.records.length,
    byStatus: load.summary.byStatus,
    errors: load.summary.errors,
    crashes: crashes.length,
    otherRestarts: others.length,
    latencyMs: { p50: Math.round(load.summary.latencyMs.p50), p95: Math.round(load.summary.latencyMs.p95) },
    bundles: written.map((b) => relative(c.dir, b.dir)),
    ...(load.incomplete ? { incomplete: `${load.incomplete.reason}, ${load.incomplete.notStarted} not started` } : {}),
  };
  rep.log(`${cell.id}: ${outcome.requests} request(s), ${outcome.crashes} crash(es), errors ${JSON.stringify(errorsByKind(load.summary))}`);
  return { outcome, bundles: written };
}

/** Twin only: GET /health on each decode pod answers 200 (the engine lives), bounded. */
async function waitEnginesHealthy(pods: readonly V1Pod[], timeoutMs: number, callMs: number): Promise<void> {
  for (const pod of pods) {
    const ip = pod.status?.podIP;
    if (!ip || !isLoopbackHost(ip)) continue;
    await waitFor({
      name: `engine of ${pod.metadata?.name} healthy (GET /health on ${ip}:${SIM_FAULTS_PORT})`,
      timeoutMs,
      timeoutName: 'reproReady',
      probe: async () => {
        const res = await fetch(`http://${ip}:${SIM_FAULTS_PORT}/health`, { signal: AbortSignal.timeout(callMs) });
        await res.arrayBuffer();
        return { done: res.status === 200, state: `HTTP ${res.status}` };
      },
    });
  }
}

async function eppWindow(cluster: Cluster, fromMs: number, toMs: number): Promise<EppWindow> {
  try {
    const sinceSeconds = Math.max(1, Math.ceil((Date.now() - fromMs) / 1000) + 5);
    const lines = await deploymentLogs(cluster, EPP_NAMESPACE, EPP_DEPLOYMENT, { sinceSeconds });
    return eppDecisionsInWindow(lines, fromMs, toMs);
  } catch (err) {
    return {
      fromMs,
      toMs,
      counts: {
        decisions: 0,
        byEndpoint: {},
        byWorkload: {},
        failures: { InferencePoolResourceExhausted: 0, failedToRunSchedulerProfile: 0 },
        skippedLines: 0,
      },
      decisionLines: [],
      unavailable: (err as Error).message.split('\n')[0] ?? 'unreadable',
    };
  }
}
