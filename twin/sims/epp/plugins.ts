/**
 * The scheduling plugins the twin's EPP knows: filters, scorers, pickers and the profile handler.
 * Scorers write one score in [0,1] per candidate into a caller-owned array (no per-call allocation).
 */
import { EppConfigError, type PluginSpec } from './config.ts';
import { parseDurationMs } from './duration.ts';
import type { Endpoint, Rng } from './types.ts';

export interface Filter {
  kind: 'filter';
  type: string;
  name: string;
  keep(e: Endpoint): boolean;
}

export interface Scorer {
  kind: 'scorer';
  type: string;
  name: string;
  score(candidates: readonly Endpoint[], out: Float64Array): void;
}

export interface Picker {
  kind: 'picker';
  type: string;
  name: string;
  /** indices into candidates, best first */
  pick(candidates: readonly Endpoint[], totals: Float64Array, rng: Rng): number[];
}

export interface ProfileHandler {
  kind: 'profile-handler';
  type: string;
  name: string;
}

export type Plugin = Filter | Scorer | Picker | ProfileHandler;

export const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;

// ---- parameters ---------------------------------------------------------------------------------

function positiveInt(spec: PluginSpec, key: string, dflt: number): number {
  const v = spec.parameters[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new EppConfigError(`plugin "${spec.name}" (${spec.type}): parameters.${key} must be a positive integer`);
  }
  return v;
}

function stringMap(spec: PluginSpec, key: string): Record<string, string> {
  const v = spec.parameters[key];
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) {
    throw new EppConfigError(`plugin "${spec.name}" (${spec.type}): parameters.${key} must be a mapping`);
  }
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) out[k] = String(val);
  return out;
}

export function requestTimeoutOf(spec: PluginSpec): number {
  const v = spec.parameters.requestTimeout;
  if (v === undefined) return DEFAULT_REQUEST_TIMEOUT_MS;
  try {
    if (typeof v !== 'string') throw new Error('not a string');
    return parseDurationMs(v);
  } catch {
    throw new EppConfigError(`plugin "${spec.name}" (${spec.type}): parameters.requestTimeout must be a duration like "2m"`);
  }
}

// ---- filters ------------------------------------------------------------------------------------

interface LabelExpression {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values: string[];
}

function labelExpressions(spec: PluginSpec): LabelExpression[] {
  const v = spec.parameters.matchExpressions;
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new EppConfigError(`plugin "${spec.name}": parameters.matchExpressions must be a list`);
  return v.map((x, i) => {
    const e = x as Record<string, unknown>;
    const op = e?.operator;
    if (typeof e?.key !== 'string' || (op !== 'In' && op !== 'NotIn' && op !== 'Exists' && op !== 'DoesNotExist')) {
      throw new EppConfigError(`plugin "${spec.name}": matchExpressions[${i}] needs key and operator In|NotIn|Exists|DoesNotExist`);
    }
    return { key: e.key, operator: op, values: Array.isArray(e.values) ? e.values.map(String) : [] };
  });
}

function byLabelSelector(spec: PluginSpec): Filter {
  const matchLabels = Object.entries(stringMap(spec, 'matchLabels'));
  const exprs = labelExpressions(spec);
  return {
    kind: 'filter',
    type: spec.type,
    name: spec.name,
    keep(e) {
      for (const [k, v] of matchLabels) if (e.labels[k] !== v) return false;
      for (const x of exprs) {
        const has = Object.hasOwn(e.labels, x.key);
        const val = e.labels[x.key];
        if (x.operator === 'Exists' && !has) return false;
        if (x.operator === 'DoesNotExist' && has) return false;
        if (x.operator === 'In' && (val === undefined || !x.values.includes(val))) return false;
        if (x.operator === 'NotIn' && val !== undefined && x.values.includes(val)) return false;
      }
      return true;
    },
  };
}

export const ROLE_LABEL = 'llm-d.ai/role';

function roleFilter(spec: PluginSpec, accept: (role: string | undefined) => boolean): Filter {
  return { kind: 'filter', type: spec.type, name: spec.name, keep: (e) => accept(e.labels[ROLE_LABEL]) };
}

// ---- scorers ------------------------------------------------------------------------------------

/** Fewer requests in flight (as seen by this EPP) scores higher: (max - n) / max; all idle → 1. */
function activeRequestScorer(spec: PluginSpec): Scorer {
  requestTimeoutOf(spec); // validate early
  return {
    kind: 'scorer',
    type: spec.type,
    name: spec.name,
    score(c, out) {
      let max = 0;
      for (let i = 0; i < c.length; i++) if (c[i]!.inFlight > max) max = c[i]!.inFlight;
      for (let i = 0; i < c.length; i++) out[i] = max === 0 ? 1 : (max - c[i]!.inFlight) / max;
    },
  };
}

