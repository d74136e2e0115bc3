/**
 * Every success criterion, once. The suite schema's `spec.criteria` items (suites/schema.ts), the JSON Schema
 * (`pd-harness schema`), `evaluateCriteria` (criteria/index.ts) and the report categories all come from this
 * list. To add a criterion, see criteria/registry-types.ts.
 */
import type { z } from '#zod';
import { eppProfileCriterion } from './epp-profile.ts';
import { expectRejectionCriterion } from './expect-rejection.ts';
import { kvTransferCriterion } from './kv-transfer.ts';
import { noSchedulingFailuresCriterion } from './no-scheduling-failures.ts';
import { pickSkewCriterion } from './pick-skew.ts';
import { proxiesChosenCriterion } from './proxies-chosen.ts';
import { recoveryCriterion } from './recovery.ts';
import { responsesCriterion } from './responses.ts';
import { routeBackendCriterion } from './route-backend.ts';
import type { CriterionDefinition } from './registry-types.ts';
import { variantRoutingCriterion } from './variant-routing.ts';

export type { CriterionDefinition } from './registry-types.ts';

/** In the order of the JSON Schema and of the "known:" list. */
export const CRITERION_DEFINITIONS = [
  routeBackendCriterion,
  eppProfileCriterion,
  responsesCriterion,
  proxiesChosenCriterion,
  noSchedulingFailuresCriterion,
  expectRejectionCriterion,
  kvTransferCriterion,
  recoveryCriterion,
  variantRoutingCriterion,
  pickSkewCriterion,
] as const;

type Definitions = (typeof CRITERION_DEFINITIONS)[number];

/** A criterion's name: `routeBackend`, `responses`, ... */
export type CriterionName = Definitions['name'];

/** The definition of each criterion, by name. */
export type CriterionSchemas = { [D in Definitions as D['name']]: D['schema'] };

/** A parsed criterion as the suite holds it: a one-key object `{name: settings}`. */
export type Criterion = { [D in Definitions as D['name']]: { [K in D['name']]: z.output<D['schema']> } }[CriterionName];

export const CRITERION_NAMES: readonly CriterionName[] = CRITERION_DEFINITIONS.map((d) => d.name);

/** The definition of a name, or undefined for a name no criterion has. */
export function criterionDefinition(name: string): CriterionDefinition | undefined {
  return (CRITERION_DEFINITIONS as readonly CriterionDefinition[]).find((d) => d.name === name);
}

/** Each criterion's schema with its description, by name: the shape of the suite schema's one-key criterion item. */
export function criterionSchemas(): CriterionSchemas {
  return Object.fromEntries(CRITERION_DEFINITIONS.map((d) => [d.name, d.schema.describe(d.description)])) as unknown as CriterionSchemas;
}
