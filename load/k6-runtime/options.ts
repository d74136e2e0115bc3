import { parseDurationMs } from '../duration.ts';

/** A scenario after k6's defaults (lib/executor/*_config, k6 v2.2.0); times in ms. */
export interface ScenarioPlan {
  name: string;
  executor: 'shared-iterations' | 'per-vu-iterations' | 'constant-vus' | 'ramping-vus' | 'constant-arrival-rate' | 'ramping-arrival-rate';
  exec: string;
  env: Record<string, string>;
  tags: Record<string, string>;
  startTimeMs: number;
  gracefulStopMs: number;
  vus: number;
  iterations: number;
  maxDurationMs: number;
  durationMs: number;
  startVUs: number;
  stages: { durationMs: number; target: number }[];
  gracefulRampDownMs: number;
  rate: number;
  startRate: number;
  timeUnitMs: number;
  preAllocatedVUs: number;
  maxVUs: number;
}

export class OptionsError extends Error {}

const REFUSED_OPTIONS: Record<string, string> = {
  rps: 'options.rps (global request rate limit)',
  hosts: 'options.hosts (DNS overrides)',
  dns: 'options.dns',
  tlsAuth: 'options.tlsAuth (client certificates)',
  blockHostnames: 'options.blockHostnames',
  blacklistIPs: 'options.blacklistIPs',
  localIPs: 'options.localIPs',
  executionSegment: 'options.executionSegment',
  executionSegmentSequence: 'options.executionSegmentSequence',
  paused: 'options.paused',
  minIterationDuration: 'options.minIterationDuration',
};

const SCENARIO_KEYS: Record<string, string[]> = {
  common: ['executor', 'exec', 'env', 'tags', 'startTime', 'gracefulStop'],
  'shared-iterations': ['vus', 'iterations', 'maxDuration'],
  'per-vu-iterations': ['vus', 'iterations', 'maxDuration'],
  'constant-vus': ['vus', 'duration'],
  'ramping-vus': ['startVUs', 'stages', 'gracefulRampDown'],
  'constant-arrival-rate': ['rate', 'timeUnit', 'duration', 'preAllocatedVUs', 'maxVUs'],
  'ramping-arrival-rate': ['startRate', 'timeUnit', 'stages', 'preAllocatedVUs', 'maxVUs'],
};

function dur(v: unknown, what: string, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  // strings use Go's time.ParseDuration units; a bare number is milliseconds (k6 types.Duration)
  const ms = parseDurationMs(v);
  if (ms === undefined) throw new OptionsError(`${what}: invalid duration ${JSON.stringify(v)}`);
  return ms;
}

function int(v: unknown, what: string, fallback: number): number {
  if (v === undefined || v === null) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new OptionsError(`${what}: must be a non-negative number, got ${JSON.stringify(v)}`);
  return Math.floor(n);
}

function stringMap(v: unknown): Record<string, string> {
  if (v === null || typeof v !== 'object') return {};
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)]));
}

function stagesOf(v: unknown, what: string): ScenarioPlan['stages'] {
  if (!Array.isArray(v)) return [];
  return v.map((s: { duration?: unknown; target?: unknown }, i) => ({
    durationMs: dur(s?.duration, `${what}[${i}].duration`, 0),
    target: int(s?.target, `${what}[${i}].target`, 0),
  }));
}

/**
 * k6's DeriveScenariosFromShortcuts (lib/executor/execution_config_shortcuts.go, k6 v2.2.0): `iterations`
 * → shared-iterations (with `duration` as maxDuration), `duration` → constant-vus, `stages` → ramping-vus
 * with `vus` as startVUs, `vus` alone → shared-iterations with iterations = vus, nothing → per-vu-iterations
 * with 1 VU, 1 iteration. Conflicting shortcuts are the errors k6 gives.
 */
export function deriveScenarios(options: Record<string, unknown>): Record<string, Record<string, unknown>> {
  const { vus, iterations, duration, stages, scenarios } = options as Record<string, unknown>;
  const hasStages = Array.isArray(stages) && stages.length > 0;
  const hasScenarios = scenarios !== undefined && scenarios !== null;
  if (iterations !== undefined && iterations !== null) {
    if (hasStages) throw new OptionsError('using `iterations` and `stages` options simultaneously is not allowed');
    if (hasScenarios) throw new OptionsError('using `iterations` and `scenarios` options simultaneously is not allowed');
    return {
      default: { executor: 'shared-iterations', vus: vus ?? 1, iterations, ...(duration !== undefined ? { maxDuration: duration } : {}) },
    };
  }
  if (duration !== undefined && duration !== null) {
    if (hasStages) throw new OptionsError('using `duration` and `stages` options simultaneously is not allowed');
    if (hasScenarios) throw new OptionsError('using `duration` and `scenarios` options simultaneously is not allowed');
    if ((parseDurationMs(duration) ?? 0) <= 0)
      throw new OptionsError('`duration` option should be more than 0, for infinite duration use the externally-controlled executor');
    return { default: { executor: 'constant-vus', vus: vus ?? 1, duration } };
  }
  if (hasStages) {
    if (hasScenarios) throw new OptionsError('using `stages` and `scenarios` options simultaneously is not allowed');
    return { default: { executor: 'ramping-vus', startVUs: vus ?? 1, stages } };
  }
  if (vus !== undefined && vus !== null) return { default: { executor: 'shared-iterations', vus, iterations: vus } };
  if (hasScenarios && Object.keys(scenarios as object).length > 0) return scenarios as Record<string, Record<string, unknown>>;
  return { default: { executor: 'per-vu-iterations', vus: 1, iterations: 1 } };
}

