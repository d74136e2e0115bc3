/**
 * The scheduling profile built from an EndpointPickerConfig, and one scheduling run:
 * filters → weighted scorers → picker. Pure apart from the injected RNG.
 */
import { EppConfigError, type EppConfig, type PluginSpec, type ProfileSpec } from './config.ts';
import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  instantiatePlugin,
  requestTimeoutOf,
  type Filter,
  type Picker,
  type Plugin,
  type Scorer,
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
  profile: SchedulingProfile;
  profileHandler: string;
  /** how long an in-flight request counts for active-request-scorer */
  requestTimeoutMs: number;
}

export type ScheduleResult =
  | {
      ok: true;
      candidates: Endpoint[];
      /** raw[s][i]: scorer s's score for candidate i */
      raw: Float64Array[];
      totals: Float64Array;
      selected: Endpoint[];
    }
  | { ok: false; reason: 'no-endpoints' | 'no-candidates' };

export function buildScheduler(config: EppConfig): Scheduler {
  const byName = new Map<string, { spec: PluginSpec; plugin: Plugin }>();
  for (const spec of config.plugins) byName.set(spec.name, { spec, plugin: instantiatePlugin(spec) });

  const handlers = [...byName.values()].filter((p) => p.plugin.kind === 'profile-handler');
  if (handlers.length > 1) throw new EppConfigError('only one profile handler plugin may be configured');
  const profileHandler = handlers[0]?.plugin.type ?? 'single-profile-handler';

  const profiles: ProfileSpec[] = config.schedulingProfiles.length
    ? config.schedulingProfiles
    : [{ name: 'default', plugins: config.plugins.map((p) => ({ pluginRef: p.name })) }];
  if (profileHandler === 'single-profile-handler' && profiles.length !== 1) {
    throw new EppConfigError(`single-profile-handler needs exactly one scheduling profile, found ${profiles.length}`);
  }
  const spec = profiles[0]!;
  const filters: Filter[] = [];
  const scorers: WeightedScorer[] = [];
  const pickers: Picker[] = [];
  let requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS;
  for (const ref of spec.plugins) {
    const entry = byName.get(ref.pluginRef);
    if (!entry) throw new EppConfigError(`profile "${spec.name}": pluginRef "${ref.pluginRef}" names no plugin`);
    const p = entry.plugin;
    if (p.kind === 'filter') filters.push(p);
    else if (p.kind === 'scorer') {
      scorers.push({ scorer: p, weight: ref.weight ?? 1 });
      if (p.type === 'active-request-scorer') requestTimeoutMs = requestTimeoutOf(entry.spec);
    } else if (p.kind === 'picker') pickers.push(p);
  }
  if (pickers.length > 1) throw new EppConfigError(`profile "${spec.name}" references more than one picker`);
  const picker =
    pickers[0] ??
    (instantiatePlugin({ type: 'max-score-picker', name: 'max-score-picker', parameters: {} }) as Picker);
  return { profile: { name: spec.name, filters, scorers, picker }, profileHandler, requestTimeoutMs };
}

export function schedule(s: Scheduler, endpoints: readonly Endpoint[], rng: Rng): ScheduleResult {
  if (endpoints.length === 0) return { ok: false, reason: 'no-endpoints' };
  const { filters, scorers, picker } = s.profile;
  let candidates: Endpoint[];
  if (filters.length === 0) candidates = endpoints as Endpoint[];
  else {
    candidates = [];
    outer: for (const e of endpoints) {
      for (const f of filters) if (!f.keep(e)) continue outer;
      candidates.push(e);
    }
  }
  if (candidates.length === 0) return { ok: false, reason: 'no-candidates' };
  const n = candidates.length;
  const totals = new Float64Array(n);
  const raw: Float64Array[] = new Array(scorers.length);
  for (let k = 0; k < scorers.length; k++) {
    const { scorer, weight } = scorers[k]!;
    const out = new Float64Array(n);
    scorer.score(candidates, out);
    for (let i = 0; i < n; i++) totals[i] = totals[i]! + out[i]! * weight;
    raw[k] = out;
  }
  const picked = picker.pick(candidates, totals, rng);
  const selected = new Array<Endpoint>(picked.length);
  for (let i = 0; i < picked.length; i++) selected[i] = candidates[picked[i]!]!;
  return { ok: true, candidates, raw, totals, selected };
}