/** Shorter waiting queue scores higher, min-max normalised; equal queues → 1. */
function queueScorer(spec: PluginSpec): Scorer {
  return {
    kind: 'scorer',
    type: spec.type,
    name: spec.name,
    score(c, out) {
      let min = Infinity;
      let max = -Infinity;
      for (let i = 0; i < c.length; i++) {
        const q = c[i]!.metrics.waiting;
        if (q < min) min = q;
        if (q > max) max = q;
      }
      for (let i = 0; i < c.length; i++) out[i] = max === min ? 1 : (max - c[i]!.metrics.waiting) / (max - min);
    },
  };
}

/** 1 - KV cache utilisation. */
function kvCacheUtilizationScorer(spec: PluginSpec): Scorer {
  return {
    kind: 'scorer',
    type: spec.type,
    name: spec.name,
    score(c, out) {
      for (let i = 0; i < c.length; i++) out[i] = Math.min(1, Math.max(0, 1 - c[i]!.metrics.kvCacheUsage));
    },
  };
}

/** llm-d load-aware scorer: empty queue 0.5, linear down to 0 at `threshold` waiting requests. */
function loadAwareScorer(spec: PluginSpec): Scorer {
  const threshold = positiveInt(spec, 'threshold', 128);
  return {
    kind: 'scorer',
    type: spec.type,
    name: spec.name,
    score(c, out) {
      for (let i = 0; i < c.length; i++) {
        const w = c[i]!.metrics.waiting;
        out[i] = w <= 0 ? 0.5 : w > threshold ? 0 : 0.5 * (1 - w / threshold);
      }
    },
  };
}

// ---- pickers ------------------------------------------------------------------------------------

/** Highest total wins; ties broken uniformly at random (shuffle, then stable sort). */
function maxScorePicker(spec: PluginSpec): Picker {
  const n = positiveInt(spec, 'maxNumOfEndpoints', 1);
  return {
    kind: 'picker',
    type: spec.type,
    name: spec.name,
    pick(c, totals, rng) {
      if (n === 1) {
        // single pick without allocation beyond the result: reservoir sampling over the ties
        let best = -1;
        let ties = 0;
        for (let i = 0; i < c.length; i++) {
          const s = totals[i]!;
          if (best < 0 || s > totals[best]!) {
            best = i;
            ties = 1;
          } else if (s === totals[best]!) {
            ties++;
            if (rng() * ties < 1) best = i;
          }
        }
        return best < 0 ? [] : [best];
      }
      const idx = shuffledIndices(c.length, rng);
      idx.sort((a, b) => totals[b]! - totals[a]!);
      return idx.slice(0, n);
    },
  };
}

function randomPicker(spec: PluginSpec): Picker {
  const n = positiveInt(spec, 'maxNumOfEndpoints', 1);
  return {
    kind: 'picker',
    type: spec.type,
    name: spec.name,
    pick: (c, _totals, rng) => shuffledIndices(c.length, rng).slice(0, n),
  };
}

/** Probability proportional to total score, without replacement; all-zero scores → uniform. */
function weightedRandomPicker(spec: PluginSpec): Picker {
  const n = positiveInt(spec, 'maxNumOfEndpoints', 1);
  return {
    kind: 'picker',
    type: spec.type,
    name: spec.name,
    pick(c, totals, rng) {
      const left = Array.from({ length: c.length }, (_, i) => i);
      const out: number[] = [];
      while (out.length < n && left.length > 0) {
        let sum = 0;
        for (const i of left) sum += Math.max(0, totals[i]!);
        let at = 0;
        if (sum > 0) {
          let r = rng() * sum;
          for (; at < left.length - 1; at++) {
            r -= Math.max(0, totals[left[at]!]!);
            if (r < 0) break;
          }
        } else {
          at = Math.floor(rng() * left.length);
        }
        out.push(left[at]!);
        left.splice(at, 1);
      }
      return out;
    },
  };
}

export function shuffledIndices(n: number, rng: Rng): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = t;
  }
  return idx;
}

// ---- registry -----------------------------------------------------------------------------------

const FACTORIES: Record<string, (spec: PluginSpec) => Plugin> = {
  'by-label-selector': byLabelSelector,
  'prefill-filter': (s) => roleFilter(s, (r) => r === 'prefill' || r === 'both'),
  'decode-filter': (s) => roleFilter(s, (r) => r === undefined || r === 'decode' || r === 'both'),
  'active-request-scorer': activeRequestScorer,
  'queue-scorer': queueScorer,
  'kv-cache-utilization-scorer': kvCacheUtilizationScorer,
  'load-aware-scorer': loadAwareScorer,
  'max-score-picker': maxScorePicker,
  'random-picker': randomPicker,
  'weighted-random-picker': weightedRandomPicker,
  'single-profile-handler': (s) => ({ kind: 'profile-handler', type: s.type, name: s.name }),
};

export const KNOWN_PLUGIN_TYPES: readonly string[] = Object.keys(FACTORIES);

export function instantiatePlugin(spec: PluginSpec): Plugin {
  const factory = FACTORIES[spec.type];
  if (!factory) {
    throw new EppConfigError(
      `failed to instantiate plugin "${spec.name}": unknown plugin type "${spec.type}" (known: ${KNOWN_PLUGIN_TYPES.join(', ')})`,
    );
  }
  return factory(spec);
}
