/** Simulator knobs read from the environment (`VLLM_SIM_*`). Defaults keep an 8-token request near 50–100 ms. */

export interface SimSettings {
  /** Time from start until /health turns 200. */
  startupMs: number;
  /** Prefill (time to first token) = ttftMs + ttftPerTokenMs * prompt tokens. */
  ttftMs: number;
  ttftPerTokenMs: number;
  /** Prefill time when the KV block came from the prefill pod: only this fixed part. */
  ttftKvHitMs: number;
  /** Inter-token latency, plus itlPerRunningMs for each other running sequence (batching cost). */
  itlMs: number;
  itlPerRunningMs: number;
  /** Multiplies every simulated delay; 0 = as fast as possible (benchmarks). */
  latencyScale: number;
  maxNumSeqs: number;
  /** KV cache capacity in tokens: admission needs room for prompt + max tokens; usage = held / capacity. */
  kvCapacityTokens: number;
  kvBytesPerToken: number;
  kvSendTimeoutMs: number;
  /** Completion length when the request gives no max_tokens (finish_reason "stop"). */
  defaultCompletionTokens: number;
  /** How long after an engine death the process exits (lets error responses flush). */
  deathExitDelayMs: number;
  /** Period of the "Engine 000: Avg prompt throughput ..." log line (only logged after activity); 0 = off. */
  statsIntervalMs: number;
  /**
   * Append a random suffix to internal request ids (vLLM v0.14.0+, PR #27987; breaks P2P tensor keys): on with
   * VLLM_SIM_REQUEST_ID_RANDOMIZATION=1 unless vLLM's later workaround VLLM_DISABLE_REQUEST_ID_RANDOMIZATION=1 is
   * set. Off by default although stock v0.15.0 randomizes: see README.md "Known divergence".
   */
  randomizeRequestIds: boolean;
  /** Raw VLLM_SIM_FAULTS JSON, validated by faults.ts. */
  faultsJson?: string;
}

export type Env = Record<string, string | undefined>;

export class SettingsError extends Error {
  override name = 'SettingsError';
}

function num(env: Env, name: string, dflt: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min) throw new SettingsError(`${name} must be a number >= ${min}, got '${raw}'`);
  return n;
}

export function readSettings(env: Env): SimSettings {
  return {
    startupMs: num(env, 'VLLM_SIM_STARTUP_MS', 300),
    ttftMs: num(env, 'VLLM_SIM_TTFT_MS', 20),
    ttftPerTokenMs: num(env, 'VLLM_SIM_TTFT_PER_TOKEN_MS', 0.05),
    ttftKvHitMs: num(env, 'VLLM_SIM_TTFT_KV_HIT_MS', 5),
    itlMs: num(env, 'VLLM_SIM_ITL_MS', 8),
    itlPerRunningMs: num(env, 'VLLM_SIM_ITL_PER_RUNNING_MS', 0.2),
    latencyScale: num(env, 'VLLM_SIM_LATENCY_SCALE', 1),
    maxNumSeqs: Math.floor(num(env, 'VLLM_SIM_MAX_NUM_SEQS', 16, 1)),
    kvCapacityTokens: Math.floor(num(env, 'VLLM_SIM_KV_CAPACITY_TOKENS', 65536, 1)),
    kvBytesPerToken: Math.floor(num(env, 'VLLM_SIM_KV_BYTES_PER_TOKEN', 256)),
    kvSendTimeoutMs: num(env, 'VLLM_SIM_KV_SEND_TIMEOUT_MS', 2000),
    defaultCompletionTokens: Math.floor(num(env, 'VLLM_SIM_DEFAULT_COMPLETION_TOKENS', 16, 1)),
    deathExitDelayMs: num(env, 'VLLM_SIM_DEATH_EXIT_MS', 300),
    statsIntervalMs: num(env, 'VLLM_SIM_STATS_INTERVAL_MS', 10_000),
    randomizeRequestIds: env['VLLM_SIM_REQUEST_ID_RANDOMIZATION'] === '1' && env['VLLM_DISABLE_REQUEST_ID_RANDOMIZATION'] !== '1',
    faultsJson: env['VLLM_SIM_FAULTS'] || undefined,
  };
}
