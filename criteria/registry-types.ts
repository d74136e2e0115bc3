/**
 * The shape of one success criterion. Each criterion module (`criteria/<name>.ts`) exports one
 * `CriterionDefinition`; `criteria/registry.ts` lists them all, and everything else is built from that list:
 * the suite schema's `spec.criteria` items (suites/schema.ts), the JSON Schema editors read
 * (`pd-harness schema`), `evaluateCriteria`, and the report categories (from each verdict's `cause`).
 *
 * To add a criterion:
 *   1. write `criteria/<name>.ts` exporting `export const <name>Criterion = defineCriterion({ name, description,
 *      schema, failureCause, evaluate })` — the schema is the only one for its settings (strict objects, the
 *      building blocks of suites/schema-parts.ts), the evaluator a pure function of (settings, observations);
 *   2. add it to `CRITERION_DEFINITIONS` in `criteria/registry.ts` (the order there is the order of the JSON
 *      Schema and of the "known:" list);
 *   3. regenerate the JSON Schema: `node bin/pd-harness.js schema --out suites/suite.schema.json`.
 * Nothing else lists criteria: the registry test (test/unit/criteria-registry.test.ts) checks each one.
 */
import type { z } from '#zod';
import type { Observations } from './observations.ts';
import type { FailureCause, Verdict } from './verdict.ts';

export interface CriterionDefinition<N extends string = string, S extends z.ZodType = z.ZodType> {
  /** The suite key, e.g. `proxiesChosen`. */
  name: N;
  /** One line, the criterion's description in the JSON Schema. */
  description: string;
  /** The only schema of this criterion's settings (input: as a suite writes them; output: what `evaluate` gets). */
  schema: S;
  /**
   * Why a failing verdict of this criterion failed, unless `evaluate` says otherwise (a missing observation is
   * `no-data`, an EPP that left no candidate `no-candidate`, ...). Report categories come from this.
   */
  failureCause: FailureCause;
  /** Pure: the verdict over the observations. Never does I/O. */
  evaluate(settings: z.output<S>, obs: Observations): Verdict;
}

/** Keeps the literal name and the schema's type, so the registry can build typed one-key objects. */
export function defineCriterion<const N extends string, S extends z.ZodType>(def: CriterionDefinition<N, S>): CriterionDefinition<N, S> {
  return def;
}