/** The scenarios a script's options describe, with k6's defaults; unsupported executors and options refused. */
export function planScenarios(options: Record<string, unknown>, exportedFns: readonly string[]): ScenarioPlan[] {
  for (const [k, what] of Object.entries(REFUSED_OPTIONS)) {
    if (options[k] !== undefined && options[k] !== null && !(Array.isArray(options[k]) && (options[k] as unknown[]).length === 0)) {
      throw new OptionsError(`unsupported by the built-in k6 runtime: ${what} (k6 docs: Options, ${k})`);
    }
  }
  const plans: ScenarioPlan[] = [];
  for (const [name, s] of Object.entries(deriveScenarios(options))) {
    const what = `scenario ${name}`;
    const executor = String(s['executor'] ?? '');
    if (executor === 'externally-controlled')
      throw new OptionsError(
        `unsupported by the built-in k6 runtime: ${what}: executor externally-controlled (k6 docs: Executors, externally-controlled)`,
      );
    const keys = SCENARIO_KEYS[executor];
    if (!keys) throw new OptionsError(`${what}: executor '${executor}' is not a k6 executor`);
    if (s['options'] !== undefined)
      throw new OptionsError(`unsupported by the built-in k6 runtime: ${what}: scenario options (browser) (k6 docs: k6/browser)`);
    for (const k of Object.keys(s)) {
      if (!keys.includes(k) && !SCENARIO_KEYS['common']?.includes(k))
        throw new OptionsError(`${what}: unknown option '${k}' for executor ${executor} (k6 docs: Executors, ${executor})`);
    }
    const exec = s['exec'] === undefined ? 'default' : String(s['exec']);
    if (!exportedFns.includes(exec)) {
      throw new OptionsError(
        exec === 'default'
          ? `${what}: the script has no exported default function (k6 docs: Scenarios, exec)`
          : `${what}: executor ${executor}: function '${exec}' not found in exports (k6 docs: Scenarios, exec)`,
      );
    }
    const timeUnitMs = dur(s['timeUnit'], `${what}.timeUnit`, 1000);
    const plan: ScenarioPlan = {
      name,
      executor: executor as ScenarioPlan['executor'],
      exec,
      env: stringMap(s['env']),
      tags: stringMap(s['tags']),
      startTimeMs: dur(s['startTime'], `${what}.startTime`, 0),
      gracefulStopMs: dur(s['gracefulStop'], `${what}.gracefulStop`, 30_000),
      vus: int(s['vus'], `${what}.vus`, 1),
      iterations: int(s['iterations'], `${what}.iterations`, 1),
      maxDurationMs: dur(s['maxDuration'], `${what}.maxDuration`, 600_000),
      durationMs: dur(s['duration'], `${what}.duration`, 0),
      startVUs: int(s['startVUs'], `${what}.startVUs`, 1),
      stages: stagesOf(s['stages'], `${what}.stages`),
      gracefulRampDownMs: dur(s['gracefulRampDown'], `${what}.gracefulRampDown`, 30_000),
      rate: Number(s['rate'] ?? 0),
      startRate: Number(s['startRate'] ?? 0),
      timeUnitMs,
      preAllocatedVUs: int(s['preAllocatedVUs'], `${what}.preAllocatedVUs`, 0),
      maxVUs: 0,
    };
    plan.maxVUs = Math.max(plan.preAllocatedVUs, int(s['maxVUs'], `${what}.maxVUs`, plan.preAllocatedVUs));
    // k6 v2.2.0 lib/executor/shared_iterations.go Validate: fewer iterations than VUs is a config error
    if (executor === 'shared-iterations' && plan.iterations < plan.vus)
      throw new OptionsError(`${what}: the number of iterations (${plan.iterations}) can't be less than the number of VUs (${plan.vus})`);
    if ((executor === 'constant-vus' || executor === 'constant-arrival-rate') && plan.durationMs <= 0)
      throw new OptionsError(`${what}: the duration must be more than 0`);
    if (executor === 'constant-arrival-rate' && !(plan.rate > 0)) throw new OptionsError(`${what}: the rate must be more than 0`);
    if ((executor === 'ramping-vus' || executor === 'ramping-arrival-rate') && plan.stages.length === 0)
      throw new OptionsError(`${what}: at least one stage has to be specified`);
    if ((executor === 'constant-arrival-rate' || executor === 'ramping-arrival-rate') && s['preAllocatedVUs'] === undefined)
      throw new OptionsError(`${what}: preAllocatedVUs must be set`);
    plans.push(plan);
  }
  return plans;
}

/** VUs a scenario keeps initialized before the test starts (k6's GetMaxPlannedVUs). */
export function plannedVUs(p: ScenarioPlan): number {
  switch (p.executor) {
    case 'shared-iterations':
      return Math.min(p.vus, p.iterations);
    case 'per-vu-iterations':
    case 'constant-vus':
      return p.vus;
    case 'ramping-vus':
      return Math.max(p.startVUs, ...p.stages.map((s) => s.target));
    default:
      return p.preAllocatedVUs;
  }
}
