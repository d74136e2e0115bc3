/**
 * The scheduling plugins of the real EPP image (llm-d-inference-scheduler v0.4.0 cmd/epp/main.go registers
 * pkg/plugins/register.go on top of gateway-api-inference-extension v1.2.0 cmd/epp/runner/runner.go
 * registerInTreePlugins): same type names, parameter names, defaults and factory errors. Parameters are
 * decoded as encoding/json does (unknown parameters ignored, a wrong type is an error, gojson.ts).
 * Scorers write one score per candidate into a caller-owned array; scores are clamped to [0,1] by the profile.
 *
 * Approximations (same inputs, outputs, parameters and errors; the internals differ):
 * - prefix-cache-scorer hashes blocks with a 2×32-bit FNV-1a chain instead of xxhash64 (hash values are never
 *   observable, matches are).
 * - precise-prefix-cache-scorer cannot read vLLM's KV events (ZMQ) nor tokenize: it indexes the EPP's own
 *   routing decisions by blocks of `tokenProcessorConfig.blockSize` tokens (4 characters a token), and scores
 *   the longest matched prefix per pod, min-max normalised as the real scorer (utils.go).
 */
import { EppConfigError, type PluginSpec } from './config.ts';
import { BOOL, decodeGo, INT, RAW, STRING, goParseDurationMs, stringSlice, struct, type GoType } from './gojson.ts';
import type { Endpoint, Rng } from './types.ts';

/** What the plugins see of one request (types.LLMRequest). */
export interface SchedRequest {
  requestId: string;
  /** the target model */
  model: string;
  /** the prefix plugin's user input: the completions prompt, or the JSON of the chat messages */
  userInput: string;
  headers: Record<string, string>;
}

/** Per scheduling cycle: plugin state (types.CycleState) and the active-request counts of the EPP. */
export interface CycleContext {
  state: Map<string, unknown>;
  /** active-request-scorer counts per pod key "ns/name", including pods that left the pool */
  activeCounts: ReadonlyMap<string, number>;
}

export interface ProfileRunResult {
  /** best first */
  targets: Endpoint[];
}

export interface SchedulingOutcome {
  primaryProfile: string;
  results: Map<string, ProfileRunResult>;
  /** request headers the EPP adds (x-prefiller-host-port, x-data-parallel-host-port) */
  headers: Record<string, string>;
  /** the port the request goes to, when a profile handler rewrites it (primaryPort) */
  portOverride?: number;
}

interface Base {
  type: string;
  name: string;
  /** PreRequest extension point, after a successful schedule */
  preRequest?(req: SchedRequest, outcome: SchedulingOutcome): void;
}

export interface Filter extends Base {
  kind: 'filter';
  filter(pods: readonly Endpoint[], req: SchedRequest): Endpoint[];
}

export interface Scorer extends Base {
  kind: 'scorer';
  score(candidates: readonly Endpoint[], out: Float64Array, req: SchedRequest, cycle: CycleContext): void;
}

export interface Picker extends Base {
  kind: 'picker';
  /** indices into candidates, best first */
  pick(candidates: readonly Endpoint[], totals: Float64Array, rng: Rng): number[];
}

export interface ProfileHandler extends Base {
  kind: 'profile-handler';
  /** the profile whose result is primary, when the handler fixes it (pd: decodeProfile) */
  primary?: string;
  /** which profiles to run next (framework.ProfileHandler.Pick); empty: done */
  pickProfiles(
    profiles: readonly string[],
    results: ReadonlyMap<string, ProfileRunResult | null>,
    req: SchedRequest,
    cycle: CycleContext,
  ): string[];
  /** ProcessResults: the outcome, or an Error with the real message */
  processResults(results: ReadonlyMap<string, ProfileRunResult | null>, req: SchedRequest): SchedulingOutcome | Error;
}

/** Plugins that only take part in request control (prefill-header-handler). */
export interface RequestPlugin extends Base {
  kind: 'request';
}

export type Plugin = Filter | Scorer | Picker | ProfileHandler | RequestPlugin;

