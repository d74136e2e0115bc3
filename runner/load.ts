import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runLoad } from '../load/builtin/engine.ts';
import { judgeThresholds } from '../load/builtin/thresholds.ts';
import type { Cluster } from '../cluster/driver.ts';
import { consoleProgress, type LoadProgress } from '../load/progress.ts';
import { fromSuiteLoad, type LoadEngineName } from '../load/plan.ts';
import { writeK6Script } from '../load/k6-script/generate.ts';
import type { LoadResult } from '../load/result.ts';
import { formatDuration } from '../suites/durations.ts';
import type { Suite } from '../suites/schema.ts';
import { redact } from '../core/redact.ts';

export interface SuiteLoadOptions {
  gatewayUrl: string;
  signal?: AbortSignal;
  /** A real cluster's gateway is not on loopback: the target decides whether that is allowed. */
  allowRemote?: boolean;
  /** engine k6-operator: the cluster the TestRun goes to. */
  cluster?: Cluster;
  /**
   * engine k6-operator: the gateway as runner pods inside the cluster reach it (default: gatewayUrl, right on
   * the twin; on a cluster e.g. the gateway Service's in-cluster address).
   */
  inClusterGatewayUrl?: string;
  /** engine k6-operator: the namespace of its ConfigMap and TestRun (spec.target.loadNamespace, guarded). */
  loadNamespace?: string;
  /** Progress of the built-in engine (done counts), e.g. for faults fired after N requests. */
  onProgress?: (p: LoadProgress) => void;
  /**
   * Called once when the load really begins: at once for the built-in engine and k6 (a local process), when the
   * TestRun reaches stage `started` for k6-operator (after its initializer and starter). Faults' `at:` counts from here.
   */
  onStarted?: () => void;
  /** Names the generated k6 script (engines k6 / k6-operator on a suite without `load.script`). */
  suiteName?: string;
  /** `--engine` (the `engine` option fixture): overrides the suite's engine. */
  engine?: LoadEngineName;
  /** Attaches the generated k6 script to the report, so a user can rerun it with `k6 run`. */
  attach?: (name: string, body: string, contentType: string) => Promise<void>;
}

type LoadSpec = NonNullable<Suite['spec']['load']>;

// Each engine loads when a load uses it: the built-in engine (the default) is a static import; the k6 runner
// (execa), the built-in k6 runtime (ws, its modules) and k6-operator's runner load only for their engine, not in
// every run of a declarative suite (execa and ws alone load in ~0.3 s of CPU in plain Node).
const runK6: typeof import('../load/k6/runner.ts').runK6 = async (o) => (await import('../load/k6/runner.ts')).runK6(o);
const runK6Operator: typeof import('../load/k6-operator/runner.ts').runK6Operator = async (o) =>
  (await import('../load/k6-operator/runner.ts')).runK6Operator(o);
const runK6Script: typeof import('../load/k6-runtime/run.ts').runK6Script = async (o) =>
  (await import('../load/k6-runtime/run.ts')).runK6Script(o);

/**
 * Runs a suite's load with the engine it names; every engine returns the same result model.
 * builtin + script: the built-in k6 runtime runs the script (no k6 needed); k6: the user's k6 binary.
 */
export async function runSuiteLoad(load: LoadSpec, opts: SuiteLoadOptions): Promise<LoadResult> {
  const fromSuite = fromSuiteLoad(load);
  const engineOf = opts.engine ?? fromSuite.engine;
  if (engineOf !== 'k6-operator') opts.onStarted?.();
  const plan = fromSuite.plan;
  const engine = opts.engine ?? fromSuite.engine;
  if (engine !== 'builtin' && !load.script) return runGeneratedScript(load, engine, opts);
  const common = { gatewayUrl: opts.gatewayUrl, allowRemote: !!opts.allowRemote };
  if (load.script) {
    const env = k6Env(load);
    if (engine === 'k6') return runK6({ script: load.script, env, ...common, ...(opts.signal ? { signal: opts.signal } : {}) });
    if (engine === 'builtin') return runK6Script({ script: load.script, env, ...common, ...(opts.signal ? { signal: opts.signal } : {}) });
  }
  if (engine === 'k6-operator' && load.script) {
    if (!opts.cluster) throw new Error('engine k6-operator needs the cluster (SuiteLoadOptions.cluster) to create its TestRun');
    return runK6Operator({
      cluster: opts.cluster,
      script: load.script,
      env: k6Env(load),
      gatewayUrl: opts.inClusterGatewayUrl ?? opts.gatewayUrl,
      allowRemote: !!opts.allowRemote,
      ...(opts.loadNamespace ? { namespace: opts.loadNamespace } : {}),
      ...(load.parallelism !== undefined ? { parallelism: load.parallelism } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.onStarted ? { onStarted: opts.onStarted } : {}),
      log: (line) => console.log(line),
    });
  }
  const result = await runLoad(plan, {
    baseUrl: opts.gatewayUrl,
    ...(opts.signal ? { signal: opts.signal } : {}),
    allowRemote: !!opts.allowRemote,
    onProgress: withProgress(consoleProgress(), opts.onProgress),
  });
  // a suite's k6-style thresholds judge a built-in run too, on the same k6 metrics
  if (fromSuite.thresholds) result.thresholds = judgeThresholds(result, fromSuite.thresholds);
  return result;
}

