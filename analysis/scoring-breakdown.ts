import { parseJsonObject, splitPrefixes } from './log-line.ts';

/** Scores per endpoint, e.g. `{ "llm-d-vllm/vllm-fs-proxy-...": 0.5 }`. */
export type EndpointScores = Record<string, number>;

export interface ScoringBreakdown {
  requestId?: string;
  model?: string;
  promptLen?: number;
  /** Per scorer (plugin type or name): its weight when logged and each endpoint's raw score. */
  scorers: Record<string, { weight?: number; scores: EndpointScores }>;
  /** The weighted sum per endpoint, when logged. */
  weighted?: EndpointScores;
}

const WEIGHTED_KEYS = ['weighted', 'weighted_scores', 'weightedScores', 'total', 'totals'];
const SCORER_KEYS = ['scorers', 'per_scorer', 'perScorer', 'scores'];

/**
 * Parses an instrumented EPP "Scoring breakdown" line. The exact field layout differs between builds,
 * so this accepts the shapes seen in practice:
 *  - `scorers: { "<scorer>": { "<endpoint>": 0.5 } }` or `{ "<scorer>": { weight: 1, scores: {...} } }`
 *  - `scorers: [{ scorer|name|type: "<scorer>", weight?, scores: {...} | ["ep=0.5"] }]`
 *  - `weighted` / `weighted_scores` / `total`: `{ "<endpoint>": 0.5 }` or `["ep=0.5", ...]`
 *  - per endpoint (the twin's EPP): `endpoints: [{ endpoint, total, scorers: { "<scorer>": { raw, weight, weighted } } }]`
 * Returns undefined for any other line.
 */
export function parseScoringBreakdown(line: string): ScoringBreakdown | undefined {
  if (!line.includes('Scoring breakdown')) return undefined;
  const obj = parseJsonObject(splitPrefixes(line).body);
  if (!obj || obj.msg !== 'Scoring breakdown') return undefined;
  const out: ScoringBreakdown = { scorers: {} };
  const requestId = obj.request_id ?? obj.requestId;
  if (typeof requestId === 'string') out.requestId = requestId;
  if (typeof obj.model === 'string') out.model = obj.model;
  const promptLen = obj.prompt_len ?? obj.promptLen;
  if (typeof promptLen === 'number') out.promptLen = promptLen;
  for (const key of SCORER_KEYS) {
    const value = obj[key];
    if (value !== undefined) Object.assign(out.scorers, scorerTable(value));
  }
  if (Array.isArray(obj.endpoints)) addPerEndpoint(out, obj.endpoints);
  for (const key of WEIGHTED_KEYS) {
    const scores = endpointScores(obj[key]);
    if (scores) {
      out.weighted = scores;
      break;
    }
  }
  return out;
}

function addPerEndpoint(out: ScoringBreakdown, endpoints: unknown[]): void {
  const weighted: EndpointScores = {};
  for (const item of endpoints) {
    if (!isObject(item)) continue;
    const endpoint = item.endpoint ?? item.name ?? item.pod;
    if (typeof endpoint !== 'string') continue;
    if (typeof item.total === 'number') weighted[endpoint] = item.total;
    if (!isObject(item.scorers)) continue;
    for (const [scorer, entry] of Object.entries(item.scorers)) {
      const raw = typeof entry === 'number' ? entry : isObject(entry) ? (entry.raw ?? entry.score) : undefined;
      if (typeof raw !== 'number') continue;
      const row = (out.scorers[scorer] ??= { scores: {} });
      row.scores[endpoint] = raw;
      if (isObject(entry) && typeof entry.weight === 'number') row.weight = entry.weight;
    }
  }
  if (Object.keys(weighted).length > 0) out.weighted = weighted;
}

function scorerTable(value: unknown): ScoringBreakdown['scorers'] {
  const out: ScoringBreakdown['scorers'] = {};
  if (Array.isArray(value)) {
    for (const item of value) {
      if (!isObject(item)) continue;
      const name = item.scorer ?? item.name ?? item.type;
      const scores = endpointScores(item.scores);
      if (typeof name === 'string' && scores) out[name] = withWeight(scores, item.weight);
    }
    return out;
  }
  if (!isObject(value)) return out;
  for (const [name, entry] of Object.entries(value)) {
    const direct = endpointScores(entry);
    if (direct) {
      out[name] = { scores: direct };
      continue;
    }
    if (isObject(entry)) {
      const scores = endpointScores(entry.scores);
      if (scores) out[name] = withWeight(scores, entry.weight);
    }
  }
  return out;
}

function withWeight(scores: EndpointScores, weight: unknown): { weight?: number; scores: EndpointScores } {
  return typeof weight === 'number' ? { weight, scores } : { scores };
}

/** `{ep: 0.5}` or `["ep=0.500", ...]` → `{ep: 0.5}`; anything else → undefined. */
export function endpointScores(value: unknown): EndpointScores | undefined {
  if (Array.isArray(value)) {
    const out: EndpointScores = {};
    for (const item of value) {
      if (typeof item !== 'string') return undefined;
      const eq = item.lastIndexOf('=');
      const score = Number(item.slice(eq + 1));
      if (eq <= 0 || !Number.isFinite(score)) return undefined;
      out[item.slice(0, eq)] = score;
    }
    return value.length > 0 ? out : undefined;
  }
  if (!isObject(value)) return undefined;
  const entries = Object.entries(value);
  if (entries.length === 0 || !entries.every(([, v]) => typeof v === 'number')) return undefined;
  return Object.fromEntries(entries) as EndpointScores;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
