/**
 * Evaluates a suite's criteria list against observations. Items are one-key objects as suites write them
 * (`{routeBackend: 'InferencePool'}`, `{proxiesChosen: {workloads, minShare}}`, ...), already parsed by the
 * suite schema or raw: each is validated here, so a malformed or unknown item becomes a failing verdict
 * with a readable summary instead of an exception.
 */
import { z } from 'zod';
import { tryParseDuration } from '../suites/durations.ts';
import { eppProfile } from './epp-profile.ts';
import { expectRejection } from './expect-rejection.ts';
import { kvTransfer } from './kv-transfer.ts';
import { noSchedulingFailures } from './no-scheduling-failures.ts';
import { withDerivedEpp, type Observations } from './observations.ts';
import * as pickSkew from './pick-skew.ts';
import { proxiesChosen } from './proxies-chosen.ts';
import { proxiesChosenAfterRecovery } from './after-recovery.ts';
import { recovery } from './recovery.ts';
import { responses } from './responses.ts';
import { SCHEDULER_NAMESPACE, SCHEDULER_ROUTE, routeBackend } from './route-backend.ts';
import { variantRouting } from './variant-routing.ts';
import { verdict, type Verdict } from './verdict.ts';

export type { Verdict } from './verdict.ts';
export type { Observations, RecoveryMeasurement, KvTransferObservation } from './observations.ts';

const ratio = z.number().min(0).max(1);
const durationMs = z.unknown().transform((v, ctx) => {
  const ms = typeof v === 'number' && v >= 0 ? v : typeof v === 'string' ? tryParseDuration(v) : undefined;
  if (ms === undefined) {
    ctx.issues.push({ code: 'custom', message: `${JSON.stringify(v)} is not a duration like 35s or 2m (or milliseconds)`, input: v });
    return z.NEVER;
  }
  return ms;
});
const backendKind = z.enum(['InferencePool', 'Service']);

const schemas = {
  // As in the suite schema: the seed's scheduler route unless another is named.
  routeBackend: z.union([
    backendKind.transform((kind) => ({ kind, route: SCHEDULER_ROUTE, namespace: SCHEDULER_NAMESPACE })),
    z.object({ kind: backendKind, route: z.string().default(SCHEDULER_ROUTE), namespace: z.string().default(SCHEDULER_NAMESPACE) }),
  ]),
  eppProfile: z.object({ has: z.array(z.string()).optional(), lacks: z.array(z.string()).optional() }),
  responses: z
    .object({ status: z.number().int(), atLeast: z.number().int().min(0).optional(), all: z.boolean().optional() })
    .refine((r) => (r.atLeast === undefined) !== (r.all === undefined || r.all === false), 'takes exactly one of atLeast or all: true'),
  proxiesChosen: z.object({ workloads: z.array(z.string()).min(1), minShare: ratio.default(0), afterRecovery: z.boolean().optional() }),
  noSchedulingFailures: z.union([z.object({}), z.null(), z.undefined()]).transform(() => ({})),
  expectRejection: z.object({ status: z.number().int(), reason: z.string().optional(), atLeast: z.number().int().min(1).optional() }),
  kvTransfer: z.object({ backend: z.string(), minHitRate: ratio }),
  recovery: z.object({ within: durationMs, maxErrorRate: ratio }).transform((r) => ({ withinMs: r.within, maxErrorRate: r.maxErrorRate })),
  variantRouting: z.record(z.string(), z.string()).refine((m) => Object.keys(m).length > 0, 'names at least one variant'),
  [pickSkew.name]: pickSkew.schema,
} as const;

type Kind = keyof typeof schemas;

const evaluators: { [K in Kind]: (input: z.output<(typeof schemas)[K]>, obs: Observations) => Verdict } = {
  routeBackend,
  eppProfile,
  responses,
  proxiesChosen: (input, obs) => (input.afterRecovery ? proxiesChosenAfterRecovery(input, obs) : proxiesChosen(input, obs)),
  noSchedulingFailures,
  expectRejection,
  kvTransfer,
  recovery,
  variantRouting,
  [pickSkew.name]: pickSkew.evaluate,
};

export const CRITERIA: readonly string[] = Object.keys(schemas);

/** One verdict per item, in order. Never throws for bad items. */
export function evaluateCriteria(criteria: readonly unknown[], observations: Observations): Verdict[] {
  const obs = withDerivedEpp(observations);
  return criteria.map((item) => evaluateOne(item, obs));
}

export function evaluateOne(item: unknown, obs: Observations): Verdict {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    return verdict('invalid', false, `a criterion is a one-key object like {responses: {...}}, got ${JSON.stringify(item)}`, {});
  }
  const keys = Object.keys(item);
  const kind = keys[0];
  if (keys.length !== 1 || kind === undefined) {
    return verdict(
      keys.join('+') || 'invalid',
      false,
      `a criterion has exactly one key, got ${keys.length ? keys.join(', ') : 'none'}`,
      {},
    );
  }
  if (!(kind in schemas)) return verdict(kind, false, `unknown criterion '${kind}' (known: ${CRITERIA.join(', ')})`, {});
  const k = kind as Kind;
  const parsed = schemas[k].safeParse((item as Record<string, unknown>)[k]);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    return verdict(k, false, `invalid ${k} settings: ${where}${issue?.message ?? 'bad value'}`, {
      input: (item as Record<string, unknown>)[k],
    });
  }
  try {
    return (evaluators[k] as (input: unknown, obs: Observations) => Verdict)(parsed.data, obs);
  } catch (err) {
    return verdict(k, false, `could not evaluate ${k}: ${(err as Error).message.split('\n')[0]}`, {});
  }
}

/** True when every verdict passed. */
export function allPassed(verdicts: readonly Verdict[]): boolean {
  return verdicts.every((v) => v.ok);
}
