import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { K6_TEMPLATE_TRANSFORM, currentBuild, k6TemplateScript, packageRoot } from '../../common/build.mjs';
import { UserError } from '../../core/errors.ts';
import type { SuiteScriptPlan } from '../../k6/suite-load-plan.ts';
import { serializeTemplate, variantTemplates } from '../builtin/template.ts';
import { fromSuiteLoad, type LoadPlan } from '../plan.ts';

/**
 * A suite's declarative `load:` as a k6 script (k6/suite-load.ts with the suite's plan in it), so engines k6
 * and k6-operator run every suite, and a user can rerun the load with `k6 run`. Pure apart from reading the
 * template once.
 *
 * How the plan maps to k6 (k6 docs, "Executors"):
 * - closed model (requests at concurrency, like `xargs -P`) -> `shared-iterations`: `vus` = concurrency,
 *   `iterations` = requests, one request per iteration, VUs take the next iteration when free (the builtin
 *   engine's workers do the same); `maxDuration` = the builtin engine's bound for a closed run (30 min);
 * - open model (rate for a duration, at most maxInFlight at once) -> `constant-arrival-rate`: arrival k at
 *   k / rate s, `preAllocatedVUs` = `maxVUs` = maxInFlight, an arrival with no free VU is a
 *   `dropped_iterations` (the builtin engine counts it as dropped too); `gracefulStop` = timeout + 5 s, the
 *   builtin engine's wait for requests in flight when the arrivals are over. A fractional rate is written as
 *   an integer rate per 1000 s (k6's `rate` is an integer);
 * - `{{i}}` is `exec.scenario.iterationInTest + 1` (unique across k6-operator runners), request i uses
 *   variants[(i - 1) % n] as the builtin engine does;
 * - `timeout` -> `params.timeout`; `stream` -> `stream: true` in a JSON body (k6 reads the whole response:
 *   its `http_req_waiting`, time to first byte, stands for time to first token);
 * - `thresholds` -> `options.thresholds` as written (same k6 metric names the builtin engine judges).
 */

const TEMPLATE = path.join(packageRoot(import.meta.url), 'k6', 'suite-load.ts');
const PLAN_MARKER = '__PD_HARNESS_PLAN__';
/** The builtin engine's bound on a closed run (load/builtin/engine.ts DEFAULT_CLOSED_MAX_DURATION_MS). */
const CLOSED_MAX_DURATION = '30m';
const DEFAULT_GATEWAY = 'http://127.0.0.1:18080';