/** A message to log at load time (the real factories log some bad parameters and keep a default). */
export interface LoadWarning {
  level: 'info' | 'error';
  msg: string;
  fields: Record<string, unknown>;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;
export const ROLE_LABEL = 'llm-d.ai/role';
export const PREFILL_POD_HEADER = 'x-prefiller-host-port';
export const DATA_PARALLEL_POD_HEADER = 'x-data-parallel-host-port';
export const SESSION_TOKEN_HEADER = 'x-session-token';
export const TEST_ENDPOINT_SELECTION_HEADER = 'test-epp-endpoint-selection';

interface FactoryContext {
  warn(w: LoadWarning): void;
}

// ---- parameters ---------------------------------------------------------------------------------

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** json.Unmarshal(rawParameters, &params): a type error becomes `<prefix><go error>`; returns the record. */
function decodeParams(spec: PluginSpec, type: GoType, errPrefix: string): Record<string, unknown> {
  if (spec.parameters === undefined || spec.parameters === null) return {};
  const r = decodeGo(spec.parameters, type, false);
  if (r.typeError) throw new EppConfigError(`${errPrefix}${r.typeError}`);
  return isRecord(spec.parameters) ? spec.parameters : {};
}

const num = (v: unknown, dflt: number): number => (typeof v === 'number' ? v : dflt);
const str = (v: unknown, dflt: string): string => (typeof v === 'string' ? v : dflt);

// ---- filters ------------------------------------------------------------------------------------

/** llm-d v0.4.0 pkg/plugins/filter/by_label.go: keep pods whose label is a valid value, or unlabelled ones when allowed. */
function byLabelFilter(type: string, name: string, label: string, allowsNoLabel: boolean, validValues: readonly string[]): Filter {
  const valid = new Set(validValues);
  return {
    kind: 'filter',
    type,
    name,
    filter: (pods) =>
      pods.filter((p) => {
        const has = Object.hasOwn(p.labels, label);
        return (!has && allowsNoLabel) || (has && valid.has(p.labels[label]!)) || (!has && valid.has(''));
      }),
  };
}

function byLabel(spec: PluginSpec): Filter {
  const p = decodeParams(
    spec,
    struct('filter.byLabelParameters', { label: STRING, validValues: stringSlice(), allowsNoLabel: BOOL }),
    `failed to parse the parameters of the 'by-label' filter - `,
  );
  const label = str(p.label, '');
  const validValues = Array.isArray(p.validValues) ? (p.validValues as string[]) : [];
  const allowsNoLabel = p.allowsNoLabel === true;
  if (label === '') throw new EppConfigError(`invalid configuration for 'by-label' filter: 'label' must be specified`);
  if (validValues.length === 0 && !allowsNoLabel) {
    throw new EppConfigError(
      `invalid configuration for 'by-label' filter: either 'validValues' must be non-empty or 'allowsNoLabel' must be true`,
    );
  }
  return byLabelFilter(spec.type, spec.name, label, allowsNoLabel, validValues);
}

interface LabelRequirement {
  key: string;
  op: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values: string[];
}

/** llm-d v0.4.0 filter/by_label_selector.go: metav1.LabelSelector, converted with LabelSelectorAsSelector. */
function byLabelSelector(spec: PluginSpec): Filter {
  const p = decodeParams(
    spec,
    struct('v1.LabelSelector', {
      matchLabels: { k: 'map', goType: 'map[string]string', elem: STRING },
      matchExpressions: {
        k: 'slice',
        goType: '[]v1.LabelSelectorRequirement',
        elem: struct('v1.LabelSelectorRequirement', {
          key: STRING,
          operator: { k: 'string', goType: 'v1.LabelSelectorOperator' },
          values: stringSlice(),
        }),
      },
    }),
    `failed to parse the parameters of the 'by-label-selector' filter - `,
  );
  const reqs: LabelRequirement[] = [];
  for (const [k, v] of Object.entries(isRecord(p.matchLabels) ? p.matchLabels : {})) reqs.push({ key: k, op: 'In', values: [String(v)] });
  for (const x of Array.isArray(p.matchExpressions) ? p.matchExpressions : []) {
    const e = isRecord(x) ? x : {};
    const key = str(e.key, '');
    const op = str(e.operator, '');
    const values = Array.isArray(e.values) ? (e.values as string[]) : [];
    // k8s.io/apimachinery labels.NewRequirement validation (texts approximated)
    if (op !== 'In' && op !== 'NotIn' && op !== 'Exists' && op !== 'DoesNotExist') {
      throw new EppConfigError(`${JSON.stringify(op)} is not a valid label selector operator`);
    }
    if ((op === 'In' || op === 'NotIn') && values.length === 0) {
      throw new EppConfigError(`values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty`);
    }
    if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0) {
      throw new EppConfigError(`values: Invalid value: ${JSON.stringify(values)}: values set must be empty for exists and does not exist`);
    }
    reqs.push({ key, op, values });
  }
  return {
    kind: 'filter',
    type: spec.type,
    name: spec.name,
    filter: (pods) =>
      pods.filter((e) =>
        reqs.every((x) => {
          const has = Object.hasOwn(e.labels, x.key);
          const val = e.labels[x.key];
          if (x.op === 'Exists') return has;
          if (x.op === 'DoesNotExist') return !has;
          if (x.op === 'In') return has && x.values.includes(val!);
          return !has || !x.values.includes(val!);
        }),
      ),
  };
}

