/**
 * Generator of realistic EPP logs with known counts: "Scoring decision" lines (the seed's instrumented EPP),
 * "Scoring breakdown" lines, the start line with the loaded profile, other zap messages, plain-text noise,
 * failures in JSON and text, optional kubectl `--timestamps` / `--prefix` prefixes. Deterministic for a seed.
 * Used by the analyzer tests and the benchmarks.
 */
import { seededRandom as mulberry32 } from '../../k8s-rules/prng.ts';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export interface GenEndpoint {
  /** As the EPP logs it, e.g. `llm-d-vllm/vllm-p2p-proxy-5d9c7b7f6-x2k4q-rank-0`. */
  endpoint: string;
  /** The workload the analyzer must attribute it to. */
  workload: string;
  /** Relative chance of being picked (default 1). */
  weight?: number;
}

export const SEED_ENDPOINTS: GenEndpoint[] = [
  { endpoint: 'llm-d-vllm/vllm-p2p-proxy-5d9c7b7f6-x2k4q-rank-0', workload: 'vllm-p2p-proxy' },
  { endpoint: 'llm-d-vllm/vllm-fs-proxy-7c6b8d9f4-m8z2w-rank-0', workload: 'vllm-fs-proxy' },
];

export type PrefixMode = 'none' | 'timestamps' | 'pod' | 'both' | 'mixed';

export interface EppLogOptions {
  seed?: number;
  decisions: number;
  endpoints?: GenEndpoint[];
  /** Every Nth decision selects two endpoints (maxNumOfEndpoints = 2). 0 = never. */
  multiSelectEvery?: number;
  /** A "Scoring breakdown" line before each decision (default true). */
  breakdown?: boolean;
  /** Start line "Loaded scheduling profile" (default true). */
  loadedProfile?: boolean;
  otherJson?: number;
  nonJson?: number;
  /** Blank lines (ignored by the analyzer, not skipped). */
  blank?: number;
  /** Lines that mention "Scoring decision" but are not decisions (text, truncated JSON, other msg). */
  decoyDecisions?: number;
  exhausted?: number;
  profileFailed?: number;
  /** Lines mentioning both failures (count once for each). */
  bothFailures?: number;
  prefix?: PrefixMode;
  /** Epoch seconds of the first line; each line is 1 ms later. */
  startTs?: number;
}

export interface ExpectedCounts {
  decisions: number;
  byEndpoint: Record<string, number>;
  byWorkload: Record<string, number>;
  failures: { InferencePoolResourceExhausted: number; failedToRunSchedulerProfile: number };
  skippedLines: number;
  /** Every line written, blank ones included. */
  totalLines: number;
  /** Timestamp of the last line, epoch seconds. */
  lastTs: number;
}

type Kind = 'decision' | 'otherJson' | 'nonJson' | 'blank' | 'decoy' | 'exhausted' | 'profileFailed' | 'both';

export { mulberry32 };

function emptyExpected(startTs: number): ExpectedCounts {
  return {
    decisions: 0,
    byEndpoint: {},
    byWorkload: {},
    failures: { InferencePoolResourceExhausted: 0, failedToRunSchedulerProfile: 0 },
    skippedLines: 0,
    totalLines: 0,
    lastTs: startTs,
  };
}

const OTHER_MESSAGES = [
  (ts: number) => `{"level":"info","ts":${ts},"logger":"datastore","msg":"Pod added","pod":"llm-d-vllm/vllm-fs-proxy-7c6b8d9f4-m8z2w"}`,
  (ts: number) => `{"level":"debug","ts":${ts},"logger":"metrics","msg":"Refreshed metrics","pods":2,"duration":"1.2ms"}`,
  (ts: number) =>
    `{"level":"info","ts":${ts},"caller":"handlers/server.go:112","msg":"Request handled","x-request-id":"a1b2","status":200}`,
  (ts: number) => `{"level":"info","ts":${ts},"msg":"Scheduling request","model":"Qwen/Qwen3-Coder-30B-A3B-Instruct"}`,
];
const NON_JSON = [
  () => 'I1125 01:29:00.123456       1 main.go:140] "Starting EPP" version="v0.4.0"',
  () => 'W1125 01:29:01.000000       1 reflector.go:561] watch of *v1.Pod ended with: an error on the server',
  () => 'panic-free plain text line from a sidecar',
  () => '{"level":"info","ts":1732500000.1,"msg":"truncated json',
];

