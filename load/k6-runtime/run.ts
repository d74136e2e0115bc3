import * as path from 'node:path';
import { UserError } from '../../core/errors.ts';
import { parseDurationMs } from '../duration.ts';
import { assertLoadTarget } from '../loopback.ts';
import type { LoadResult, RequestRecord, ThresholdResult } from '../result.ts';
import { summarize } from '../summary.ts';
import { bundleK6Script, RefusedScript, RUNTIME_DIR } from './bundle.ts';
import { runExecutor, type ExecutorHost, type ScenarioState } from './executors.ts';
import { httpSide, type HttpSide } from './http-main.ts';
import { MetricStore } from './metrics-store.ts';
import { OptionsError, planScenarios, plannedVUs, type ScenarioPlan } from './options.ts';
import type { HttpCall, InitInfo, Sample, ScriptError } from './protocol.ts';
import { isEqualSegment, iterationInTest, segmentPlan, WHOLE_TEST, type ExecutionSegment } from './segment.ts';
import { aggregate, judge, parseThresholds, selectValues, validateThreshold, type ParsedThreshold } from './thresholds.ts';
import { InitError, readInit, Vu, type CallResult, type WorkerSetup } from './vu-pool.ts';
import { wsSide, type WsSide } from './ws-main.ts';

export interface K6ScriptRunOptions {
  script: string;
  /** `__ENV` of the script (like `k6 run -e K=V`). */
  env?: Record<string, string>;
  /** Sets `GATEWAY` in `__ENV` after the loopback check. */
  gatewayUrl?: string;
  allowRemote?: boolean;
  /** Hard bound on the run; in-flight iterations are abandoned after it. */
  maxDurationMs?: number;
  /** k6's `--vus`, `--duration`, `--iterations` (they override the script's execution options, as in k6). */
  overrides?: { vus?: number; duration?: string; iterations?: number };
  /** Stops the run (as Ctrl-C stops k6): running iterations are interrupted; the result is marked incomplete. */
  signal?: AbortSignal;
  /** Log lines as k6 prints them (console output of the script, iteration errors, warnings); default stderr. */
  log?: (line: string) => void;
  /** Every metric sample with its tags and the time it was taken, as k6 writes them to `--out json`. */
  onSample?: (s: TaggedSample) => void;
  /** k6's `--execution-segment` for equal segments (load/k6-runtime/segment.ts); default the whole test. */
  executionSegment?: ExecutionSegment;
}

export interface TaggedSample extends Sample {
  /** Epoch ms when the runtime received the sample (an iteration's samples arrive when it ends). */
  timeMs: number;
}

/** Why a run stopped early. */
export interface K6Abort {
  kind: 'thresholds' | 'script' | 'refused' | 'maxDuration' | 'signal';
  message: string;
}

/** Everything `k6 run` reports: the result model plus k6's own counters, metrics and logs. */
export interface K6RunReport {
  result: LoadResult;
  options: Record<string, unknown>;
  metrics: MetricStore;
  thresholds: (ThresholdResult & { parsed: ParsedThreshold })[];
  iterations: { complete: number; interrupted: number; dropped: number };
  /** Iteration errors by message and script location, with how often each happened. */
  errors: { message: string; at?: string; count: number }[];
  abort?: K6Abort;
  durationMs: number;
  /** handleSummary(data) output (path or stdout/stderr → content), when the script exports it. */
  handleSummary?: Record<string, string>;
  setupData?: string;
}

/** Warnings the runtime itself logs (as k6 does), as opposed to the script's console output. */
const RUNTIME_WARNINGS =
  /^(Request Failed|Stopped after \d+ redirects|'.*' is an invalid value for metric|no value was provided for metric|unknown http params key)/;

/** k6's thresholdsRate (internal/metrics/engine/engine.go, k6 v2.2.0): thresholds are judged every 2 s during the run. */
const THRESHOLDS_TICK_MS = 2000;

function refused(script: string, message: string, cause?: unknown): UserError {
  const err = new UserError(`k6 script ${script}: ${message}`, 2);
  if (cause !== undefined) (err as { cause?: unknown }).cause = cause;
  return err;
}

/** More VUs than this would mean as many worker threads: refused rather than exhausting the machine. */
export const MAX_VUS = 300;

