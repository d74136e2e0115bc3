/**
 * Loading phase two and one scheduling run, as the real EPP:
 * - gateway-api-inference-extension v1.2.0 pkg/epp/config/loader/configloader.go LoadConfigPhaseTwo
 *   (instantiatePlugins, setDefaultsPhaseTwo in defaults.go, validateSchedulingProfiles in validation.go,
 *   loadSchedulerConfig), wrapped as runner.go does: `failed to load the configuration - ...`;
 * - pkg/epp/scheduling/scheduler.go Schedule (profile handler picks profiles until none is left, then
 *   ProcessResults) and framework/scheduler_profile.go Run (filters, weighted scorers clamped to [0,1], picker).
 * Pure apart from the injected RNG and the plugins' own state (prefix indexes, LRU).
 */
import { EppConfigError, type EppConfig, type PluginSpec, type ProfileSpec } from './config.ts';
import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  instantiatePlugin,
  requestTimeoutOf,
  type CycleContext,
  type Filter,
  type LoadWarning,
  type Picker,
  type Plugin,
  type ProfileHandler,
  type ProfileRunResult,
  type SchedRequest,
  type Scorer,
  type SchedulingOutcome,
} from './plugins.ts';
import type { Endpoint, Rng } from './types.ts';

export interface WeightedScorer {
  scorer: Scorer;
  weight: number;
}

export interface SchedulingProfile {
  name: string;
  filters: Filter[];
  scorers: WeightedScorer[];
  picker: Picker;
}

export interface Scheduler {
  /** the primary profile (decode for pd-profile-handler, else the first): what the log lines describe */
  profile: SchedulingProfile;
  profiles: Map<string, SchedulingProfile>;
  handler: ProfileHandler;
  /** the profile handler's type */
  profileHandler: string;
  /** plugins with a PreRequest hook, in config order */
  preRequest: Plugin[];
  /** how long an unfinished request counts for active-request-scorer */
  requestTimeoutMs: number;
  /** whether the config has an active-request-scorer (the real EPP counts nothing without one) */
  countsActiveRequests: boolean;
  /** lines the real factories log while loading */
  warnings: LoadWarning[];
}

export type ScheduleFailure = {
  ok: false;
  reason: 'no-endpoints' | 'no-candidates';
  /** errutil code and the message after it: `inference gateway: <code> - <message>` */
  code: 'ServiceUnavailable' | 'InferencePoolResourceExhausted';
  message: string;
};

export type ScheduleResult =
  | {
      ok: true;
      /** the primary profile's run: candidates after its filters, raw[s][i] per scorer, totals, picks */
      candidates: Endpoint[];
      raw: Float64Array[];
      totals: Float64Array;
      selected: Endpoint[];
      outcome: SchedulingOutcome;
    }
  | ScheduleFailure;

const PHASE_TWO = 'failed to load the configuration - ';
const GO_NIL_DEREF = 'panic: runtime error: invalid memory address or nil pointer dereference';

function fail(msg: string, cause?: unknown): never {
  throw new EppConfigError(`${PHASE_TWO}${msg}`, cause === undefined ? undefined : { cause });
}

