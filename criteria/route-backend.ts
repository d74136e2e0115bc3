import { z } from '#zod';
import { dnsName, namespace } from '../suites/schema-parts.ts';
import { defineCriterion } from './registry-types.ts';
import type { Observations } from './observations.ts';
import { isRecord, plural, verdict, type Verdict } from './verdict.ts';

export const INFERENCE_GROUP = 'inference.networking.k8s.io';
export const SCHEDULER_ROUTE = 'llm-d-inference-scheduling';
export const SCHEDULER_NAMESPACE = 'llm-d-inference-scheduler';

export interface RouteBackendInput {
  kind: 'InferencePool' | 'Service';
  /** Only this HTTPRoute (with `namespace`); all observed routes when absent (the evaluator defaults it to the seed's route). */
  route?: string;
  namespace?: string;
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

const REQUIRED = ['Accepted', 'ResolvedRefs'] as const;

/**
 * Every backendRef of the route(s) is of the expected kind (InferencePool: group inference.networking.k8s.io;
 * Service: the core group, kind defaulting to Service), every parent in the route status reports
 * Accepted=True and ResolvedRefs=True, and a referenced InferencePool's parent conditions Accepted /
 * ResolvedRefs, where the pool reports them, are True.
 */
export function routeBackend(input: RouteBackendInput, obs: Observations): Verdict {
  const name = 'routeBackend';
  const routes = obs.httpRoutes.filter(isRecord).filter((r) => matchesRef(r, input));
  const target = input.route ? `HTTPRoute ${input.namespace ? `${input.namespace}/` : ''}${input.route}` : 'HTTPRoute';
  if (routes.length === 0) {
    return verdict(
      name,
      false,
      `${target} not found (observed ${plural(obs.httpRoutes.length, 'route')})`,
      {
        observed: obs.httpRoutes.filter(isRecord).map(refOf),
      },
      { expected: input.kind },
    );
  }
  const problems: string[] = [];
  const perRoute: Record<string, unknown>[] = [];
  for (const route of routes) {
    const ref = refOf(route);
    const ns = metaOf(route).namespace ?? 'default';
    const backends = backendRefs(route);
    if (backends.length === 0) problems.push(`${ref} has no backendRefs`);
    for (const b of backends) {
      const kind = typeof b.kind === 'string' ? b.kind : 'Service';
      const group = typeof b.group === 'string' ? b.group : '';
      const expectedGroup = input.kind === 'InferencePool' ? INFERENCE_GROUP : '';
      if (kind !== input.kind || group !== expectedGroup) {
        problems.push(
          `${ref} sends to ${kind}${group ? ` (${group})` : ''} ${String(b.name)}, not ${input.kind}${expectedGroup ? ` (${expectedGroup})` : ''}`,
        );
      }
    }
    const parents = parentStatuses(route);
    if (parents.length === 0) problems.push(`${ref} has no status.parents: no gateway accepted it`);
    for (const p of parents) {
      for (const type of REQUIRED) {
        const c = p.conditions.find((x) => x.type === type);
        if (c?.status !== 'True')
          problems.push(`${ref} parent ${p.parent}: ${type}=${c?.status ?? 'missing'}${c?.reason ? ` (${c.reason})` : ''}`);
      }
    }
    const pools = backends
      .filter((b) => b.kind === 'InferencePool')
      .map((b) => ({ name: String(b.name), namespace: typeof b.namespace === 'string' ? b.namespace : ns }));
    const poolEvidence = pools.map((p) => {
      const pool = obs.inferencePools
        .filter(isRecord)
        .find((o) => metaOf(o).name === p.name && (metaOf(o).namespace ?? ns) === p.namespace);
      if (!pool) return { pool: `${p.namespace}/${p.name}`, observed: false };
      const conditions = parentStatuses(pool).flatMap((s) => s.conditions.filter((c) => (REQUIRED as readonly string[]).includes(c.type)));
      for (const c of conditions) {
        const why = [c.reason, c.message && /ExternalName/.test(c.message) ? c.message : undefined].filter(Boolean).join(': ');
        if (c.status !== 'True') problems.push(`InferencePool ${p.namespace}/${p.name}: ${c.type}=${c.status}${why ? ` (${why})` : ''}`);
      }
      // GAIE v1.2.0 api/v1/inferencepool_types.go: implementations MUST NOT support an ExternalName endpointPickerRef
      const ext = (obs.eppRefServices ?? []).find((e) => e.pool === `${p.namespace}/${p.name}` && e.type === 'ExternalName');
      if (ext) {
        problems.unshift(
          `InferencePool ${p.namespace}/${p.name}: endpointPickerRef Service ${ext.service} is an ExternalName Service, which conformant gateways refuse (ResolvedRefs=False, InvalidExtensionRef): put the EPP Service in the pool's namespace`,
        );
      }
      return { pool: `${p.namespace}/${p.name}`, observed: true, conditions: conditions.map((c) => `${c.type}=${c.status}`) };
    });
    perRoute.push({
      route: ref,
      backendRefs: backends.map(
        (b) =>
          `${typeof b.group === 'string' && b.group ? `${b.group}/` : ''}${typeof b.kind === 'string' ? b.kind : 'Service'}/${String(b.name)}${b.port !== undefined ? `:${String(b.port)}` : ''}`,
      ),
      parents: parents.map((p) => ({ parent: p.parent, conditions: p.conditions.map((c) => `${c.type}=${c.status}`) })),
      ...(poolEvidence.length > 0 ? { pools: poolEvidence } : {}),
    });
  }
  const ok = problems.length === 0;
  const summary = ok
    ? `${routes.map(refOf).join(', ')} → ${input.kind}, Accepted and ResolvedRefs`
    : `${problems[0]}${problems.length > 1 ? ` (+${problems.length - 1} more)` : ''}`;
  return verdict(
    name,
    ok,
    summary,
    { routes: perRoute, ...(ok ? {} : { problems }) },
    { expected: input.kind, actual: perRoute.map((r) => r.backendRefs) },
  );
}

function metaOf(o: Record<string, unknown>): { name?: string; namespace?: string } {
  const m = isRecord(o.metadata) ? o.metadata : {};
  return {
    ...(typeof m.name === 'string' ? { name: m.name } : {}),
    ...(typeof m.namespace === 'string' ? { namespace: m.namespace } : {}),
  };
}

function refOf(o: Record<string, unknown>): string {
  const m = metaOf(o);
  return `${m.namespace ? `${m.namespace}/` : ''}${m.name ?? '?'}`;
}

function matchesRef(route: Record<string, unknown>, input: RouteBackendInput): boolean {
  const m = metaOf(route);
  if (input.route !== undefined && m.name !== input.route) return false;
  if (input.namespace !== undefined && m.namespace !== undefined && m.namespace !== input.namespace) return false;
  return true;
}

function backendRefs(route: Record<string, unknown>): Record<string, unknown>[] {
  const spec = isRecord(route.spec) ? route.spec : {};
  const rules = Array.isArray(spec.rules) ? spec.rules : [];
  return rules.filter(isRecord).flatMap((r) => (Array.isArray(r.backendRefs) ? r.backendRefs.filter(isRecord) : []));
}

/** `status.parents[]` (Gateway API, InferencePool v1) or `status.parent[]` (InferencePool v1alpha2). */
function parentStatuses(o: Record<string, unknown>): { parent: string; conditions: Condition[] }[] {
  const status = isRecord(o.status) ? o.status : {};
  const list = Array.isArray(status.parents) ? status.parents : Array.isArray(status.parent) ? status.parent : [];
  return list.filter(isRecord).map((p) => {
    const ref = isRecord(p.parentRef) ? p.parentRef : {};
    const conditions = (Array.isArray(p.conditions) ? p.conditions : []).filter(isRecord).map((c) => ({
      type: String(c.type),
      status: String(c.status),
      ...(typeof c.reason === 'string' ? { reason: c.reason } : {}),
      ...(typeof c.message === 'string' ? { message: c.message } : {}),
    }));
    return { parent: typeof ref.name === 'string' ? ref.name : '?', conditions };
  });
}

const backendKind = () => z.enum(['InferencePool', 'Service']);

export const routeBackendCriterion = defineCriterion({
  name: 'routeBackend',
  description:
    'Kind of backend the HTTPRoute sends to: InferencePool or Service (for the route llm-d-inference-scheduling), or {kind, route, namespace}.',
  schema: z.union(
    [
      backendKind(),
      z.strictObject({
        kind: backendKind(),
        route: dnsName().default(SCHEDULER_ROUTE).describe('HTTPRoute name (default llm-d-inference-scheduling).'),
        namespace: namespace.default(SCHEDULER_NAMESPACE),
      }),
    ],
    { error: 'expected InferencePool, Service or {kind, route, namespace}' },
  ),
  failureCause: 'config',
  // the short form names the seed's scheduler route
  evaluate: (settings, obs) =>
    routeBackend(typeof settings === 'string' ? { kind: settings, route: SCHEDULER_ROUTE, namespace: SCHEDULER_NAMESPACE } : settings, obs),
});