export function applyOverrides(options: Record<string, unknown>, o: K6ScriptRunOptions['overrides']): Record<string, unknown> {
  if (!o) return options;
  const out = { ...options };
  if (o.duration !== undefined || o.iterations !== undefined) {
    // k6: execution shortcuts from a higher-priority source replace the script's scenarios/stages.
    for (const k of ['scenarios', 'stages', 'duration', 'iterations']) delete out[k];
    if (o.duration !== undefined) out['duration'] = o.duration;
    if (o.iterations !== undefined) out['iterations'] = o.iterations;
  }
  if (o.vus !== undefined) out['vus'] = o.vus;
  return out;
}

function errorLine(e: ScriptError, plan?: ScenarioPlan): string {
  const where = e.at ? `\n\t${e.at}` : '';
  const fields = plan ? `  executor=${plan.executor} scenario=${plan.name}${e.at ? ' source=stacktrace' : ''}` : '';
  return `ERRO ${e.message}${where}${fields}`;
}

/**
 * Run a k6 script without k6, as `k6 run` would: each VU in a worker thread (synchronous HTTP to the main
 * thread, undici), k6's six executors, setup/teardown, thresholds judged during the run (abortOnFail) and at
 * the end, handleSummary. Anything it does not implement is refused before the first request, or at its
 * first use (the run then stops and is refused).
 */
export async function runK6ScriptReport(opts: K6ScriptRunOptions): Promise<K6RunReport> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const scriptName = path.relative(process.cwd(), opts.script) || opts.script;
  const env = { ...(opts.env ?? {}) };
  if (opts.gatewayUrl !== undefined) {
    assertLoadTarget(opts.gatewayUrl, opts.allowRemote);
    env['GATEWAY'] = opts.gatewayUrl;
  }
  let bundle;
  try {
    bundle = await bundleK6Script(opts.script);
  } catch (err) {
    if (err instanceof RefusedScript) throw new UserError(err.message, 2);
    throw err;
  }
  const setup: WorkerSetup = {
    bundleFile: bundle.file,
    env,
    scriptDir: path.dirname(path.resolve(opts.script)),
    runtimeDir: RUNTIME_DIR,
    onLog: (level, text) => {
      const tag = { info: 'INFO', warn: 'WARN', error: 'ERRO', debug: 'DEBU' }[level] ?? 'INFO';
      log(RUNTIME_WARNINGS.test(text) ? `${tag} ${text}` : `${tag} ${text} source=console`);
    },
  };
  try {
    return await runBundled(opts, setup, scriptName, log);
  } finally {
    bundle.cleanup();
  }
}

/** Errors, iteration counts and the abort of one run: each distinct error logged once and counted; the first abort wins. */
class RunControl {
  abort: K6Abort | undefined;
  readonly counts = { complete: 0, interrupted: 0, dropped: 0 };
  readonly errors = new Map<string, { message: string; at?: string; count: number }>();
  /** Resolves at the abort. */
  readonly aborted: Promise<void>;
  private resolveAborted: () => void = () => undefined;

  constructor(
    private readonly log: (l: string) => void,
    private readonly addBatch: (samples: readonly Sample[]) => void,
    /** A refusal the main thread's HTTP or WebSocket side made (non-loopback target). */
    private readonly ioRefusal: () => string | undefined,
  ) {
    this.aborted = new Promise<void>((r) => (this.resolveAborted = r));
  }

  stop(a: K6Abort): void {
    if (this.abort) return;
    this.abort = a;
    this.resolveAborted();
  }

  recordError(e: ScriptError, plan?: ScenarioPlan): void {
    const key = `${e.message}\n${e.at ?? ''}`;
    const seen = this.errors.get(key);
    if (seen) seen.count++;
    else {
      this.errors.set(key, { message: e.message, ...(e.at ? { at: e.at } : {}), count: 1 });
      this.log(errorLine(e, plan));
    }
    if (e.message.startsWith('unsupported by the built-in k6 runtime')) this.stop({ kind: 'refused', message: e.message });
    else if (e.abort) this.stop({ kind: 'script', message: e.message });
  }

  /** A finished call's samples, refusal and error. */
  absorb(r: CallResult, plan?: ScenarioPlan): void {
    this.addBatch(r.samples);
    const refusal = this.ioRefusal();
    if (refusal) this.stop({ kind: 'refused', message: refusal });
    if (r.error) this.recordError(r.error, plan);
  }
}

/** The init context, once: options, exports, declared metrics (an exception in it: exit 107). */
async function initContext(setup: WorkerSetup, scriptName: string): Promise<InitInfo> {
  try {
    return await readInit(setup);
  } catch (err) {
    if (err instanceof InitError) {
      const e = err.scriptError;
      if (e.message.startsWith('unsupported by the built-in k6 runtime')) throw refused(scriptName, e.message, err);
      throw new UserError(`k6 script ${scriptName}: init: ${e.message}${e.at ? ` ${e.at}` : ''}`, 107, { cause: err });
    }
    throw refused(scriptName, `init: ${(err as Error).message}`, err);
  }
}