/** The builtin engine's rules that have no k6 counterpart here: refused up front, one line each. */
export function unsupportedForScript(plan: LoadPlan): string | undefined {
  if (plan.warmup !== undefined && plan.warmup > 0) {
    return 'load.warmup is not compiled to k6 scripts yet (k6 would count warm-up requests in its metrics): use engine builtin or drop warmup';
  }
  if (plan.captureHeaders !== undefined && plan.captureHeaders.length > 0) return 'load.captureHeaders is not compiled to k6 scripts';
  if (plan.maxDurationMs !== undefined) return 'load.maxDuration is not compiled to k6 scripts';
  return undefined;
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function scenarioOf(plan: LoadPlan): Record<string, unknown> {
  if (plan.rate !== undefined) {
    if (plan.durationMs === undefined) throw new UserError('load: the open model (rate) needs a duration to compile to a k6 script');
    const maxInFlight = plan.maxInFlight ?? plan.concurrency ?? 100;
    const integral = Number.isInteger(plan.rate);
    return {
      executor: 'constant-arrival-rate',
      rate: integral ? plan.rate : Math.round(plan.rate * 1000),
      timeUnit: integral ? '1s' : '1000s',
      duration: seconds(plan.durationMs),
      preAllocatedVUs: maxInFlight,
      maxVUs: maxInFlight,
      gracefulStop: seconds(plan.timeoutMs + 5000),
    };
  }
  const requests = plan.requests ?? 1;
  return {
    executor: 'shared-iterations',
    vus: Math.max(1, Math.min(plan.concurrency ?? 1, requests)),
    iterations: requests,
    maxDuration: CLOSED_MAX_DURATION,
  };
}

/** The plan the script carries. `load` is a suite's `spec.load` as the schema parses it. */
export function scriptPlanOf(load: unknown, suiteName: string): SuiteScriptPlan {
  const { plan, thresholds } = fromSuiteLoad(load);
  const why = unsupportedForScript(plan);
  if (why) throw new UserError(why);
  const requests = variantTemplates(plan).map(({ name, template }) => {
    const sent = serializeTemplate(template, { stream: !!plan.stream });
    return {
      ...(name !== undefined ? { variant: name } : {}),
      method: sent.method,
      path: sent.path,
      headers: oneOfEach(sent.headers),
      ...(sent.body !== undefined ? { body: sent.body } : {}),
    };
  });
  const options: Record<string, unknown> = { scenarios: { load: scenarioOf(plan) } };
  if (thresholds) options['thresholds'] = thresholds;
  return { suite: suiteName, gateway: DEFAULT_GATEWAY, timeout: seconds(plan.timeoutMs), requests, stream: !!plan.stream, options };
}

/** Header names are case-insensitive: the last of `content-type` / `Content-Type` wins, as k6's Header.Set does. */
function oneOfEach(headers: Record<string, string>): Record<string, string> {
  const byLower = new Map<string, [string, string]>();
  for (const [k, v] of Object.entries(headers)) byLower.set(k.toLowerCase(), [byLower.get(k.toLowerCase())?.[0] ?? k, v]);
  return Object.fromEntries([...byLower.values()].map(([k, v]) => [k, v]));
}

let templateJs: string | undefined;

/** esbuild's transform of the template, loaded only here: its JS API is ~75 ms of CPU to load, and a fresh build never needs it. */
function compileTemplate(): string {
  const { transformSync } = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  return transformSync(fs.readFileSync(TEMPLATE, 'utf8'), { ...K6_TEMPLATE_TRANSFORM, sourcefile: path.basename(TEMPLATE) }).code;
}

/**
 * k6/suite-load.ts as plain ES module JS (types stripped, k6 imports kept): the build's copy (common/build.mjs
 * K6_TEMPLATES) when the build is fresh, else compiled here with the same options.
 */
function template(): string {
  if (templateJs === undefined) {
    const build = currentBuild();
    const built = path.join(build.dir, k6TemplateScript('k6/suite-load.ts'));
    templateJs = build.fresh && fs.existsSync(built) ? fs.readFileSync(built, 'utf8') : compileTemplate();
    if (!templateJs.includes(PLAN_MARKER)) throw new Error(`${TEMPLATE}: no ${PLAN_MARKER} in the template`);
  }
  return templateJs;
}

/** The k6 script of a suite's load: plain JS that `k6 run`, k6-operator and the built-in runtime run unchanged. */
export function generateK6Script(load: unknown, suiteName: string): string {
  const plan = scriptPlanOf(load, suiteName);
  const header = [
    `// Generated by pd-harness from the load of suite ${suiteName} (template k6/suite-load.ts). Rerun it with:`,
    `//   k6 run -e GATEWAY=${plan.gateway} --summary-export summary.json ${scriptFileName(suiteName)}`,
    '',
  ].join('\n');
  const js = template().replace(PLAN_MARKER, JSON.stringify(plan, null, 2));
  return `${header}${js}`;
}

/** A file name for the generated script of a suite (a valid ConfigMap key). */
export function scriptFileName(suiteName: string): string {
  const clean =
    suiteName
      .toLowerCase()
      .replace(/[^a-z0-9.-]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'suite';
  return `${clean}.load.js`;
}

/** Write the generated script into `dir` and return its path. */
export function writeK6Script(load: unknown, suiteName: string, dir: string): { file: string; script: string } {
  const script = generateK6Script(load, suiteName);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, scriptFileName(suiteName));
  fs.writeFileSync(file, script);
  return { file, script };
}