/** GAIE v1.2.0 plugins/test/filter/request_header_based_filter.go: pods named by IP or IP:port in a header, in header order. */
function headerBasedTestingFilter(spec: PluginSpec): Filter {
  return {
    kind: 'filter',
    type: spec.type,
    name: spec.name,
    filter(pods, req) {
      const hv = req.headers[TEST_ENDPOINT_SELECTION_HEADER];
      if (hv === undefined || hv.trim() === '') return [];
      const out: Endpoint[] = [];
      for (const raw of hv.split(',')) {
        const v = raw.trim().replace(/^\[|\]$/g, '');
        const hit = pods.find((p) => p.address === v || p.hostPort === raw.trim());
        if (hit && !out.includes(hit)) out.push(hit);
      }
      return out;
    },
  };
}

// ---- scorers ------------------------------------------------------------------------------------

/**
 * llm-d v0.4.0 pkg/plugins/scorer/active_request.go: (max - count) / max over the scorer's pod counts, where max
 * runs over every pod with a count (also pods no longer in the pool); a pod without a count scores 1.
 * The counting itself (PreRequest … ResponseComplete or the timeout) is datastore.ts ActiveRequests.
 */
function activeRequestScorer(spec: PluginSpec, ctx: FactoryContext): Scorer {
  requestTimeoutOf(spec, ctx);
  return {
    kind: 'scorer',
    type: spec.type,
    name: spec.name,
    score(c, out, _req, cycle) {
      let max = 0;
      for (const n of cycle.activeCounts.values()) if (n >= max) max = n;
      for (let i = 0; i < c.length; i++) {
        const n = cycle.activeCounts.get(c[i]!.key);
        out[i] = n === undefined || n === 0 || max === 0 ? 1 : (max - n) / max;
      }
    },
  };
}

/** The active-request-scorer's requestTimeout: a bad or non-positive value is logged and the 2m default kept. */
export function requestTimeoutOf(spec: PluginSpec, ctx?: FactoryContext): number {
  const p = decodeParams(
    spec,
    struct('scorer.ActiveRequestParameters', { requestTimeout: STRING }),
    `failed to parse the parameters of the 'active-request-scorer' scorer - `,
  );
  const v = str(p.requestTimeout, '');
  if (v === '') return DEFAULT_REQUEST_TIMEOUT_MS;
  const ms = goParseDurationMs(v);
  if (Number.isNaN(ms) || ms <= 0) {
    ctx?.warn({
      level: 'error',
      msg: 'Invalid request timeout duration, using default request timeout',
      fields: { error: Number.isNaN(ms) ? `time: invalid duration ${JSON.stringify(v)}` : null },
    });
    return DEFAULT_REQUEST_TIMEOUT_MS;
  }
  ctx?.warn({ level: 'info', msg: 'Using request timeout', fields: { requestTimeout: v } });
  return ms;
}

/** GAIE v1.2.0 scorer/queue.go: min-max normalised waiting queue, all equal → 1. */
function queueScorer(spec: PluginSpec): Scorer {
  return {
    kind: 'scorer',
    type: spec.type,
    name: spec.name,
    score(c, out) {
      let min = Infinity;
      let max = -Infinity;
      for (const e of c) {
        min = Math.min(min, e.metrics.waiting);
        max = Math.max(max, e.metrics.waiting);
      }
      for (let i = 0; i < c.length; i++) out[i] = max === min ? 1 : (max - c[i]!.metrics.waiting) / (max - min);
    },
  };
}

/** GAIE v1.2.0 scorer/kvcache_utilization.go: 1 - KV cache usage. */
function kvCacheUtilizationScorer(spec: PluginSpec): Scorer {
  return {
    kind: 'scorer',
    type: spec.type,
    name: spec.name,
    score(c, out) {
      for (let i = 0; i < c.length; i++) out[i] = 1 - c[i]!.metrics.kvCacheUsage;
    },
  };
}

/** GAIE v1.2.0 scorer/lora_affinity.go: adapter active 1, room for one 0.8, waiting 0.6, else 0. */
function loraAffinityScorer(spec: PluginSpec): Scorer {
  return {
    kind: 'scorer',
    type: spec.type,
    name: spec.name,
    score(c, out, req) {
      for (let i = 0; i < c.length; i++) {
        const m = c[i]!.metrics;
        const active = m.activeModels.includes(req.model);
        const waiting = m.waitingModels.includes(req.model);
        out[i] = active ? 1 : m.activeModels.length + m.waitingModels.length < m.maxActiveModels ? 0.8 : waiting ? 0.6 : 0;
      }
    },
  };
}