/** The options after CLI overrides, this instance's segment and the scenarios it runs (invalid ones: exit 104). */
function planRun(
  info: InitInfo,
  opts: K6ScriptRunOptions,
  scriptName: string,
): { options: Record<string, unknown>; segment: ExecutionSegment; plans: ScenarioPlan[] } {
  const options = applyOverrides(info.options, opts.overrides);
  const segment = opts.executionSegment ?? WHOLE_TEST;
  if (!isEqualSegment(segment))
    throw new UserError(
      `k6 script ${scriptName}: execution segment ${segment.index}/${segment.count}: only equal segments i/n:(i+1)/n are supported`,
      2,
    );
  let plans: ScenarioPlan[];
  try {
    plans = planScenarios(options, info.exports).map((p) => segmentPlan(p, segment));
  } catch (err) {
    if (err instanceof OptionsError)
      throw new UserError(`k6 script ${scriptName}: ${err.message}`, err.message.startsWith('unsupported') ? 2 : 104);
    throw err;
  }
  const totalVus = plans.reduce((n, p) => n + Math.max(plannedVUs(p), p.maxVUs), 0);
  if (totalVus > MAX_VUS)
    throw new UserError(
      `k6 script ${scriptName}: unsupported by the built-in k6 runtime: ${totalVus} VUs (it runs at most ${MAX_VUS}, one worker thread each; use k6) (k6 docs: Options, vus)`,
      2,
    );
  return { options, segment, plans };
}

/**
 * The run's metric store. A VU's batch of samples shares one time stamp: an HTTP request's samples
 * (http_reqs, http_req_duration, ...) share it, as in k6, where the --out json reader pairs them by time and
 * tags (load/k6/output.ts).
 */
function sampleSink(onSample: K6ScriptRunOptions['onSample']): { metrics: MetricStore; addBatch(samples: readonly Sample[]): void } {
  let batchMs: number | undefined;
  const metrics = new MetricStore(onSample ? (smp) => onSample({ ...smp, timeMs: batchMs ?? Date.now() }) : undefined);
  const addBatch = (samples: readonly Sample[]): void => {
    batchMs = Date.now();
    try {
      for (const smp of samples) metrics.add(smp);
    } finally {
      batchMs = undefined;
    }
  };
  return { metrics, addBatch };
}

/** options.thresholds parsed and checked against the metrics' types before the run (exit 104). */
function runThresholds(options: Record<string, unknown>, metrics: MetricStore, scriptName: string): ParsedThreshold[] {
  let thresholds: ParsedThreshold[];
  try {
    thresholds = parseThresholds((options['thresholds'] ?? {}) as Record<string, unknown>, (v) => parseDurationMs(v));
  } catch (err) {
    throw new UserError(`k6 script ${scriptName}: ${(err as Error).message}`, 104);
  }
  for (const t of thresholds) {
    const problem = validateThreshold(t, metrics.declared.get(t.base)?.type);
    if (problem) throw new UserError(`k6 script ${scriptName}: ${problem}`, 104);
  }
  return thresholds;
}

/** The run's VUs: initialized on demand; those the scenarios plan, before the test starts (k6's init phase). */
class VuFleet {
  readonly all: Vu[] = [];
  /** VU 0, for setup/teardown/handleSummary. */
  setupVu: Vu | undefined;
  private nextId = 1;
  private readonly preInit = new Map<string, Vu[]>();

  constructor(
    private readonly setup: WorkerSetup,
    private readonly scriptName: string,
    private readonly io: { http: HttpSide; ws: WsSide },
  ) {}

  async spawn(id = this.nextId++): Promise<Vu> {
    const vu = new Vu(
      this.setup,
      id,
      (call: HttpCall) => this.io.http.send(call),
      (cmd, reply) => this.io.ws.handle(id, cmd, reply),
    );
    this.all.push(vu);
    try {
      await vu.ready;
    } catch (err) {
      const e = err instanceof InitError ? err.scriptError : { message: (err as Error).message };
      throw new UserError(`k6 script ${this.scriptName}: VU ${id} init: ${e.message}${e.at ? ` ${e.at}` : ''}`, 107, { cause: err });
    }
    return vu;
  }

