/** Endpoints and EndpointSlices of Services with a selector, from the pods that match it. */
import type { Api } from '../apiserver/api.ts';
import { matchLabels } from '../apiserver/selectors.ts';
import type { Obj } from '../apiserver/selectors.ts';
import { isTerminating, key, podReady } from './util.ts';

const MANAGED = 'endpoints.pd-harness.io/managed';
const SLICE_MANAGER = 'endpointslice-controller.k8s.io';

/** The container port a service port targets on one pod (by number or by port name). */
export function resolveTargetPort(svcPort: Obj, pod: Obj): number | undefined {
  const tp = svcPort.targetPort ?? svcPort.port;
  if (typeof tp === 'number') return tp;
  if (/^\d+$/.test(String(tp))) return Number(tp);
  for (const c of (pod.spec?.containers ?? []) as Obj[]) {
    for (const p of (c.ports ?? []) as Obj[])
      if (p.name === tp && (p.protocol ?? 'TCP') === (svcPort.protocol ?? 'TCP')) return Number(p.containerPort);
  }
  return undefined;
}

interface Backend {
  pod: Obj;
  ready: boolean;
  ports: Obj[];
}

function backendsOf(svc: Obj, pods: readonly Obj[]): Backend[] {
  const sel = svc.spec.selector as Record<string, string>;
  const out: Backend[] = [];
  for (const pod of pods) {
    if (
      !pod.status?.podIP ||
      !matchLabels(
        Object.entries(sel).map(([k, v]) => ({ key: k, op: 'eq' as const, value: String(v) })),
        pod.metadata.labels,
      )
    )
      continue;
    if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
    const ports: Obj[] = [];
    for (const sp of (svc.spec.ports ?? []) as Obj[]) {
      const port = resolveTargetPort(sp, pod);
      if (port !== undefined)
        ports.push({
          ...(sp.name ? { name: sp.name } : {}),
          port,
          protocol: sp.protocol ?? 'TCP',
          ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}),
        });
    }
    const ready = (podReady(pod) && !isTerminating(pod)) || !!svc.spec.publishNotReadyAddresses;
    out.push({ pod, ready, ports });
  }
  return out.sort((a, b) => String(a.pod.metadata.name).localeCompare(String(b.pod.metadata.name)));
}

const targetRef = (p: Obj) => ({ kind: 'Pod', namespace: p.metadata.namespace, name: p.metadata.name, uid: p.metadata.uid });

export function endpointSubsets(backends: Backend[]): Obj[] {
  const groups = new Map<string, { ports: Obj[]; addresses: Obj[]; notReadyAddresses: Obj[] }>();
  for (const b of backends) {
    const k = JSON.stringify(b.ports);
    const g = groups.get(k) ?? { ports: b.ports, addresses: [], notReadyAddresses: [] };
    const addr = {
      ip: b.pod.status.podIP,
      ...(b.pod.spec?.nodeName ? { nodeName: b.pod.spec.nodeName } : {}),
      targetRef: targetRef(b.pod),
    };
    (b.ready ? g.addresses : g.notReadyAddresses).push(addr);
    groups.set(k, g);
  }
  return [...groups.values()].map((g) => ({
    ...(g.addresses.length ? { addresses: g.addresses } : {}),
    ...(g.notReadyAddresses.length ? { notReadyAddresses: g.notReadyAddresses } : {}),
    ...(g.ports.length ? { ports: g.ports } : {}),
  }));
}

export function syncEndpoints(api: Api): void {
  const epType = api.type('', 'endpoints');
  const sliceType = api.type('discovery.k8s.io', 'endpointslices');
  const services = api.store.peek(key('', 'services'));
  const live = new Set(services.map((s) => `${s.metadata.namespace}/${s.metadata.name}`));
  for (const svc of services) {
    if (!svc.spec?.selector || Object.keys(svc.spec.selector).length === 0 || svc.spec.type === 'ExternalName') continue;
    const ns = svc.metadata.namespace;
    const backends = backendsOf(svc, api.store.peek(key('', 'pods'), ns));
    const subsets = endpointSubsets(backends);
    const labels = { ...(svc.metadata.labels ?? {}) };
    const ep = api.peek(epType, ns, svc.metadata.name);
    if (!ep) {
      api.create(epType, ns, {
        metadata: { name: svc.metadata.name, namespace: ns, labels, annotations: { [MANAGED]: 'true' } },
        ...(subsets.length ? { subsets } : {}),
      });
    } else {
      api.mutate(epType, ns, svc.metadata.name, (o) => {
        o.metadata.labels = labels;
        o.metadata.annotations = { ...(o.metadata.annotations ?? {}), [MANAGED]: 'true' };
        if (subsets.length) o.subsets = subsets;
        else delete o.subsets;
      });
    }
    const endpoints = backends.map((b) => ({
      addresses: [b.pod.status.podIP],
      conditions: { ready: b.ready && !isTerminating(b.pod), serving: podReady(b.pod), terminating: isTerminating(b.pod) },
      ...(b.pod.spec?.nodeName ? { nodeName: b.pod.spec.nodeName } : {}),
      targetRef: targetRef(b.pod),
    }));
    const ports =
      backends[0]?.ports ??
      ((svc.spec.ports ?? []) as Obj[])
        .filter((p) => typeof p.targetPort === 'number')
        .map((p) => ({ ...(p.name ? { name: p.name } : {}), port: p.targetPort, protocol: p.protocol ?? 'TCP' }));
    const sliceLabels = {
      ...labels,
      'kubernetes.io/service-name': svc.metadata.name,
      'endpointslice.kubernetes.io/managed-by': SLICE_MANAGER,
    };
    const slice = api.store
      .peek(key('discovery.k8s.io', 'endpointslices'), ns)
      .find(
        (s) =>
          s.metadata.labels?.['kubernetes.io/service-name'] === svc.metadata.name &&
          s.metadata.labels?.['endpointslice.kubernetes.io/managed-by'] === SLICE_MANAGER,
      );
    if (!slice) {
      api.create(sliceType, ns, {
        metadata: {
          generateName: `${svc.metadata.name}-`,
          namespace: ns,
          labels: sliceLabels,
          ownerReferences: [
            {
              apiVersion: 'v1',
              kind: 'Service',
              name: svc.metadata.name,
              uid: svc.metadata.uid,
              controller: true,
              blockOwnerDeletion: true,
            },
          ],
        },
        addressType: 'IPv4',
        endpoints,
        ports,
      });
    } else {
      api.mutate(sliceType, ns, slice.metadata.name, (o) => {
        o.metadata.labels = sliceLabels;
        o.endpoints = endpoints;
        o.ports = ports;
      });
    }
  }
  // Endpoints we manage whose Service is gone.
  for (const ep of api.store.peek(key('', 'endpoints'))) {
    if (ep.metadata.annotations?.[MANAGED] === 'true' && !live.has(`${ep.metadata.namespace}/${ep.metadata.name}`)) {
      try {
        api.delete(epType, ep.metadata.namespace, ep.metadata.name);
      } catch {
        // gone
      }
    }
  }
}