/** llm-d v0.4.0 scorer/load_aware.go: empty queue 0.5, linear down to 0 at `threshold` (≤0 → 128, logged). */
function loadAwareScorer(spec: PluginSpec, ctx: FactoryContext): Scorer {
  const p = decodeParams(
    spec,
    struct('scorer.loadAwareParameters', { threshold: INT }),
    `failed to parse the parameters of the 'load-aware-scorer' scorer - `,
  );
  let threshold = num(p.threshold, 128);
  if (threshold <= 0) {
    ctx.warn({ level: 'info', msg: `queueThreshold ${threshold} should be positive, using default queue threshold 128`, fields: {} });
    threshold = 128;
  }
  return {
    kind: 'scorer',
    type: spec.type,
    name: spec.name,
    score(c, out) {
      for (let i = 0; i < c.length; i++) {
        const w = Math.min(c[i]!.metrics.waiting, threshold);
        out[i] = w === 0 ? 0.5 : 0.5 * (1 - w / threshold);
      }
    },
  };
}

/**
 * llm-d v0.4.0 scorer/session_affinity.go: 1 for the endpoint whose NamespacedName the x-session-token names
 * (base64). Endpoint names are the datastore's, `ns/pod-rank-N` (gateway-api-inference-extension v1.2.0
 * pkg/epp/datastore/datastore.go), so a token for `ns/pod` matches nothing, as on a real EPP. The scorer's
 * ResponseComplete sets the token on the response only after the headers went out (ext-proc body phase), so
 * the twin's gateway does not send one either.
 */
function sessionAffinityScorer(spec: PluginSpec): Scorer {
  return {
    kind: 'scorer',
    type: spec.type,
    name: spec.name,
    score(c, out, req) {
      const token = req.headers[SESSION_TOKEN_HEADER] ?? '';
      const pod = token ? Buffer.from(token, 'base64').toString('utf8') : '';
      for (let i = 0; i < c.length; i++) out[i] = c[i]!.logName === pod ? 1 : 0;
    },
  };
}

// ---- prefix cache ---------------------------------------------------------------------------------

/** The state the prefix plugin leaves in the cycle state (prefix.SchedulingContextState). */
export interface PrefixState {
  hashes: string[];
  /** pod key → number of leading blocks it holds */
  servers: Map<string, number>;
}

function fnv1a(s: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619) >>> 0;
  }
  return h;
}

function chainHash(data: string, prev: string): string {
  return `${fnv1a(data + prev, 2166136261).toString(36)}.${fnv1a(prev + data, 0x9747b28c).toString(36)}`;
}

/** prefix/plugin.go hashPrompt: model-seeded chain over whole blocks of the user input, at most maxBlocks. */
export function hashBlocks(model: string, input: string, blockSize: number, maxBlocks: number): string[] {
  if (input.length < blockSize) return [];
  const text = input.length > blockSize * maxBlocks ? input.slice(0, blockSize * maxBlocks) : input;
  const out: string[] = [];
  let prev = chainHash(model, '');
  for (let i = 0; i + blockSize <= text.length; i += blockSize) {
    prev = chainHash(text.slice(i, i + blockSize), prev);
    out.push(prev);
  }
  return out;
}

/** prefix/indexer.go: block hash → pods, with an LRU of blocks per pod. */
export class PrefixIndexer {
  private readonly byHash = new Map<string, Set<string>>();
  private readonly lru = new Map<string, Map<string, true>>();

  get(hash: string): ReadonlySet<string> | undefined {
    return this.byHash.get(hash);
  }

  add(hashes: readonly string[], pod: string, capacity: number): void {
    let l = this.lru.get(pod);
    if (!l) this.lru.set(pod, (l = new Map()));
    for (const h of hashes) {
      l.delete(h);
      l.set(h, true);
      let s = this.byHash.get(h);
      if (!s) this.byHash.set(h, (s = new Set()));
      s.add(pod);
      while (l.size > capacity) {
        const old = l.keys().next().value as string;
        l.delete(old);
        const set = this.byHash.get(old);
        set?.delete(pod);
        if (set?.size === 0) this.byHash.delete(old);
      }
    }
  }