/** Yields the log lines and fills `expected` as it goes (complete once the generator is exhausted). */
export function* eppLogLines(options: EppLogOptions, expected: ExpectedCounts = emptyExpected(0)): Generator<string> {
  const rand = mulberry32(options.seed ?? 1);
  const endpoints = options.endpoints ?? SEED_ENDPOINTS;
  const weights = endpoints.map((e) => e.weight ?? 1);
  const weightSum = weights.reduce((a, b) => a + b, 0);
  const startTs = options.startTs ?? 1732500000;
  const prefix = options.prefix ?? 'none';
  const multiEvery = options.multiSelectEvery ?? 0;
  const remaining: Record<Kind, number> = {
    decision: options.decisions,
    otherJson: options.otherJson ?? 0,
    nonJson: options.nonJson ?? 0,
    blank: options.blank ?? 0,
    decoy: options.decoyDecisions ?? 0,
    exhausted: options.exhausted ?? 0,
    profileFailed: options.profileFailed ?? 0,
    both: options.bothFailures ?? 0,
  };
  let left = Object.values(remaining).reduce((a, b) => a + b, 0);
  let lineNo = 0;
  let decisionNo = 0;

  const pickEndpoint = (exclude?: GenEndpoint): GenEndpoint => {
    for (let tries = 0; tries < 100; tries++) {
      let r = rand() * weightSum;
      for (let i = 0; i < endpoints.length; i++) {
        r -= weights[i] ?? 0;
        if (r < 0) {
          const e = endpoints[i] as GenEndpoint;
          if (e !== exclude) return e;
          break;
        }
      }
    }
    return endpoints.find((e) => e !== exclude) ?? (endpoints[0] as GenEndpoint);
  };
  const ts = (): number => Math.round((startTs + lineNo / 1000) * 1000) / 1000;
  const wrap = (body: string, t: number): string => {
    lineNo++;
    expected.totalLines++;
    expected.lastTs = t;
    const mode = prefix === 'mixed' ? (['none', 'timestamps', 'pod', 'both'] as const)[lineNo % 4] : prefix;
    if (mode === 'none') return body;
    const iso = mode === 'pod' ? '' : new Date(t * 1000).toISOString().replace('Z', '123456Z'); // nanoseconds, like kubectl
    const pod =
      lineNo % 2 === 0 ? '[pod/gaie-inference-scheduling-epp-6b8f9c7d5-tq9zx/epp] ' : '(gaie-inference-scheduling-epp-6b8f9c7d5-tq9zx) ';
    switch (mode) {
      case 'timestamps':
        return `${iso} ${body}`;
      case 'pod':
        return `${pod}${body}`;
      case 'both':
        return `${pod}${iso} ${body}`;
      default:
        return body;
    }
  };
  const skip = (body: string, t: number): string => {
    expected.skippedLines++;
    return wrap(body, t);
  };

  if (options.loadedProfile ?? true) {
    const t = ts();
    yield skip(
      `{"level":"info","ts":${t},"logger":"scheduler","msg":"Loaded scheduling profile","profile":"default","Filters":[],"Scorers":["active-request-scorer"],"Picker":"max-score-picker"}`,
      t,
    );
  }

  while (left > 0) {
    let r = Math.floor(rand() * left);
    let kind: Kind = 'decision';
    for (const k of Object.keys(remaining) as Kind[]) {
      if (r < remaining[k]) {
        kind = k;
        break;
      }
      r -= remaining[k];
    }
    remaining[kind]--;
    left--;
    const t = ts();
    switch (kind) {
      case 'decision': {
        decisionNo++;
        const requestId = `req-${decisionNo.toString(16).padStart(8, '0')}`;
        const first = pickEndpoint();
        const selected = multiEvery > 0 && decisionNo % multiEvery === 0 && endpoints.length > 1 ? [first, pickEndpoint(first)] : [first];
        const scores = endpoints.map((e) => `"${e.endpoint}=${selected.includes(e) ? '1.000' : '0.500'}"`).join(',');
        if (options.breakdown ?? true) {
          const perEp = endpoints.map((e) => `"${e.endpoint}":${selected.includes(e) ? 1 : 0.5}`).join(',');
          yield skip(
            `{"level":"info","ts":${t},"logger":"scheduler","msg":"Scoring breakdown","request_id":"${requestId}","model":"Qwen/Qwen3-Coder-30B-A3B-Instruct","prompt_len":${40 + (decisionNo % 900)},"scorers":{"active-request-scorer":{"weight":1,"scores":{${perEp}}}},"weighted":{${perEp}}}`,
            t,
          );
        }
        expected.decisions++;
        for (const e of selected) {
          expected.byEndpoint[e.endpoint] = (expected.byEndpoint[e.endpoint] ?? 0) + 1;
          expected.byWorkload[e.workload] = (expected.byWorkload[e.workload] ?? 0) + 1;
        }
        yield wrap(
          `{"level":"info","ts":${t},"logger":"scheduler","msg":"Scoring decision","request_id":"${requestId}","model":"Qwen/Qwen3-Coder-30B-A3B-Instruct","prompt_len":${40 + (decisionNo % 900)},"picker":"max-score-picker/max-score-picker","selected":[${selected.map((e) => `"${e.endpoint}"`).join(',')}],"scores":[${scores}]}`,
          t,
        );
        break;
      }
      case 'otherJson':
        yield skip((OTHER_MESSAGES[lineNo % OTHER_MESSAGES.length] as (t: number) => string)(t), t);
        break;
      case 'nonJson':
        yield skip((NON_JSON[lineNo % NON_JSON.length] as () => string)(), t);
        break;
      case 'blank':
        // Blank lines carry no prefix and are not counted.
        lineNo++;
        expected.totalLines++;
        yield '';
        break;
      case 'decoy': {
        const decoys = [
          `Scoring decision for request req-x: selected [llm-d-vllm/vllm-p2p-proxy-5d9c7b7f6-x2k4q-rank-0]`,
          `{"level":"info","ts":${t},"msg":"Scoring decision","request_id":"req-cut","selected":["llm-d-vllm/vllm-p2p-pro`,
          `{"level":"debug","ts":${t},"msg":"Scoring decision skipped: no candidates scored","selected":["llm-d-vllm/vllm-fs-proxy-7c6b8d9f4-m8z2w-rank-0"]}`,
          `{"level":"info","ts":${t},"msg":"Scoring decision","request_id":"req-nosel"}`,
        ];
        yield skip(decoys[lineNo % decoys.length] as string, t);
        break;
      }
      case 'exhausted': {
        expected.failures.InferencePoolResourceExhausted++;
        const variants = [
          `{"level":"error","ts":${t},"logger":"handlers","msg":"Failed to schedule request","error":"inference gateway: InferencePoolResourceExhausted - failed to find target pod: no pods available for the given request"}`,
          `{"level":"error","ts":${t},"msg":"Request failed","err":{"code":"InferencePoolResourceExhausted","msg":"no candidates after filters"}}`,
          `E1125 01:29:03.000000       1 director.go:160] "Error handling request" err="inference gateway: InferencePoolResourceExhausted - failed to find target pod"`,
        ];
        yield wrap(variants[lineNo % variants.length] as string, t);
        break;
      }
      case 'profileFailed': {
        expected.failures.failedToRunSchedulerProfile++;
        const variants = [
          `{"level":"error","ts":${t},"logger":"scheduler","msg":"failed to run scheduler profile","profile":"default","error":"no pods left after filter by-kv-backend"}`,
          `E1125 01:29:04.000000       1 scheduler.go:98] Failed to run scheduler profile default: no candidates`,
        ];
        yield wrap(variants[lineNo % variants.length] as string, t);
        break;
      }
      case 'both':
        expected.failures.InferencePoolResourceExhausted++;
        expected.failures.failedToRunSchedulerProfile++;
        yield wrap(
          `{"level":"error","ts":${t},"logger":"director","msg":"Scheduling failed","error":"failed to run scheduler profile 'default': InferencePoolResourceExhausted - no pods available"}`,
          t,
        );
        break;
    }
  }
}

