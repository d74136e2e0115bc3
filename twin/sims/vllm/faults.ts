/**
 * Fault injection: the config shape (same for env `VLLM_SIM_FAULTS` and `POST /_twin/faults`) and the seeded
 * decisions. Every random draw comes from a seeded PRNG, so the same seed and the same request sequence give
 * the same outcome (e.g. the same crash point).
 */
import { createRequire } from 'node:module';
import { seededRandom } from '../../../k8s-rules/prng.ts';
import type { z as Zod } from '#zod';

/**
 * zod is loaded on first use (a fault config from env or POST /_twin/faults), synchronously: importing it
 * costs every vLLM pod ~15 MB RSS and start-up time, and most pods never see a fault config.
 */
let schema: ReturnType<typeof buildSchema> | undefined;
function faultConfigSchema() {
  schema ??= buildSchema((createRequire(import.meta.url)('zod') as { z: typeof Zod }).z);
  return schema;
}

function buildSchema(z: typeof Zod) {
  return z
    .object({
      /** Seed for errorRate / hang draws. */
      seed: z.number().int().optional(),
      errorRate: z
        .object({ status: z.union([z.literal(429), z.literal(500), z.literal(503)]), rate: z.number().min(0).max(1) })
        .strict()
        .optional(),
      addLatencyMs: z.number().min(0).max(600_000).optional(),
      /** Accept the request and never answer; the connection is dropped after maxMs. */
      hang: z
        .union([
          z.boolean(),
          z.object({ rate: z.number().min(0).max(1).default(1), maxMs: z.number().min(0).max(600_000).default(30_000) }).strict(),
        ])
        .optional(),
      /** The decode IndexError (facts.md §3): the engine dies, the process exits 1. Triggers combine with OR. */
      indexError: z
        .object({
          afterRequests: z.number().int().min(0).optional(),
          probability: z.number().min(0).max(1).optional(),
          seed: z.number().int().optional(),
          onAbortedKv: z.boolean().optional(),
        })
        .strict()
        .optional(),
    })
    .strict();
}

export type FaultConfig = Zod.infer<ReturnType<typeof buildSchema>>;

export class FaultConfigError extends Error {
  override name = 'FaultConfigError';
}

export function parseFaultConfig(input: unknown): FaultConfig {
  const r = faultConfigSchema().safeParse(input);
  if (!r.success) {
    const first = r.error.issues[0];
    const where = first?.path.length ? first.path.join('.') + ': ' : '';
    throw new FaultConfigError(`invalid faults: ${where}${first?.message ?? 'bad value'}`);
  }
  return r.data;
}

export function parseFaultJson(json: string): FaultConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new FaultConfigError('invalid faults: not valid JSON');
  }
  return parseFaultConfig(raw);
}

export { seededRandom };

export type RequestFault =
  | { kind: 'none'; addLatencyMs: number }
  | { kind: 'error'; status: 429 | 500 | 503; addLatencyMs: number }
  | { kind: 'hang'; maxMs: number };

/** The live fault state: the config plus its PRNGs and counters (reset whenever the config is replaced). */
export class Faults {
  private cfg: FaultConfig = {};
  private requestRandom = seededRandom(0);
  private crashRandom = seededRandom(0);
  private engineRequests = 0;

  constructor(cfg: FaultConfig = {}) {
    this.set(cfg);
  }

  set(cfg: FaultConfig): void {
    this.cfg = cfg;
    this.requestRandom = seededRandom(cfg.seed ?? 1);
    this.crashRandom = seededRandom(cfg.indexError?.seed ?? 1);
    this.engineRequests = 0;
  }

  get config(): FaultConfig {
    return this.cfg;
  }

  get engineRequestCount(): number {
    return this.engineRequests;
  }

  /** Decided once per inference request, in arrival order, before it reaches the engine. */
  forRequest(): RequestFault {
    const { hang, errorRate } = this.cfg;
    if (hang) {
      const h = hang === true ? { rate: 1, maxMs: 30_000 } : hang;
      if (h.rate >= 1 || this.requestRandom() < h.rate) return { kind: 'hang', maxMs: h.maxMs };
    }
    const addLatencyMs = this.cfg.addLatencyMs ?? 0;
    if (errorRate && (errorRate.rate >= 1 || this.requestRandom() < errorRate.rate)) {
      return { kind: 'error', status: errorRate.status, addLatencyMs };
    }
    return { kind: 'none', addLatencyMs };
  }

  /**
   * Called once per request the engine admits (1-based count). True = this request's first engine step crashes
   * the engine. afterRequests N: request N+1 crashes. probability p: one seeded draw per request.
   */
  admitToEngine(): { counter: number; crash: boolean } {
    const counter = ++this.engineRequests;
    const ie = this.cfg.indexError;
    if (!ie) return { counter, crash: false };
    // Draw even when afterRequests decides, so the probability sequence does not depend on it.
    const draw = ie.probability !== undefined ? this.crashRandom() : 1;
    const byCount = ie.afterRequests !== undefined && counter > ie.afterRequests;
    const byChance = ie.probability !== undefined && draw < ie.probability;
    return { counter, crash: byCount || byChance };
  }

  crashOnAbortedKv(): boolean {
    return this.cfg.indexError?.onAbortedKv === true;
  }
}