  /** matchLongestPrefix: per pod, how many leading blocks it holds (stops at the first block nobody has). */
  match(hashes: readonly string[]): Map<string, number> {
    const res = new Map<string, number>();
    for (const h of hashes) {
      const pods = this.byHash.get(h);
      if (!pods || pods.size === 0) break;
      for (const p of pods) res.set(p, (res.get(p) ?? 0) + 1);
    }
    return res;
  }
}

export function prefixStateKey(name: string, type: string): string {
  return `${name}/${type}`;
}

/** GAIE v1.2.0 scheduling/framework/plugins/multi/prefix/plugin.go. */
function prefixCacheScorer(spec: PluginSpec, ctx: FactoryContext): Scorer {
  const p = decodeParams(
    spec,
    struct('prefix.Config', { autoTune: BOOL, blockSize: INT, maxPrefixBlocksToMatch: INT, lruCapacityPerServer: INT }),
    `failed to parse the parameters of the prefix-cache-scorer plugin. Error: `,
  );
  const autoTune = typeof p.autoTune === 'boolean' ? p.autoTune : true;
  let blockSize = num(p.blockSize, 64);
  let maxBlocks = num(p.maxPrefixBlocksToMatch, 256);
  let capacity = num(p.lruCapacityPerServer, 31250);
  if (capacity <= 0) capacity = 31250;
  if (blockSize <= 0) {
    blockSize = 64;
    ctx.warn({ level: 'info', msg: 'BlockSize is not positive, using default value', fields: { default: 64 } });
  }
  if (maxBlocks <= 0) {
    maxBlocks = 256;
    ctx.warn({ level: 'info', msg: 'MaxPrefixBlocksToMatch is not positive, using default value', fields: { default: 256 } });
  }
  const indexer = new PrefixIndexer();
  const key = prefixStateKey(spec.name, spec.type);
  const pending = new Map<string, PrefixState>();
  const sizeFor = (pods: readonly Endpoint[]) => {
    const bs = autoTune ? (pods[0]?.metrics.cacheBlockSize ?? 0) : 0;
    return bs > 0 ? bs * 4 : blockSize;
  };
  return {
    kind: 'scorer',
    type: spec.type,
    name: spec.name,
    score(c, out, req, cycle) {
      const hashes = hashBlocks(req.model, req.userInput, sizeFor(c), maxBlocks);
      const state: PrefixState = { hashes, servers: indexer.match(hashes) };
      cycle.state.set(key, state);
      if (pending.size > 10_000) pending.clear();
      pending.set(req.requestId, state);
      for (let i = 0; i < c.length; i++) out[i] = hashes.length === 0 ? 0 : (state.servers.get(c[i]!.key) ?? 0) / hashes.length;
    },
    preRequest(req, outcome) {
      const state = pending.get(req.requestId);
      pending.delete(req.requestId);
      const target = outcome.results.get(outcome.primaryProfile)?.targets[0];
      if (!state || !target) return;
      const blocks = autoTune && target.metrics.numGpuBlocks > 0 ? target.metrics.numGpuBlocks : capacity;
      indexer.add(state.hashes, target.key, blocks);
    },
  };
}

const KVCACHE_CONFIG: GoType = struct('kvcache.Config', {
  prefixStoreConfig: struct('prefixstore.Config', { cacheSize: INT, blockSize: INT }),
  tokenProcessorConfig: struct('kvblock.TokenProcessorConfig', { blockSize: INT, hashSeed: STRING }),
  kvBlockIndexConfig: struct('kvblock.IndexConfig', {
    enableMetrics: BOOL,
    metricsLoggingInterval: INT,
    inMemoryConfig: RAW,
    redisConfig: RAW,
    costAwareMemoryConfig: RAW,
  }),
  tokenizersPoolConfig: struct('tokenization.Config', { workersCount: INT, minPrefixOverlapRatio: { k: 'float' }, hf: RAW, local: RAW }),
});

/**
 * llm-d v0.4.0 scorer/precise_prefix_cache.go (approximated, see the file comment): parameters `indexerConfig`
 * (kvcache.Config) and `kvEventsConfig` (kvevents.Config); scores normalised min-max, pods without a hit 0.
 */
