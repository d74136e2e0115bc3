import * as path from 'node:path';
import { UserError } from '../../core/errors.ts';
import { parseDurationMs } from '../duration.ts';
import { assertLoadTarget } from '../loopback.ts';
import type { LoadResult, RequestRecord, ThresholdResult } from '../result.ts';
import { summarize } from '../summary.ts';
import { bundleK6Script, RefusedScript, RUNTIME_DIR } from './bundle.ts';
import { runExecutor, type ExecutorHost, type ScenarioState } from './executors.ts';
import { httpSide } from './http-main.ts';
import { wsSide } from './ws-main.ts';
import { MetricStore } from './metrics-store.ts';
import { OptionsError, planScenarios, plannedVUs, type ScenarioPlan } from './options.ts';
import type { HttpCall, InitInfo, Sample, ScriptError } from './protocol.ts';
import { isEqualSegment, iterationInTest, segmentPlan, WHOLE_TEST, type ExecutionSegment } from './segment.ts';
import { aggregate, judge, parseThresholds, selectValues, validateThreshold, type ParsedThreshold } from './thresholds.ts';
import { InitError, readInit, Vu, type CallResult, type WorkerSetup } from './vu-pool.ts';

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

async function runBundled(
  opts: K6ScriptRunOptions,
  setup: WorkerSetup,
  scriptName: string,
  log: (l: string) => void,
): Promise<K6RunReport> {
  let info: InitInfo;
  try {
    info = await readInit(setup);
  } catch (err) {
    if (err instanceof InitError) {
      const e = err.scriptError;
      if (e.message.startsWith('unsupported by the built-in k6 runtime')) throw refused(scriptName, e.message, err);
      throw new UserError(`k6 script ${scriptName}: init: ${e.message}${e.at ? ` ${e.at}` : ''}`, 107, { cause: err });
    }
    throw refused(scriptName, `init: ${(err as Error).message}`, err);
  }
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
  const onSample = opts.onSample;
  // one time stamp per batch a VU sends: an HTTP request's samples (http_reqs, http_req_duration, ...) share
  // it, as in k6, where the --out json reader pairs them by time and tags (load/k6/output.ts)
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
  // k6 emits samples as they happen: those of an iteration cut by gracefulStop/abort still count
  setup.onSamples = addBatch;
  for (const [name, d] of Object.entries(info.metrics)) metrics.declare(name, d.type, d.time);
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

  const records: RequestRecord[] = [];
  const http = httpSide(records, !!opts.allowRemote);
  const ws = wsSide(!!opts.allowRemote);
  const vus: Vu[] = [];
  let nextVuId = 1;
  const onHttp = (call: HttpCall) => http.send(call);
  const spawn = async (id: number): Promise<Vu> => {
    const vu = new Vu(setup, id, onHttp, (cmd, reply) => ws.handle(id, cmd, reply));
    vus.push(vu);
    try {
      await vu.ready;
    } catch (err) {
      const e = err instanceof InitError ? err.scriptError : { message: (err as Error).message };
      throw new UserError(`k6 script ${scriptName}: VU ${id} init: ${e.message}${e.at ? ` ${e.at}` : ''}`, 107, { cause: err });
    }
    return vu;
  };

  const counts = { complete: 0, interrupted: 0, dropped: 0 };
  const errors = new Map<string, { message: string; at?: string; count: number }>();
  let abort: K6Abort | undefined;
  let abortResolve: () => void = () => undefined;
  const abortSignal = new Promise<void>((r) => (abortResolve = r));
  const doAbort = (a: K6Abort): void => {
    if (abort) return;
    abort = a;
    abortResolve();
  };
  const recordError = (e: ScriptError, plan?: ScenarioPlan): void => {
    const key = `${e.message}\n${e.at ?? ''}`;
    const seen = errors.get(key);
    if (seen) seen.count++;
    else {
      errors.set(key, { message: e.message, ...(e.at ? { at: e.at } : {}), count: 1 });
      log(errorLine(e, plan));
    }
    if (e.message.startsWith('unsupported by the built-in k6 runtime')) doAbort({ kind: 'refused', message: e.message });
    else if (e.abort) doAbort({ kind: 'script', message: e.message });
  };
  const absorb = (r: CallResult, plan?: ScenarioPlan): void => {
    addBatch(r.samples);
    const refusal = http.refused ?? ws.refused;
    if (refusal) doAbort({ kind: 'refused', message: refusal });
    if (r.error) recordError(r.error, plan);
  };

  // Pre-initialize the VUs every scenario plans before the test starts (k6's init phase): VU start-up does
  // not eat into a scenario's duration.
  const preInit = new Map<string, Vu[]>();
  const needsSetupVu = ['setup', 'teardown', 'handleSummary'].some((f) => info.exports.includes(f));
  let setupVu: Vu | undefined;
  try {
    if (needsSetupVu) setupVu = await spawn(0);
    for (const p of plans) preInit.set(p.name, await Promise.all(Array.from({ length: plannedVUs(p) }, () => spawn(nextVuId++))));
  } catch (err) {
    await Promise.all(vus.map((v) => v.kill()));
    await http.close();
    ws.close();
    throw err;
  }

  const startedAt = new Date().toISOString();
  const testStart = performance.now();
  const testStartEpoch = Date.now();
  const active = new Map<string, number>();
  const emitVus = (): void => {
    const n = [...active.values()].reduce((a, b) => a + b, 0);
    metrics.add({ metric: 'vus', type: 'gauge', value: n, tags: {} });
    metrics.add({ metric: 'vus_max', type: 'gauge', value: vus.filter((v) => !v.dead && v !== setupVu).length, tags: {} });
  };
  const runSeconds = (): number => (performance.now() - testStart) / 1000;

  // thresholds during the run, with empty sinks skipped (engine.go evaluateThresholds(ignoreEmptySinks=true))
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
        doAbort({
          kind: 'thresholds',
          message: `thresholds on metrics '${t.metric}' were crossed; at least one has abortOnFail enabled, stopping test prematurely`,
        });
      }
    }
  }, 1000);
  const onSignal = (): void => doAbort({ kind: 'signal', message: 'the run was stopped' });
  if (opts.signal?.aborted) onSignal();
  opts.signal?.addEventListener('abort', onSignal);
  let hardTimer: NodeJS.Timeout | undefined;
  if (opts.maxDurationMs !== undefined)
    hardTimer = setTimeout(
      () => doAbort({ kind: 'maxDuration', message: `the run reached its hard bound of ${opts.maxDurationMs} ms` }),
      opts.maxDurationMs,
    );

  let setupData: string | undefined;
  const exportsFn = (n: string) => info.exports.includes(n);
  try {
    if (exportsFn('setup') && options['noSetup'] !== true) {
      const r = await (setupVu as Vu).call('setup', undefined);
      absorb(r);
      if (r.error && !abort) {
        doAbort({ kind: 'script', message: `setup: ${r.error.message}` });
      }
      setupData = r.result;
    }
    const host: ExecutorHost = {
      get aborted() {
        return abort !== undefined;
      },
      abortSignal,
      async takeVu(plan) {
        const pool = preInit.get(plan.name) ?? [];
        const v = pool.shift();
        if (v && !v.dead) return v;
        return spawn(nextVuId++);
      },
      async iterate(vu: Vu, plan: ScenarioPlan, st: ScenarioState) {
        const n = st.started++;
        st.running.add(vu);
        const r = await vu.iterate(
          {
            scenario: plan.name,
            executor: plan.executor,
            exec: plan.exec,
            env: plan.env,
            tags: { ...stringTags(options['tags']), ...plan.tags },
            scenarioStartMs: st.startEpochMs,
            testStartMs: testStartEpoch,
            iterationInScenario: n,
            iterationInTest: iterationInTest(n, segment),
            progress: st.progress(),
          },
          setupData,
        );
        st.running.delete(vu);
        if (r.interrupted) {
          counts.interrupted++;
          return;
        }
        counts.complete++;
        absorb(r, plan);
      },
      dropped(plan) {
        counts.dropped++;
        metrics.add({ metric: 'dropped_iterations', type: 'counter', value: 1, tags: { scenario: plan.name, ...plan.tags } });
      },
      setActive(plan, n) {
        active.set(plan.name, n);
      },
      segment,
    };
    if (!abort) {
      emitVus();
      await Promise.all(
        plans.map(async (p) => {
          if (p.startTimeMs > 0) {
            let timer: NodeJS.Timeout | undefined;
            await Promise.race([new Promise<void>((r) => (timer = setTimeout(r, p.startTimeMs))), abortSignal]);
            clearTimeout(timer);
            if (abort) return;
          }
          await runExecutor(host, p);
        }),
      );
    }
  } finally {
    clearInterval(tick);
    clearTimeout(hardTimer);
    opts.signal?.removeEventListener('abort', onSignal);
  }
  const durationMs = performance.now() - testStart;
  // every VU but the setup one is done: stop them
  await Promise.all(vus.filter((v) => v !== setupVu).map((v) => v.kill()));
  if (exportsFn('teardown') && options['noTeardown'] !== true && abort?.kind !== 'refused' && setupVu && !setupVu.dead) {
    absorb(await setupVu.call('teardown', setupData));
  }

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
    summary: summarize(records, { durationMs, ...(counts.dropped > 0 ? { dropped: counts.dropped } : {}) }),
    thresholds: finalThresholds.map(({ metric, expression, ok }) => ({ metric, expression, ok })),
  };
  if (abort && abort.kind !== 'refused') {
    result.incomplete = { reason: abort.kind === 'maxDuration' ? 'maxDuration' : 'aborted', notStarted: 0 };
  }
  const report: K6RunReport = {
    result,
    options,
    metrics,
    thresholds: finalThresholds,
    iterations: counts,
    errors: [...errors.values()],
    ...(abort ? { abort } : {}),
    durationMs,
    ...(setupData !== undefined ? { setupData } : {}),
  };
  if (exportsFn('handleSummary') && abort?.kind !== 'refused' && setupVu && !setupVu.dead) {
    const { handleSummaryData } = await import('./summary.ts');
    const r = await setupVu.call('handleSummary', JSON.stringify(handleSummaryData(report)));
    if (r.error) recordError(r.error);
    else if (r.result !== undefined) {
      const out = JSON.parse(r.result) as Record<string, unknown>;
      report.handleSummary = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
    }
  }
  await setupVu?.kill();
  await http.close();
  ws.close();
  if (abort?.kind === 'refused') throw refused(scriptName, abort.message);
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