export function buildScheduler(config: EppConfig): Scheduler {
  const warnings: LoadWarning[] = [];
  const specs: PluginSpec[] = [...config.plugins];
  const byName = new Map<string, Plugin>();
  // instantiatePlugins
  for (const spec of config.plugins) {
    if (spec.type === '') fail(`failed to instantiate plugins - plugin definition for '${spec.name}' is missing a type`);
    if (byName.has(spec.name)) fail(`failed to instantiate plugins - plugin name '${spec.name}' used more than once`);
    try {
      byName.set(
        spec.name,
        instantiatePlugin(spec, (w) => warnings.push(w)),
      );
    } catch (err) {
      fail(`failed to instantiate plugins - ${(err as Error).message}`, err);
    }
  }
  const all = [...byName.entries()];

  // setDefaultsPhaseTwo
  let profiles: ProfileSpec[] = config.schedulingProfiles.map((p) => ({ name: p.name, plugins: p.plugins.map((r) => ({ ...r })) }));
  if (profiles.length === 0) {
    profiles = [
      {
        name: 'default',
        plugins: all
          .filter(([, p]) => p.kind === 'filter' || p.kind === 'scorer' || p.kind === 'picker')
          .map(([name]) => ({ pluginRef: name })),
      },
    ];
  }
  if (profiles.length === 1 && !all.some(([, p]) => p.kind === 'profile-handler')) {
    const spec = { type: 'single-profile-handler', name: 'single-profile-handler', parameters: undefined };
    byName.set(spec.name, instantiatePlugin(spec));
    specs.push(spec);
  }
  let defaultPicker = all.find(([, p]) => p.kind === 'picker')?.[0];
  if (defaultPicker === undefined) {
    const spec = { type: 'max-score-picker', name: 'max-score-picker', parameters: undefined };
    byName.set(spec.name, instantiatePlugin(spec));
    specs.push(spec);
    defaultPicker = spec.name;
  }
  for (const profile of profiles) {
    let hasPicker = false;
    for (const ref of profile.plugins) {
      const p = byName.get(ref.pluginRef);
      if (p?.kind === 'scorer' && ref.weight === undefined) ref.weight = 1;
      else if (p?.kind === 'picker') {
        hasPicker = true;
        break; // scorers after the picker get no default weight (loadSchedulerConfig then dereferences nil)
      }
    }
    if (!hasPicker) profile.plugins.push({ pluginRef: defaultPicker });
  }

  // validateSchedulingProfiles
  const seen = new Set<string>();
  for (const profile of profiles) {
    if (profile.name === '') fail('failed to validate scheduling profiles - SchedulingProfile must have a name');
    if (seen.has(profile.name))
      fail(`failed to validate scheduling profiles - the name '${profile.name}' has been specified for more than one SchedulingProfile`);
    seen.add(profile.name);
    for (const ref of profile.plugins) {
      if (ref.pluginRef === '')
        fail(`failed to validate scheduling profiles - SchedulingProfile '${profile.name}' plugins must have a plugin reference`);
      if (!specs.some((s) => s.name === ref.pluginRef))
        fail(`failed to validate scheduling profiles - ${ref.pluginRef} is a reference to an undefined Plugin`);
    }
  }

  // loadSchedulerConfig
  const built = new Map<string, SchedulingProfile>();
  for (const profile of profiles) {
    const filters: Filter[] = [];
    const scorers: WeightedScorer[] = [];
    let picker: Picker | undefined;
    for (const ref of profile.plugins) {
      const p = byName.get(ref.pluginRef)!;
      if (p.kind === 'scorer') {
        if (ref.weight === undefined) throw new EppConfigError(GO_NIL_DEREF);
        scorers.push({ scorer: p, weight: ref.weight });
      } else if (p.kind === 'filter') filters.push(p);
      else if (p.kind === 'picker') {
        if (picker)
          fail(
            `failed to load scheduler config - failed to set '${p.name}/${p.type}' as picker, already have a registered picker plugin '${picker.name}/${picker.type}'`,
          );
        picker = p;
      }
    }
    built.set(profile.name, { name: profile.name, filters, scorers, picker: picker! });
  }
  const handlers = [...byName.entries()].filter(([, p]) => p.kind === 'profile-handler') as [string, ProfileHandler][];
  if (handlers.length > 1) fail(`only one profile handler is allowed. Both ${handlers[0]![0]} and ${handlers[1]![0]} are profile handlers`);
  if (handlers.length === 0) fail('no profile handler was specified');
  const handler = handlers[0]![1];
  if (handler.type === 'single-profile-handler' && built.size > 1) {
    fail('single profile handler is intended to be used with a single profile, but multiple profiles were specified');
  }

  const activeSpec = config.plugins.find((s) => s.type === 'active-request-scorer');
  const primaryName = handler.primary && built.has(handler.primary) ? handler.primary : [...built.keys()][0]!;
  return {
    profile: built.get(primaryName)!,
    profiles: built,
    handler,
    profileHandler: handler.type,
    preRequest: [...byName.values()].filter((p) => p.preRequest !== undefined),
    requestTimeoutMs: activeSpec ? requestTimeoutOf(activeSpec) : DEFAULT_REQUEST_TIMEOUT_MS,
    countsActiveRequests: activeSpec !== undefined,
    warnings,
  };
}