function precisePrefixCacheScorer(spec: PluginSpec): Scorer {
  const p = decodeParams(
    spec,
    struct('scorer.PrecisePrefixCachePluginConfig', {
      indexerConfig: KVCACHE_CONFIG,
      kvEventsConfig: struct('kvevents.Config', { zmqEndpoint: STRING, topicFilter: STRING, concurrency: INT }),
    }),
    `failed to parse precise-prefix-cache-scorer plugin config: `,
  );
  const ic = isRecord(p.indexerConfig) ? p.indexerConfig : {};
  const tp = isRecord(ic.tokenProcessorConfig) ? ic.tokenProcessorConfig : {};
  const tokens = num(tp.blockSize, 16);
  if (tokens <= 0)
    throw new EppConfigError(
      `failed to create precise-prefix-cache-scorer plugin: failed to create \`kvcache.Indexer\`: block size must be positive`,
    );
  const blockChars = tokens * 4;
  const indexer = new PrefixIndexer();
  const pending = new Map<string, string[]>();
  return {
    kind: 'scorer',
    type: spec.type,
    name: spec.name,
    score(c, out, req) {
      const hashes = hashBlocks(req.model, req.userInput, blockChars, 1 << 20);
      if (pending.size > 10_000) pending.clear();
      pending.set(req.requestId, hashes);
      const scores = indexer.match(hashes);
      let min = Infinity;
      let max = -Infinity;
      for (const v of scores.values()) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      for (let i = 0; i < c.length; i++) {
        const s = scores.get(c[i]!.key);
        out[i] = s === undefined ? 0 : min === max ? 1 : (s - min) / (max - min);
      }
    },
    preRequest(req, outcome) {
      const hashes = pending.get(req.requestId);
      pending.delete(req.requestId);
      for (const r of outcome.results.values()) {
        const t = r.targets[0];
        if (hashes && t) indexer.add(hashes, t.key, 1 << 20);
      }
    },
  };
}

/**
 * llm-d v0.4.0 scorer/no_hit_lru.go: cold requests (no prefix state, or no pod with a hit) prefer the pods used
 * least recently; warm ones score 0.5. It reads the prefix state under the plain plugin name
 * (`prefixPluginName`), which the prefix plugin never writes (it writes "name/type"), so in v0.4.0 every request
 * is treated as cold — reproduced.
 */
function noHitLruScorer(spec: PluginSpec): Scorer {
  const p = decodeParams(
    spec,
    struct('scorer.NoHitLRUParameters', { prefixPluginName: STRING, lruSize: INT }),
    `failed to parse the parameters of the 'no-hit-lru-scorer' scorer - `,
  );
  const prefixKey = str(p.prefixPluginName, '') || 'prefix-cache-scorer';
  const size = num(p.lruSize, 0) > 0 ? num(p.lruSize, 0) : 1024;
  /** most recently used first (hashicorp lru Keys() is oldest first; the scorer ranks by that position) */
  const lru = new Map<string, true>();
  const cold = new Map<string, boolean>();
  return {
    kind: 'scorer',
    type: spec.type,
    name: spec.name,
    score(c, out, req, cycle) {
      const st = cycle.state.get(prefixKey) as PrefixState | undefined;
      const isCold = !st || st.servers.size === 0;
      if (cold.size > 10_000) cold.clear();
      cold.set(req.requestId, isCold);
      if (!isCold) return void out.fill(0.5);
      const total = c.length;
      if (total === 1) return void (out[0] = 1);
      const keys = [...lru.keys()]; // oldest first
      const pos = new Map(keys.map((k, i) => [k, i]));
      const never = c.map((e, i) => [e, i] as const).filter(([e]) => !pos.has(e.key));
      never.forEach(([, i], rank) => (out[i] = 1 - rank / (total - 1)));
      for (let i = 0; i < c.length; i++) {
        const at = pos.get(c[i]!.key);
        if (at !== undefined) out[i] = Math.max(0, 1 - (never.length + at) / (total - 1));
      }
    },
    preRequest(req, outcome) {
      const wasCold = cold.get(req.requestId);
      cold.delete(req.requestId);
      const t = outcome.results.get(outcome.primaryProfile)?.targets[0];
      if (!wasCold || !t) return;
      lru.delete(t.key);
      lru.set(t.key, true);
      while (lru.size > size) lru.delete(lru.keys().next().value as string);
    },
  };
}

// ---- pickers ------------------------------------------------------------------------------------

function pickerCount(spec: PluginSpec): number {
  const p = decodeParams(
    spec,
    struct('picker.pickerParameters', { maxNumOfEndpoints: INT }),
    `failed to parse the parameters of the '${spec.type}' picker - `,
  );
  const n = num(p.maxNumOfEndpoints, 1);
  return n <= 0 ? 1 : n; // on invalid configuration value, fallback to default value
}

