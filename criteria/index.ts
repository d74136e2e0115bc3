/**
 * Evaluates a suite's criteria against observations. Items are one-key objects as suites write them
 * (`{routeBackend: 'InferencePool'}`, `{proxiesChosen: {workloads, minShare}}`, ...). Every criterion is
 * defined once in criteria/registry.ts (name, schema, evaluator, failure cause); this module only runs them.
 * `evaluateCriteria` takes criteria the suite schema already parsed; `evaluateOne` / `evaluateInput` take
 * items as written and validate them with the criterion's schema, so a malformed or unknown item becomes a
 * failing verdict (cause `invalid-criterion`) with a readable summary instead of an exception.
 */
import type { CriterionDefinition } from './registry-types.ts';
import { CRITERION_NAMES, criterionDefinition, type Criterion } from './registry.ts';
import { withDerivedEpp, type Observations } from './observations.ts';
import { verdict, withCause, type Verdict } from './verdict.ts';

export type { Verdict, FailureCause } from './verdict.ts';
export type { Observations, RecoveryMeasurement, KvTransferObservation } from './observations.ts';
export type { Criterion, CriterionName } from './registry.ts';

export const CRITERIA: readonly string[] = CRITERION_NAMES;

/** One verdict per parsed criterion (from the suite schema), in order. Never throws. */
export function evaluateCriteria(criteria: readonly Criterion[], observations: Observations): Verdict[] {
  const obs = withDerivedEpp(observations);
  return criteria.map((item) => {
    const name = Object.keys(item)[0]!;
    const def = criterionDefinition(name);
    if (!def) return unknownCriterion(name);
    return run(def, (item as Record<string, unknown>)[name], obs);
  });
}

/** One verdict per item as a suite writes it (unparsed), in order. Never throws for bad items. */
export function evaluateInput(items: readonly unknown[], observations: Observations): Verdict[] {
  const obs = withDerivedEpp(observations);
  return items.map((item) => evaluateOne(item, obs));
}

/** One item as a suite writes it: validated by its criterion's schema, then evaluated. */
export function evaluateOne(item: unknown, obs: Observations): Verdict {
  const invalid = (name: string, summary: string, evidence: Record<string, unknown> = {}) =>
    verdict(name, false, summary, evidence, { cause: 'invalid-criterion' });
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    return invalid('invalid', `a criterion is a one-key object like {responses: {...}}, got ${JSON.stringify(item)}`);
  }
  const keys = Object.keys(item);
  const name = keys[0];
  if (keys.length !== 1 || name === undefined) {
    return invalid(keys.join('+') || 'invalid', `a criterion has exactly one key, got ${keys.length ? keys.join(', ') : 'none'}`);
  }
  const def = criterionDefinition(name);
  if (!def) return unknownCriterion(name);
  const settings = (item as Record<string, unknown>)[name];
  const parsed = def.schema.safeParse(settings);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    return invalid(name, `invalid ${name} settings: ${where}${issue?.message ?? 'bad value'}`, { input: settings });
  }
  return run(def, parsed.data, obs);
}

function unknownCriterion(name: string): Verdict {
  return verdict(name, false, `unknown criterion '${name}' (known: ${CRITERIA.join(', ')})`, {}, { cause: 'invalid-criterion' });
}

function run(def: CriterionDefinition, settings: unknown, obs: Observations): Verdict {
  try {
    return withCause(def.evaluate(settings, obs), def.failureCause);
  } catch (err) {
    return verdict(
      def.name,
      false,
      `could not evaluate ${def.name}: ${(err as Error).message.split('\n')[0]}`,
      {},
      { cause: 'evaluator-error' },
    );
  }
}

/** True when every verdict passed. */
export function allPassed(verdicts: readonly Verdict[]): boolean {
  return verdicts.every((v) => v.ok);
}