  /** VU 0 when the script needs it, then every scenario's planned VUs; on a failure every VU is stopped. */
  async preInitialize(plans: ScenarioPlan[], needsSetupVu: boolean): Promise<void> {
    try {
      if (needsSetupVu) this.setupVu = await this.spawn(0);
      for (const p of plans) this.preInit.set(p.name, await Promise.all(Array.from({ length: plannedVUs(p) }, () => this.spawn())));
    } catch (err) {
      await Promise.all(this.all.map((v) => v.kill()));
      throw err;
    }
  }

  /** A pre-initialized VU of the scenario, else a new one (initialized now, as k6 does mid-test). */
  async take(plan: ScenarioPlan): Promise<Vu> {
    const v = this.preInit.get(plan.name)?.shift();
    if (v && !v.dead) return v;
    return this.spawn();
  }

  /** VUs alive, VU 0 left out (vus_max). */
  get alive(): number {
    return this.all.filter((v) => !v.dead && v !== this.setupVu).length;
  }

  async stopScenarioVus(): Promise<void> {
    await Promise.all(this.all.filter((v) => v !== this.setupVu).map((v) => v.kill()));
  }

  /** VU 0 when it is there and alive. */
  get liveSetupVu(): Vu | undefined {
    return this.setupVu && !this.setupVu.dead ? this.setupVu : undefined;
  }
}

/**
 * Every second: vus and vus_max; every 2 s the abortOnFail thresholds, empty sinks skipped (engine.go
 * evaluateThresholds(ignoreEmptySinks=true)). Returns the function that stops it.
 */
function startTicker(
  ctl: RunControl,
  thresholds: ParsedThreshold[],
  metrics: MetricStore,
  emitVus: () => void,
  testStart: number,
): () => void {
  let lastEval = 0;
  const tick = setInterval(() => {
    emitVus();
    const elapsed = performance.now() - testStart;
    if (elapsed - lastEval < THRESHOLDS_TICK_MS) return;
    lastEval = elapsed;
    for (const t of thresholds) {
      if (!t.abortOnFail) continue;
      const series = metrics.series.get(t.base);
      if (selectValues(series, t.filter).length === 0) continue;
      const ok = judge(t, aggregate(series, t.agg, t.pct, elapsed / 1000, t.filter));
      if (!ok && (t.delayAbortEvalMs === undefined || elapsed > t.delayAbortEvalMs)) {
        ctl.stop({
          kind: 'thresholds',
          message: `thresholds on metrics '${t.metric}' were crossed; at least one has abortOnFail enabled, stopping test prematurely`,
        });
      }
    }
  }, 1000);
  return () => clearInterval(tick);
}

/** The caller's signal (as Ctrl-C stops k6) and the hard bound stop the run. Returns the cleanup. */
function watchStops(opts: K6ScriptRunOptions, ctl: RunControl): () => void {
  const onSignal = (): void => ctl.stop({ kind: 'signal', message: 'the run was stopped' });
  if (opts.signal?.aborted) onSignal();
  opts.signal?.addEventListener('abort', onSignal);
  let hardTimer: NodeJS.Timeout | undefined;
  if (opts.maxDurationMs !== undefined)
    hardTimer = setTimeout(
      () => ctl.stop({ kind: 'maxDuration', message: `the run reached its hard bound of ${opts.maxDurationMs} ms` }),
      opts.maxDurationMs,
    );
  return () => {
    clearTimeout(hardTimer);
    opts.signal?.removeEventListener('abort', onSignal);
  };
}

/** setup() on VU 0 unless noSetup: its result is the data every iteration gets; an exception aborts the run. */
async function runSetup(fleet: VuFleet, info: InitInfo, options: Record<string, unknown>, ctl: RunControl): Promise<string | undefined> {
  if (!info.exports.includes('setup') || options['noSetup'] === true) return undefined;
  const r = await (fleet.setupVu as Vu).call('setup', undefined);
  ctl.absorb(r);
  if (r.error && !ctl.abort) ctl.stop({ kind: 'script', message: `setup: ${r.error.message}` });
  return r.result;
}

interface TestClock {
  startedAt: string;
  /** performance.now() and epoch ms at the test start. */
  start: number;
  startEpoch: number;
}