/** GAIE v1.2.0 picker/max_score_picker.go: shuffle, stable sort by score, first n. */
function maxScorePicker(spec: PluginSpec): Picker {
  const n = pickerCount(spec);
  return {
    kind: 'picker',
    type: spec.type,
    name: spec.name,
    pick(c, totals, rng) {
      if (n === 1) {
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
  const n = pickerCount(spec);
  return { kind: 'picker', type: spec.type, name: spec.name, pick: (c, _t, rng) => shuffledIndices(c.length, rng).slice(0, n) };
}

/** GAIE v1.2.0 picker/weighted_random_picker.go: A-Res keys u^(1/score); all scores zero → random picker. */
function weightedRandomPicker(spec: PluginSpec): Picker {
  const n = pickerCount(spec);
  return {
    kind: 'picker',
    type: spec.type,
    name: spec.name,
    pick(c, totals, rng) {
      if (!c.some((_, i) => totals[i]! > 0)) return shuffledIndices(c.length, rng).slice(0, n);
      const keys = c.map((_, i) => (totals[i]! <= 0 ? 0 : Math.pow(rng() || 1e-10, 1 / totals[i]!)));
      return keys
        .map((k, i) => [k, i] as const)
        .sort((a, b) => b[0] - a[0])
        .slice(0, n)
        .map(([, i]) => i);
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

// ---- profile handlers -----------------------------------------------------------------------------

/** GAIE v1.2.0 profile/single_profile_handler.go. */
function singleProfileHandler(spec: PluginSpec): ProfileHandler {
  return {
    kind: 'profile-handler',
    type: spec.type,
    name: spec.name,
    pickProfiles: (profiles, results) => (results.size === profiles.length ? [] : [...profiles]),
    processResults(results) {
      if (results.size !== 1)
        return new Error('single profile handler is intended to be used with a single profile, failed to process multiple profiles');
      const [name, r] = [...results][0]!;
      if (!r) return new Error(`failed to run scheduler profile '${name}'`);
      return { primaryProfile: name, results: new Map([[name, r]]), headers: {} };
    },
  };
}

function portParam(p: Record<string, unknown>, dflt: number): number {
  const port = num(p.primaryPort, dflt);
  if (port !== 0 && (port < 1 || port > 65535)) throw new EppConfigError(`invalid primaryPort: must be between 1 and 65535, got ${port}`);
  return port;
}

/** llm-d v0.4.0 profile/dp_profile_handler.go: one profile; the target's port becomes primaryPort, its address a header. */
function dataParallelProfileHandler(spec: PluginSpec): ProfileHandler {
  // the real factory names pd-profile-handler in this error (copy-paste in v0.4.0), reproduced
  const p = decodeParams(
    spec,
    struct('profile.dataParallelProfileHandlerParameters', { primaryPort: INT }),
    `failed to parse the parameters of the 'pd-profile-handler' profile handler - `,
  );
  const primaryPort = portParam(p, 8000);
  return {
    kind: 'profile-handler',
    type: spec.type,
    name: spec.name,
    pickProfiles: (profiles, results) => (results.size === profiles.length ? [] : [...profiles]),
    processResults(results) {
      if (results.size !== 1)
        return new Error('data parallel profile handler is intended to be used with a single profile, failed to process multiple profiles');
      const [name, r] = [...results][0]!;
      if (!r) return new Error(`failed to run scheduler profile '${name}'`);
      return {
        primaryProfile: name,
        results: new Map([[name, r]]),
        headers: { [DATA_PARALLEL_POD_HEADER]: r.targets[0]!.hostPort },
        portOverride: primaryPort,
      };
    },
  };
}

/** llm-d v0.4.0 profile/pd_profile_handler.go: decode first, then prefill unless the uncached suffix is below `threshold`. */
function pdProfileHandler(spec: PluginSpec): ProfileHandler {
  const p = decodeParams(
    spec,
    struct('profile.pdProfileHandlerParameters', {
      threshold: INT,
      decodeProfile: STRING,
      prefillProfile: STRING,
      prefixPluginName: STRING,
      hashBlockSize: INT,
      primaryPort: INT,
    }),
    `failed to parse the parameters of the 'pd-profile-handler' profile handler - `,
  );
  const threshold = num(p.threshold, 0);
  const hashBlockSize = num(p.hashBlockSize, 64);
  if (threshold < 0) throw new EppConfigError(`invalid threshold: must be >= 0, got ${threshold}`);
  if (hashBlockSize <= 0) throw new EppConfigError(`invalid hashBlockSize: must be > 0, got ${hashBlockSize}`);
  const primaryPort = portParam(p, 0);
  const decode = str(p.decodeProfile, 'decode');
  const prefill = str(p.prefillProfile, 'prefill');
  const prefixKey = prefixStateKey(str(p.prefixPluginName, 'prefix-cache-scorer'), 'prefix-cache-scorer');
  return {
    kind: 'profile-handler',
    type: spec.type,
    name: spec.name,
    primary: decode,
    pickProfiles(profiles, results, req, cycle) {
      if (!results.has(decode)) return [decode];
      if (results.size === profiles.length || !results.get(decode)) return [];
      if (threshold > 0) {
        const len = req.userInput.length;
        let hit = 0;
        const st = cycle.state.get(prefixKey) as PrefixState | undefined;
        const pod = results.get(decode)!.targets[0]!.key;
        if (st && len > 0) hit = (Math.max((st.servers.get(pod) ?? 0) - 1, 0) * hashBlockSize) / len; // the first hit is the model name
        if ((1 - hit) * len < threshold) return [];
      }
      return [prefill];
    },
    processResults(results) {
      const d = results.get(decode);
      if (!d) return new Error('failed to find available decode workers');
      const out = new Map<string, ProfileRunResult>([[decode, d]]);
      const pr = results.get(prefill);
      if (pr) out.set(prefill, pr);
      const headers: Record<string, string> = {};
      if (primaryPort !== 0) headers[DATA_PARALLEL_POD_HEADER] = d.targets[0]!.hostPort;
      return { primaryProfile: decode, results: out, headers, ...(primaryPort !== 0 ? { portOverride: primaryPort } : {}) };
    },
  };
}

/** llm-d v0.4.0 pre-request/pd_prerequest.go: x-prefiller-host-port = the prefill profile's target. */
function prefillHeaderHandler(spec: PluginSpec): RequestPlugin {
  const p = decodeParams(
    spec,
    struct('prerequest.prefillHeaderHandlerParameters', { prefillProfile: STRING }),
    `failed to parse the parameters of the 'prefill-header-handler' pre-request plugin - `,
  );
  const profile = str(p.prefillProfile, 'prefill');
  return {
    kind: 'request',
    type: spec.type,
    name: spec.name,
    preRequest(_req, outcome) {
      delete outcome.headers[PREFILL_POD_HEADER];
      const t = outcome.results.get(profile)?.targets[0];
      if (t) outcome.headers[PREFILL_POD_HEADER] = t.hostPort;
    },
  };
}

// ---- registry -----------------------------------------------------------------------------------

const FACTORIES: Record<string, (spec: PluginSpec, ctx: FactoryContext) => Plugin> = {
  // gateway-api-inference-extension v1.2.0 cmd/epp/runner/runner.go registerInTreePlugins
  'prefix-cache-scorer': prefixCacheScorer,
  'max-score-picker': maxScorePicker,
  'random-picker': randomPicker,
  'weighted-random-picker': weightedRandomPicker,
  'single-profile-handler': singleProfileHandler,
  'kv-cache-utilization-scorer': kvCacheUtilizationScorer,
  'queue-scorer': queueScorer,
  'lora-affinity-scorer': loraAffinityScorer,
  'header-based-testing-filter': headerBasedTestingFilter,
  'destination-endpoint-served-verifier': (s) => ({ kind: 'request', type: s.type, name: s.name }),
  // llm-d-inference-scheduler v0.4.0 pkg/plugins/register.go
  'by-label': byLabel,
  'by-label-selector': byLabelSelector,
  // filter/pd_role.go: decode accepts decode, both or no role label; prefill only "prefill"; parameters ignored
  'decode-filter': (s) => byLabelFilter(s.type, s.name, ROLE_LABEL, true, ['decode', 'both']),
  'prefill-filter': (s) => byLabelFilter(s.type, s.name, ROLE_LABEL, false, ['prefill']),
  'prefill-header-handler': prefillHeaderHandler,
  'data-parallel-profile-handler': dataParallelProfileHandler,
  'pd-profile-handler': pdProfileHandler,
  'precise-prefix-cache-scorer': precisePrefixCacheScorer,
  'load-aware-scorer': loadAwareScorer,
  'session-affinity-scorer': sessionAffinityScorer,
  'active-request-scorer': activeRequestScorer,
  'no-hit-lru-scorer': noHitLruScorer,
};

export const KNOWN_PLUGIN_TYPES: readonly string[] = Object.keys(FACTORIES);

/** One plugin from its spec; errors as instantiatePlugins words them (without the outer wrapping). */
export function instantiatePlugin(spec: PluginSpec, warn: (w: LoadWarning) => void = () => {}): Plugin {
  const factory = FACTORIES[spec.type];
  if (!factory) throw new EppConfigError(`plugin type '${spec.type}' is not found in registry`);
  try {
    return factory(spec, { warn });
  } catch (err) {
    throw new EppConfigError(`failed to instantiate the plugin type '${spec.type}' - ${(err as Error).message}`, { cause: err });
  }
}
