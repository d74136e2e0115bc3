/**
 * Desired status for HTTPRoutes (status.parents), InferencePools (status.parents / v1alpha2 status.parent) and
 * Gateways (conditions, addresses, listeners). Pure; lastTransitionTime is carried over from the current
 * status while a condition's status and reason stay the same, so unchanged objects compare equal.
 */
import { eppRefOf, parentGateway, resolveBackend, servedRoutes, isPoolRef, type Snapshot } from './snapshot.ts';
import { CONTROLLER_NAME, GATEWAY_GROUP, POOL_GROUP_ALPHA, type HTTPRoute, type KObject } from './types.ts';

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}

const nsOf = (o: KObject) => o.metadata.namespace ?? 'default';

function cond(type: string, ok: boolean, reason: string, message: string, gen: number | undefined): Condition {
  return { type, status: ok ? 'True' : 'False', reason, message, ...(gen !== undefined ? { observedGeneration: gen } : {}) };
}

/** Fill lastTransitionTime: keep the old one when status and reason are unchanged. */
export function stampConditions(desired: Condition[], current: Condition[] | undefined, now: string): Condition[] {
  return desired.map((c) => {
    const old = current?.find((o) => o.type === c.type);
    const keep = old && old.status === c.status && old.reason === c.reason && old.lastTransitionTime;
    return { ...c, lastTransitionTime: keep ? old.lastTransitionTime! : now };
  });
}

export function routeStatus(s: Snapshot, route: HTTPRoute, now: string): { parents: unknown[] } {
  const gen = route.metadata.generation;
  const current: any[] = route.status?.parents ?? [];
  let resolved = cond('ResolvedRefs', true, 'ResolvedRefs', 'All references resolved', gen);
  outer: for (const rule of route.spec?.rules ?? []) {
    for (const ref of rule.backendRefs ?? []) {
      const r = resolveBackend(s, route, ref);
      if (r.kind === 'error') {
        const reason = r.reason === 'UnsupportedValue' ? 'BackendNotFound' : r.reason;
        resolved = cond('ResolvedRefs', false, reason, r.message, gen);
        break outer;
      }
    }
  }
  const parents = (route.spec?.parentRefs ?? []).map((ref) => {
    const gw = parentGateway(s, route, ref);
    const parentRef = {
      group: ref.group ?? GATEWAY_GROUP,
      kind: ref.kind ?? 'Gateway',
      namespace: ref.namespace ?? nsOf(route),
      name: ref.name,
      ...(ref.sectionName ? { sectionName: ref.sectionName } : {}),
    };
    const accepted = gw
      ? cond('Accepted', true, 'Accepted', 'Route is accepted', gen)
      : cond('Accepted', false, 'NoMatchingParent', `Gateway ${parentRef.namespace}/${ref.name} not found`, gen);
    const old = current.find((p) => p?.parentRef?.name === ref.name && (p?.parentRef?.namespace ?? nsOf(route)) === parentRef.namespace);
    return { parentRef, controllerName: CONTROLLER_NAME, conditions: stampConditions([accepted, resolved], old?.conditions, now) };
  });
  return { parents };
}

/** Gateways whose served routes reference this pool. */
function poolParents(s: Snapshot, pool: KObject): KObject[] {
  const out = new Map<string, KObject>();
  const group = (pool.apiVersion ?? '').split('/')[0];
  for (const route of servedRoutes(s)) {
    const refs = (route.spec?.rules ?? []).flatMap((r) => r.backendRefs ?? []);
    const hit = refs.some(
      (b) => isPoolRef(b) && b.group === group && b.name === pool.metadata.name && (b.namespace ?? nsOf(route)) === nsOf(pool),
    );
    if (!hit) continue;
    for (const p of route.spec?.parentRefs ?? []) {
      const gw = parentGateway(s, route, p);
      if (gw) out.set(`${nsOf(gw)}/${gw.metadata.name}`, gw);
    }
  }
  return [...out.values()];
}