/** What the executors call back into: VUs, iterations (with their k6/execution context), drops, active VUs. */
function executorHost(
  ctl: RunControl,
  fleet: VuFleet,
  run: { options: Record<string, unknown>; segment: ExecutionSegment; setupData: string | undefined; clock: TestClock },
  metrics: MetricStore,
  active: Map<string, number>,
): ExecutorHost {
  return {
    get aborted() {
      return ctl.abort !== undefined;
    },
    abortSignal: ctl.aborted,
    takeVu: (plan) => fleet.take(plan),
    async iterate(vu: Vu, plan: ScenarioPlan, st: ScenarioState) {
      const n = st.started++;
      st.running.add(vu);
      const r = await vu.iterate(
        {
          scenario: plan.name,
          executor: plan.executor,
          exec: plan.exec,
          env: plan.env,
          tags: { ...stringTags(run.options['tags']), ...plan.tags },
          scenarioStartMs: st.startEpochMs,
          testStartMs: run.clock.startEpoch,
          iterationInScenario: n,
          iterationInTest: iterationInTest(n, run.segment),
          progress: st.progress(),
        },
        run.setupData,
      );
      st.running.delete(vu);
      if (r.interrupted) {
        ctl.counts.interrupted++;
        return;
      }
      ctl.counts.complete++;
      ctl.absorb(r, plan);
    },
    dropped(plan) {
      ctl.counts.dropped++;
      metrics.add({ metric: 'dropped_iterations', type: 'counter', value: 1, tags: { scenario: plan.name, ...plan.tags } });
    },
    setActive(plan, n) {
      active.set(plan.name, n);
    },
    segment: run.segment,
  };
}

/** Every scenario from its startTime, all at once, until each ends or the run is aborted. */
async function runScenarios(plans: ScenarioPlan[], host: ExecutorHost, ctl: RunControl): Promise<void> {
  await Promise.all(
    plans.map(async (p) => {
      if (p.startTimeMs > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([new Promise<void>((r) => (timer = setTimeout(r, p.startTimeMs))), ctl.aborted]);
        clearTimeout(timer);
        if (ctl.abort) return;
      }
      await runExecutor(host, p);
    }),
  );
}

/** The thresholds' final verdicts and the result model (requests in start order). */
function finalResult(
  ctl: RunControl,
  thresholds: ParsedThreshold[],
  metrics: MetricStore,
  records: RequestRecord[],
  startedAt: string,
  durationMs: number,
): { result: LoadResult; finalThresholds: K6RunReport['thresholds'] } {
  const finalThresholds = thresholds.map((t) => ({
    metric: t.metric,
    expression: t.expression,
    ok: judge(t, aggregate(metrics.series.get(t.base), t.agg, t.pct, durationMs / 1000, t.filter)),
    parsed: t,
  }));
  records.sort((a, b) => a.startMs - b.startMs);
  records.forEach((r, i) => (r.index = i));
  const result: LoadResult = {
    engine: 'k6-script',
    startedAt,
    records,
    summary: summarize(records, { durationMs, ...(ctl.counts.dropped > 0 ? { dropped: ctl.counts.dropped } : {}) }),
    thresholds: finalThresholds.map(({ metric, expression, ok }) => ({ metric, expression, ok })),
  };
  if (ctl.abort && ctl.abort.kind !== 'refused') {
    result.incomplete = { reason: ctl.abort.kind === 'maxDuration' ? 'maxDuration' : 'aborted', notStarted: 0 };
  }
  return { result, finalThresholds };
}

/** handleSummary(data) on VU 0: the files/streams it returns, or its error counted. */
async function runHandleSummary(setupVu: Vu, report: K6RunReport, ctl: RunControl): Promise<void> {
  const { handleSummaryData } = await import('./summary.ts');
  const r = await setupVu.call('handleSummary', JSON.stringify(handleSummaryData(report)));
  if (r.error) ctl.recordError(r.error);
  else if (r.result !== undefined) {
    const out = JSON.parse(r.result) as Record<string, unknown>;
    report.handleSummary = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
  }
}

/**
 * The test: vus and threshold ticks, the stop watchers, setup(), then every scenario; returns setup's data,
 * the test's clock and its duration.
 */