/** All lines in memory with their expected counts (small logs). */
export function generateEppLog(options: EppLogOptions): { lines: string[]; expected: ExpectedCounts } {
  const expected = emptyExpected(options.startTs ?? 1732500000);
  const lines = [...eppLogLines(options, expected)];
  return { lines, expected };
}

/** Streams a log to a file (constant memory, for 1,000,000+ lines) and returns its expected counts. */
export async function writeEppLog(path: string, options: EppLogOptions): Promise<ExpectedCounts> {
  const expected = emptyExpected(options.startTs ?? 1732500000);
  const out = createWriteStream(path);
  let batch: string[] = [];
  for (const line of eppLogLines(options, expected)) {
    batch.push(line);
    if (batch.length >= 2000) {
      if (!out.write(`${batch.join('\n')}\n`)) await once(out, 'drain');
      batch = [];
    }
  }
  if (batch.length > 0) out.write(`${batch.join('\n')}\n`);
  out.end();
  await once(out, 'finish');
  return expected;
}

/** The analyzer's JSON shape of the expected counts (without the generator's bookkeeping). */
export function asDecisionCounts(e: ExpectedCounts): Omit<ExpectedCounts, 'totalLines' | 'lastTs'> & { source: string } {
  return {
    decisions: e.decisions,
    byEndpoint: e.byEndpoint,
    byWorkload: e.byWorkload,
    failures: e.failures,
    skippedLines: e.skippedLines,
    source: e.decisions > 0 ? 'decisions' : 'none',
  };
}
