/**
 * The gateway's view of the cluster (from its watches) and the pure resolution of backendRefs against it:
 * Services (ClusterIP with selector, selector-less with Endpoints, ExternalName followed) and InferencePools
 * (v1 and v1alpha2) with their EPP Service. ReferenceGrant is honoured loosely: a cross-namespace reference is
 * allowed when a ReferenceGrant in the target namespace permits it, or when that namespace has no
 * ReferenceGrant at all (the twin's convenience); it is refused only when grants exist and none matches.
 */
import { matchesLabels, podReady, poolSelector, poolTargetPort } from '../sims/epp/pool.ts';
import { GATEWAY_GROUP, POOL_GROUP_ALPHA, POOL_GROUP_V1, type BackendRef, type HTTPRoute, type KObject, type ParentRef } from './types.ts';

export interface Snapshot {
  gateways: KObject[];
  routes: HTTPRoute[];
  /** InferencePools of both groups; apiVersion tells them apart */
  pools: KObject[];
  services: KObject[];
  endpoints: KObject[];
  pods: KObject[];
  referenceGrants: KObject[];
}

export const emptySnapshot = (): Snapshot => ({
  gateways: [],
  routes: [],
  pools: [],
  services: [],
  endpoints: [],
  pods: [],
  referenceGrants: [],
});

export type FailureMode = 'FailOpen' | 'FailClose';

export type Resolved =
  | { kind: 'service'; targets: string[] }
  | {
      kind: 'pool';
      pool: KObject;
      /** ready pool endpoints, "IP:port" */
      endpoints: string[];
      /** "IP:port" of ready EPP pods */
      epp: string[];
      failureMode: FailureMode;
    }
  | { kind: 'error'; reason: 'BackendNotFound' | 'InvalidKind' | 'RefNotPermitted' | 'UnsupportedValue'; message: string };

const nsOf = (o: KObject) => o.metadata.namespace ?? 'default';

function find(list: readonly KObject[], ns: string, name: string): KObject | undefined {
  return list.find((o) => o.metadata.name === name && nsOf(o) === ns);
}

export function findPool(s: Snapshot, ns: string, name: string, group: string): KObject | undefined {
  const wantAlpha = group === POOL_GROUP_ALPHA;
  return s.pools.find(
    (p) => p.metadata.name === name && nsOf(p) === ns && (p.apiVersion ?? '').startsWith(wantAlpha ? POOL_GROUP_ALPHA : POOL_GROUP_V1),
  );
}

export function isPoolRef(ref: BackendRef): boolean {
  return ref.kind === 'InferencePool' && (ref.group === POOL_GROUP_V1 || ref.group === POOL_GROUP_ALPHA);
}

function isServiceRef(ref: { group?: string; kind?: string }): boolean {
  return (ref.group ?? '') === '' || ref.group === 'core' ? (ref.kind ?? 'Service') === 'Service' : false;
}

/** Loose ReferenceGrant check for a route in fromNs referring to (group, kind, name) in toNs. */
export function referencePermitted(s: Snapshot, fromNs: string, toNs: string, group: string, kind: string, name: string): boolean {
  if (fromNs === toNs) return true;
  const grants = s.referenceGrants.filter((g) => nsOf(g) === toNs);
  if (grants.length === 0) return true;
  return grants.some(
    (g) =>
      (g.spec?.from ?? []).some(
        (f: { group?: string; kind?: string; namespace?: string }) =>
          f.group === GATEWAY_GROUP && f.kind === 'HTTPRoute' && f.namespace === fromNs,
      ) &&
      (g.spec?.to ?? []).some(
        (t: { group?: string; kind?: string; name?: string }) =>
          (t.group ?? '') === group && t.kind === kind && (t.name === undefined || t.name === '' || t.name === name),
      ),
  );
}

/** "svc", "svc.ns", "svc.ns.svc", "svc.ns.svc.cluster.local" → [ns, name] of a Service in the snapshot. */
function clusterServiceFromHost(s: Snapshot, host: string, defaultNs: string): KObject | undefined {
  const parts = host.replace(/\.$/, '').split('.');
  const name = parts[0] ?? '';
  if (parts.length === 1) return find(s.services, defaultNs, name);
  if (parts.length === 2 || (parts[2] === 'svc' && (parts.length === 3 || parts.slice(3).join('.') === 'cluster.local'))) {
    return find(s.services, parts[1] ?? '', name);
  }
  return undefined;
}