async function runTest(
  opts: K6ScriptRunOptions,
  ctl: RunControl,
  fleet: VuFleet,
  run: {
    info: InitInfo;
    options: Record<string, unknown>;
    segment: ExecutionSegment;
    plans: ScenarioPlan[];
    thresholds: ParsedThreshold[];
  },
  metrics: MetricStore,
): Promise<{ clock: TestClock; setupData: string | undefined; durationMs: number }> {
  const { info, options, segment, plans, thresholds } = run;
  const clock: TestClock = { startedAt: new Date().toISOString(), start: performance.now(), startEpoch: Date.now() };
  const active = new Map<string, number>();
  const emitVus = (): void => {
    metrics.add({ metric: 'vus', type: 'gauge', value: [...active.values()].reduce((a, b) => a + b, 0), tags: {} });
    metrics.add({ metric: 'vus_max', type: 'gauge', value: fleet.alive, tags: {} });
  };
  const stopTicker = startTicker(ctl, thresholds, metrics, emitVus, clock.start);
  const unwatch = watchStops(opts, ctl);
  let setupData: string | undefined;
  try {
    setupData = await runSetup(fleet, info, options, ctl);
    if (!ctl.abort) {
      emitVus();
      await runScenarios(plans, executorHost(ctl, fleet, { options, segment, setupData, clock }, metrics, active), ctl);
    }
  } finally {
    stopTicker();
    unwatch();
  }
  return { clock, setupData, durationMs: performance.now() - clock.start };
}

/** k6's report of the run: the result model, the final threshold verdicts, counts, errors, the abort. */
function buildReport(
  ctl: RunControl,
  run: {
    thresholds: ParsedThreshold[];
    metrics: MetricStore;
    records: RequestRecord[];
    options: Record<string, unknown>;
    clock: TestClock;
    durationMs: number;
    setupData: string | undefined;
  },
): K6RunReport {
  const { metrics, options, durationMs, setupData } = run;
  const { result, finalThresholds } = finalResult(ctl, run.thresholds, metrics, run.records, run.clock.startedAt, durationMs);
  return {
    result,
    options,
    metrics,
    thresholds: finalThresholds,
    iterations: ctl.counts,
    errors: [...ctl.errors.values()],
    ...(ctl.abort ? { abort: ctl.abort } : {}),
    durationMs,
    ...(setupData !== undefined ? { setupData } : {}),
  };
}

async function runBundled(
  opts: K6ScriptRunOptions,
  setup: WorkerSetup,
  scriptName: string,
  log: (l: string) => void,
): Promise<K6RunReport> {
  const info = await initContext(setup, scriptName);
  const { options, segment, plans } = planRun(info, opts, scriptName);
  const { metrics, addBatch } = sampleSink(opts.onSample);
  // k6 emits samples as they happen: those of an iteration cut by gracefulStop/abort still count
  setup.onSamples = addBatch;
  for (const [name, d] of Object.entries(info.metrics)) metrics.declare(name, d.type, d.time);
  const thresholds = runThresholds(options, metrics, scriptName);

  const records: RequestRecord[] = [];
  const io = { http: httpSide(records, !!opts.allowRemote), ws: wsSide(!!opts.allowRemote) };
  const closeIo = async (): Promise<void> => {
    await io.http.close();
    io.ws.close();
  };
  const ctl = new RunControl(log, addBatch, () => io.http.refused ?? io.ws.refused);
  const fleet = new VuFleet(setup, scriptName, io);
  const exportsFn = (n: string): boolean => info.exports.includes(n);
  try {
    await fleet.preInitialize(plans, ['setup', 'teardown', 'handleSummary'].some(exportsFn));
  } catch (err) {
    await closeIo();
    throw err;
  }

  const { clock, setupData, durationMs } = await runTest(opts, ctl, fleet, { info, options, segment, plans, thresholds }, metrics);
  await fleet.stopScenarioVus();
  const refusedRun = ctl.abort?.kind === 'refused';
  if (exportsFn('teardown') && options['noTeardown'] !== true && !refusedRun && fleet.liveSetupVu) {
    ctl.absorb(await fleet.liveSetupVu.call('teardown', setupData));
  }

  const report = buildReport(ctl, { thresholds, metrics, records, options, clock, durationMs, setupData });
  const summaryVu = fleet.liveSetupVu;
  if (exportsFn('handleSummary') && !refusedRun && summaryVu) await runHandleSummary(summaryVu, report, ctl);
  await fleet.setupVu?.kill();
  await closeIo();
  if (ctl.abort?.kind === 'refused') throw refused(scriptName, ctl.abort.message);
  return report;
}

function stringTags(v: unknown): Record<string, string> {
  if (v === null || typeof v !== 'object') return {};
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)]));
}

/**
 * The runtime as a load engine (result engine `k6-script`): the same run as `runK6ScriptReport`, reporting
 * the result model. A refused script throws a UserError naming the feature.
 */
export async function runK6Script(opts: K6ScriptRunOptions): Promise<LoadResult> {
  return (await runK6ScriptReport(opts)).result;
}
