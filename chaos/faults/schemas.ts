/**
 * Every fault a suite can declare, once: its name (the key in `spec.faults`), a one-line description and the
 * only schema of its settings. The suite schema's `spec.faults` items (suites/schema.ts) and the JSON Schema
 * come from `FAULT_SPECS`; chaos/faults/index.ts pairs each spec with the code that injects it
 * (`FAULT_DEFINITIONS`, typed so a spec without an injector does not compile).
 *
 * The specs are pure (zod and the suite schema's building blocks only) and live apart from the injectors
 * because the suite schema (suites/) may not import the cluster driver the injectors use (docs/architecture.md,
 * Layers). To add a fault: a spec here (and in FAULT_SPECS), a module in this folder exporting
 * `defineFault(spec, { plan, writes, inject })`, its entry in FAULT_DEFINITIONS (index.ts), then regenerate the JSON Schema.
 */
import { z } from '#zod';
import { HOUR_MS, duration, labelSelector, namespace, positiveInt, ratio, workloadRef } from '../../suites/schema-parts.ts';

/** A fault's name, description and settings schema. */
export interface FaultSpec<N extends string = string, S extends z.ZodType = z.ZodType> {
  /** The key in `spec.faults`, e.g. `podKill`. */
  name: N;
  /** One line, the fault's description in the JSON Schema. */
  description: string;
  /** The only schema of this fault's settings. */
  schema: S;
}

export function defineFaultSpec<const N extends string, S extends z.ZodType>(spec: FaultSpec<N, S>): FaultSpec<N, S> {
  return spec;
}

const faultTiming = {
  at: duration({ max: HOUR_MS, maxText: '1h' }).optional().describe('When to inject, measured from the start of the load.'),
  afterRequests: z.int().min(0).max(1_000_000).optional().describe('Inject once this many requests have completed.'),
};

function checkTiming(f: { at?: number | undefined; afterRequests?: number | undefined }, ctx: z.RefinementCtx): void {
  if (f.at !== undefined && f.afterRequests !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['afterRequests'], message: 'a fault takes at or afterRequests, not both' });
  }
}

export const PodKillModeSchema = z
  .union(
    [
      z.enum(['one', 'all']),
      z.strictObject({ fixed: positiveInt.describe('Kill this many matching pods.') }),
      z.strictObject({ fixedPercent: z.number().gt(0).max(100).describe('Kill this percentage of matching pods (rounded up).') }),
    ],
    { error: 'expected one, all, {fixed: N} or {fixedPercent: P}' },
  )
  .describe('Which of the matching pods to kill: one (at random), all, {fixed: N} or {fixedPercent: P}.');

export const podKillSpec = defineFaultSpec({
  name: 'podKill',
  description: 'Kill pods matching a selector.',
  schema: z
    .strictObject({
      namespace,
      selector: labelSelector,
      mode: PodKillModeSchema.default('one'),
      gracePeriod: duration({ max: HOUR_MS, maxText: '1h' })
        .optional()
        .describe('Grace period before SIGKILL; left out = immediate kill (SIGKILL).'),
      ...faultTiming,
    })
    .superRefine(checkTiming),
});

export const eppRestartSpec = defineFaultSpec({
  name: 'eppRestart',
  description: 'Restart the endpoint picker (EPP).',
  schema: z
    .strictObject({
      how: z
        .enum(['rollout', 'kill'])
        .default('rollout')
        .describe('rollout: kubectl rollout restart; kill: delete the EPP pod with no grace.'),
      namespace: namespace.default('llm-d-inference-scheduler'),
      ref: workloadRef.default('deploy/gaie-inference-scheduling-epp'),
      ...faultTiming,
    })
    .superRefine(checkTiming),
});

export const IndexErrorTriggerSchema = z
  .union(
    [
      z.literal('abortedKv'),
      z.strictObject({ afterRequests: positiveInt.describe('Crash on the Nth request the decode pod serves.') }),
      z.strictObject({
        probability: ratio('Chance that a request crashes the engine'),
        seed: z.int().describe('Random seed, so a run can be replayed.'),
      }),
    ],
    { error: 'expected abortedKv, {afterRequests: N} or {probability: p, seed: S}' },
  )
  .describe(
    "When the twin's decode pod hits the IndexError: after N requests, at random, or when a KV transfer was aborted by the client.",
  );

export const decodeIndexErrorSpec = defineFaultSpec({
  name: 'decodeIndexError',
  description: 'The decode IndexError (vLLM V1 KV transfer): injected on the twin; on a cluster, a load pattern that tries to provoke it.',
  schema: z
    .strictObject({
      namespace: namespace.default('llm-d-vllm'),
      selector: labelSelector,
      trigger: IndexErrorTriggerSchema,
      ...faultTiming,
    })
    .superRefine(checkTiming),
});

export const latencySpec = defineFaultSpec({
  name: 'latency',
  description: 'Add latency on a backend.',
  schema: z
    .strictObject({
      namespace: namespace.default('llm-d-vllm'),
      selector: labelSelector,
      add: duration({ max: HOUR_MS, maxText: '1h' }).describe('Latency added to every response.'),
      duration: duration({ max: HOUR_MS, maxText: '1h' }).optional().describe('How long the fault lasts; left out = until the load ends.'),
      ...faultTiming,
    })
    .superRefine(checkTiming),
});

export const errorRateSpec = defineFaultSpec({
  name: 'errorRate',
  description: "Answer a share of a backend's requests with an error status.",
  schema: z
    .strictObject({
      namespace: namespace.default('llm-d-vllm'),
      selector: labelSelector,
      status: z.union([z.literal(429), z.literal(500), z.literal(503)], { error: 'expected status 429, 500 or 503' }),
      rate: ratio('Share of requests answered with the error'),
      duration: duration({ max: HOUR_MS, maxText: '1h' }).optional().describe('How long the fault lasts; left out = until the load ends.'),
      ...faultTiming,
    })
    .superRefine(checkTiming),
});

/** In the order of the JSON Schema. */
export const FAULT_SPECS = [podKillSpec, eppRestartSpec, decodeIndexErrorSpec, latencySpec, errorRateSpec] as const;

type Specs = (typeof FAULT_SPECS)[number];

/** A fault's name: `podKill`, `eppRestart`, ... */
export type FaultName = Specs['name'];

/** Each fault's schema, by name. */
export type FaultSchemas = { [S in Specs as S['name']]: S['schema'] };

export const FAULT_NAMES: readonly FaultName[] = FAULT_SPECS.map((s) => s.name);

/** Each fault's schema with its description, by name: the shape of the suite schema's one-key fault item. */
export function faultSchemas(): FaultSchemas {
  return Object.fromEntries(FAULT_SPECS.map((s) => [s.name, s.schema.describe(s.description)])) as unknown as FaultSchemas;
}

export type PodKillMode = z.output<typeof PodKillModeSchema>;
export type IndexErrorTrigger = z.output<typeof IndexErrorTriggerSchema>;