/** Ready addresses ("IP:port") behind a Service port, following ExternalName up to 4 hops. */
export function serviceTargets(s: Snapshot, svc: KObject, port: number | undefined, depth = 0): string[] | { error: string } {
  const spec = svc.spec ?? {};
  if (spec.type === 'ExternalName' && typeof spec.externalName === 'string') {
    const next = clusterServiceFromHost(s, spec.externalName, nsOf(svc));
    if (next && depth < 4) return serviceTargets(s, next, port, depth + 1);
    if (port === undefined) return { error: `ExternalName Service ${nsOf(svc)}/${svc.metadata.name} needs a port` };
    return [`${spec.externalName}:${port}`];
  }
  const ports: { name?: string; port: number; targetPort?: number | string }[] = spec.ports ?? [];
  const sp = port === undefined ? (ports.length === 1 ? ports[0] : undefined) : ports.find((p) => p.port === port);
  if (!sp) return { error: `Service ${nsOf(svc)}/${svc.metadata.name} has no port ${port ?? '(unspecified)'}` };
  const selector: Record<string, string> = spec.selector ?? {};
  if (Object.keys(selector).length === 0) {
    // selector-less Service: its Endpoints object, written by hand
    const ep = find(s.endpoints, nsOf(svc), svc.metadata.name);
    const out: string[] = [];
    for (const subset of ep?.subsets ?? []) {
      const p = (subset.ports ?? []).find((x: { name?: string; port: number }) => (sp.name ? x.name === sp.name : true));
      for (const a of subset.addresses ?? []) if (p) out.push(`${a.ip}:${p.port}`);
    }
    return out;
  }
  const out: string[] = [];
  for (const pod of s.pods) {
    if (nsOf(pod) !== nsOf(svc) || !podReady(pod) || !matchesLabels(pod.metadata.labels, selector)) continue;
    const tp = sp.targetPort ?? sp.port;
    let n: number | undefined = typeof tp === 'number' ? tp : Number.isInteger(Number(tp)) ? Number(tp) : undefined;
    if (n === undefined) {
      for (const c of pod.spec?.containers ?? []) {
        const cp = (c.ports ?? []).find((x: { name?: string }) => x.name === tp);
        if (cp) n = cp.containerPort;
      }
    }
    if (n !== undefined) out.push(`${pod.status.podIP}:${n}`);
  }
  return out;
}

/** v1 spec.endpointPickerRef / v1alpha2 spec.extensionRef → Service name, port, failure mode. */
export function eppRefOf(pool: KObject): { name: string; port?: number; failureMode: FailureMode } | undefined {
  const spec = pool.spec ?? {};
  const ref = spec.endpointPickerRef ?? spec.extensionRef;
  if (!ref || typeof ref.name !== 'string') return undefined;
  const port = typeof ref.port?.number === 'number' ? ref.port.number : typeof ref.portNumber === 'number' ? ref.portNumber : undefined;
  return {
    name: ref.name,
    ...(port !== undefined ? { port } : {}),
    failureMode: ref.failureMode === 'FailOpen' ? 'FailOpen' : 'FailClose',
  };
}

export function poolReadyEndpoints(s: Snapshot, pool: KObject): string[] {
  const selector = poolSelector(pool);
  const port = poolTargetPort(pool);
  if (port === undefined || Object.keys(selector).length === 0) return [];
  return s.pods
    .filter((p) => nsOf(p) === nsOf(pool) && podReady(p) && matchesLabels(p.metadata.labels, selector))
    .map((p) => `${p.status.podIP}:${port}`);
}

export function resolveBackend(s: Snapshot, route: HTTPRoute, ref: BackendRef): Resolved {
  const fromNs = nsOf(route);
  const ns = ref.namespace ?? fromNs;
  if (isPoolRef(ref)) {
    if (!referencePermitted(s, fromNs, ns, ref.group!, 'InferencePool', ref.name)) {
      return {
        kind: 'error',
        reason: 'RefNotPermitted',
        message: `no ReferenceGrant allows ${fromNs} to reference InferencePool ${ns}/${ref.name}`,
      };
    }
    const pool = findPool(s, ns, ref.name, ref.group!);
    if (!pool) return { kind: 'error', reason: 'BackendNotFound', message: `InferencePool ${ns}/${ref.name} not found` };
    const epp = eppRefOf(pool);
    let eppTargets: string[] = [];
    if (epp) {
      const svc = find(s.services, ns, epp.name);
      // an ExternalName endpointPickerRef is refused (ResolvedRefs False, status.ts): no EPP to ask
      const t = svc && svc.spec?.type !== 'ExternalName' ? serviceTargets(s, svc, epp.port ?? 9002) : [];
      eppTargets = Array.isArray(t) ? t : [];
    }
    return { kind: 'pool', pool, endpoints: poolReadyEndpoints(s, pool), epp: eppTargets, failureMode: epp?.failureMode ?? 'FailClose' };
  }
  if (!isServiceRef(ref)) {
    return { kind: 'error', reason: 'InvalidKind', message: `unsupported backend ${ref.group ?? ''}/${ref.kind ?? ''}` };
  }
  if (!referencePermitted(s, fromNs, ns, '', 'Service', ref.name)) {
    return {
      kind: 'error',
      reason: 'RefNotPermitted',
      message: `no ReferenceGrant allows ${fromNs} to reference Service ${ns}/${ref.name}`,
    };
  }
  const svc = find(s.services, ns, ref.name);
  if (!svc) return { kind: 'error', reason: 'BackendNotFound', message: `Service ${ns}/${ref.name} not found` };
  const t = serviceTargets(s, svc, ref.port);
  if (!Array.isArray(t)) return { kind: 'error', reason: 'UnsupportedValue', message: t.error };
  return { kind: 'service', targets: t };
}

/** Does parentRef name a Gateway in the snapshot? */
export function parentGateway(s: Snapshot, route: HTTPRoute, ref: ParentRef): KObject | undefined {
  if ((ref.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP || (ref.kind ?? 'Gateway') !== 'Gateway') return undefined;
  return find(s.gateways, ref.namespace ?? nsOf(route), ref.name);
}

/** Routes attached to at least one existing Gateway: the ones the listener serves. */
export function servedRoutes(s: Snapshot): HTTPRoute[] {
  return s.routes.filter((r) => (r.spec?.parentRefs ?? []).some((p) => parentGateway(s, r, p) !== undefined));
}