/**
 * Engines k6 / k6-operator on a declarative load: the load compiled to a k6 script (load/k6-script), attached
 * to the report, run by that engine. The script reads only `GATEWAY` from its env: the plan is in it.
 */
async function runGeneratedScript(load: LoadSpec, engine: 'k6' | 'k6-operator', opts: SuiteLoadOptions): Promise<LoadResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pd-harness-k6-script-'));
  try {
    const { file, script } = writeK6Script(load, opts.suiteName ?? 'suite', dir);
    await opts.attach?.(`k6 script ${path.basename(file)}`, redact(script), 'text/plain');
    const common = { gatewayUrl: opts.gatewayUrl, allowRemote: !!opts.allowRemote, ...(opts.signal ? { signal: opts.signal } : {}) };
    if (engine === 'k6') return await runK6({ script: file, ...common });
    if (!opts.cluster) throw new Error('engine k6-operator needs the cluster (SuiteLoadOptions.cluster) to create its TestRun');
    return await runK6Operator({
      ...common,
      cluster: opts.cluster,
      script: file,
      gatewayUrl: opts.inClusterGatewayUrl ?? opts.gatewayUrl,
      // the guarded namespace (spec.target.loadNamespace): without it the TestRun went to `default`
      ...(opts.loadNamespace ? { namespace: opts.loadNamespace } : {}),
      ...(load.parallelism !== undefined ? { parallelism: load.parallelism } : {}),
      ...(opts.onStarted ? { onStarted: opts.onStarted } : {}),
      log: (line) => console.log(line),
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function withProgress(a: (p: LoadProgress) => void, b?: (p: LoadProgress) => void): (p: LoadProgress) => void {
  return b
    ? (p) => {
        a(p);
        b(p);
      }
    : a;
}

/** The suite's load shape as the env the project's k6 scripts read (k6/gateway-load.ts). */
export function k6Env(load: LoadSpec): Record<string, string> {
  const env: Record<string, string> = { TIMEOUT: formatDuration(load.timeout) };
  if (load.requests !== undefined)
    Object.assign(env, { SCENARIO: 'seed', REQUESTS: String(load.requests), VUS: String(load.concurrency ?? 1) });
  if (load.rate !== undefined) {
    Object.assign(env, {
      SCENARIO: 'arrival',
      RATE: String(load.rate),
      DURATION: formatDuration(load.duration ?? 0),
      VUS: String(load.maxInFlight ?? 100),
    });
  }
  const body = load.request.body as { model?: unknown; max_tokens?: unknown } | undefined;
  if (typeof body?.model === 'string') env.MODEL = body.model;
  if (typeof body?.max_tokens === 'number') env.MAX_TOKENS = String(body.max_tokens);
  return env;
}

/** `override`: the run's engine (`--engine`), if any. */
export function describeLoad(load: LoadSpec, override?: LoadEngineName): string {
  const shape =
    load.requests !== undefined
      ? `${load.requests} requests at concurrency ${load.concurrency ?? 1}`
      : load.rate !== undefined
        ? `${load.rate}/s for ${formatDuration(load.duration ?? 0)}`
        : 'as the k6 script says';
  const chosen = override ?? load.engine;
  const engine = load.script
    ? `${chosen}, k6 script ${load.script.split('/').pop()}`
    : chosen === 'builtin'
      ? chosen
      : `${chosen}, generated k6 script`;
  return `${shape} (${engine}) ${load.request.method} ${load.request.path}`;
}