interface RunDetail {
  candidates: Endpoint[];
  raw: Float64Array[];
  totals: Float64Array;
  selected: Endpoint[];
}

/** SchedulerProfile.Run: undefined when the filters leave no pod ("no pods available for the given request"). */
function runProfile(
  p: SchedulingProfile,
  pods: readonly Endpoint[],
  req: SchedRequest,
  cycle: CycleContext,
  rng: Rng,
): RunDetail | undefined {
  let candidates = pods as Endpoint[];
  for (const f of p.filters) {
    candidates = f.filter(candidates, req);
    if (candidates.length === 0) return undefined;
  }
  if (candidates.length === 0) return undefined;
  const n = candidates.length;
  const totals = new Float64Array(n);
  const raw: Float64Array[] = new Array(p.scorers.length);
  for (let k = 0; k < p.scorers.length; k++) {
    const { scorer, weight } = p.scorers[k]!;
    const out = new Float64Array(n);
    scorer.score(candidates, out, req, cycle);
    for (let i = 0; i < n; i++) {
      const s = Math.min(1, Math.max(0, out[i]!)); // enforceScoreRange
      out[i] = s;
      totals[i] = totals[i]! + s * weight;
    }
    raw[k] = out;
  }
  const picked = p.picker.pick(candidates, totals, rng);
  return { candidates, raw, totals, selected: picked.map((i) => candidates[i]!) };
}

/** Director.HandleRequest from the candidate pods on: Scheduler.Schedule, then the PreRequest plugins. */
export function schedule(
  s: Scheduler,
  endpoints: readonly Endpoint[],
  rng: Rng,
  req: SchedRequest = { requestId: '', model: '', userInput: '', headers: {} },
  activeCounts: ReadonlyMap<string, number> = new Map(),
): ScheduleResult {
  if (endpoints.length === 0) {
    return {
      ok: false,
      reason: 'no-endpoints',
      code: 'ServiceUnavailable',
      message: 'failed to find candidate pods for serving the request',
    };
  }
  const cycle: CycleContext = { state: new Map(), activeCounts };
  const names = [...s.profiles.keys()];
  const results = new Map<string, ProfileRunResult | null>();
  const details = new Map<string, RunDetail>();
  for (;;) {
    const next = s.handler.pickProfiles(names, results, req, cycle);
    if (next.length === 0) break;
    for (const name of next) {
      const profile = s.profiles.get(name);
      const d = profile ? runProfile(profile, endpoints, req, cycle, rng) : undefined;
      if (d) details.set(name, d);
      results.set(name, d ? { targets: d.selected } : null);
    }
  }
  const exhausted = (message: string): ScheduleFailure => ({
    ok: false,
    reason: 'no-candidates',
    code: 'InferencePoolResourceExhausted',
    message: `failed to find target pod: ${message}`,
  });
  if (results.size === 0) return exhausted(`failed to run any scheduler profile for request ${req.requestId}`);
  const outcome = s.handler.processResults(results, req);
  if (outcome instanceof Error) return exhausted(outcome.message);
  for (const p of s.preRequest) p.preRequest!(req, outcome);
  const d = details.get(outcome.primaryProfile)!;
  return { ok: true, candidates: d.candidates, raw: d.raw, totals: d.totals, selected: d.selected, outcome };
}