export function poolStatus(s: Snapshot, pool: KObject, now: string): Record<string, unknown> {
  const alpha = (pool.apiVersion ?? '').startsWith(POOL_GROUP_ALPHA);
  const key = alpha ? 'parent' : 'parents';
  const gen = pool.metadata.generation;
  const current: any[] = pool.status?.[key] ?? [];
  const epp = eppRefOf(pool);
  const eppSvc = epp && s.services.find((x) => x.metadata.name === epp.name && nsOf(x) === nsOf(pool));
  // GAIE v1.2.0 api/v1/inferencepool_types.go (EndpointPickerRef.Kind): "Implementations MUST NOT support
  // ExternalName Services"; ResolvedRefs False uses reason InvalidExtensionRef ("an unsupported kind ... or a
  // reference to a resource that cannot be found", InferencePoolReasonInvalidExtensionRef).
  const externalName = eppSvc?.spec?.type === 'ExternalName';
  const resolved =
    eppSvc && !externalName
      ? cond('ResolvedRefs', true, 'ResolvedRefs', 'Endpoint picker reference resolved', gen)
      : cond(
          'ResolvedRefs',
          false,
          'InvalidExtensionRef',
          externalName
            ? `endpointPickerRef Service ${nsOf(pool)}/${epp!.name} is of type ExternalName, which InferencePool implementations must not support: use a Service with endpoints in the pool's namespace`
            : epp
              ? `Service ${nsOf(pool)}/${epp.name} not found`
              : 'no endpoint picker reference',
          gen,
        );
  const parents = poolParents(s, pool).map((gw) => {
    const parentRef = { group: GATEWAY_GROUP, kind: 'Gateway', namespace: nsOf(gw), name: gw.metadata.name };
    const old = current.find((p) => p?.parentRef?.name === gw.metadata.name && p?.parentRef?.namespace === nsOf(gw));
    const accepted = cond('Accepted', true, 'Accepted', 'InferencePool is accepted by the Gateway', gen);
    return {
      parentRef,
      ...(alpha ? {} : { controllerName: CONTROLLER_NAME }),
      conditions: stampConditions([accepted, resolved], old?.conditions, now),
    };
  });
  return { [key]: parents };
}

export function gatewayStatus(s: Snapshot, gw: KObject, host: string, now: string): Record<string, unknown> {
  const gen = gw.metadata.generation;
  const attached = servedRoutes(s).filter((r) => (r.spec?.parentRefs ?? []).some((p) => parentGateway(s, r, p) === gw)).length;
  const listeners = (gw.spec?.listeners ?? []).map((l: { name: string }) => {
    const old = (gw.status?.listeners ?? []).find((x: { name?: string }) => x.name === l.name);
    return {
      name: l.name,
      attachedRoutes: attached,
      supportedKinds: [{ group: GATEWAY_GROUP, kind: 'HTTPRoute' }],
      conditions: stampConditions(
        [
          cond('Accepted', true, 'Accepted', 'Listener is accepted', gen),
          cond('Programmed', true, 'Programmed', 'Listener is served by the twin gateway', gen),
          cond('ResolvedRefs', true, 'ResolvedRefs', 'Listener references resolved', gen),
        ],
        old?.conditions,
        now,
      ),
    };
  });
  return {
    addresses: [{ type: 'IPAddress', value: host }],
    conditions: stampConditions(
      [
        cond('Accepted', true, 'Accepted', 'Gateway is accepted by the twin gateway', gen),
        cond('Programmed', true, 'Programmed', `Gateway is served on ${host}`, gen),
      ],
      gw.status?.conditions,
      now,
    ),
    listeners,
  };
}

/** Deterministic JSON for "did the status change" comparisons. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** True when every key of `desired` equals the same key of `current`. */
export function statusUpToDate(current: Record<string, unknown> | undefined, desired: Record<string, unknown>): boolean {
  return Object.keys(desired).every((k) => canonical(current?.[k]) === canonical(desired[k]));
}
