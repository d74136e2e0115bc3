/** InferencePool (v1 and v1alpha2) + Pods → endpoint specs. Pure. */
import type { EndpointSpec } from './types.ts';

export interface PodLike {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; deletionTimestamp?: unknown };
  status?: { podIP?: string; conditions?: { type?: string; status?: string }[] };
}

export interface PoolLike {
  apiVersion?: string;
  metadata?: { name?: string; namespace?: string };
  spec?: Record<string, unknown>;
}

/** v1: spec.selector.matchLabels; v1alpha2: spec.selector is the label map itself. */
export function poolSelector(pool: PoolLike): Record<string, string> {
  const sel = pool.spec?.selector as Record<string, unknown> | undefined;
  if (!sel || typeof sel !== 'object') return {};
  const ml = sel.matchLabels;
  if (ml && typeof ml === 'object') return ml as Record<string, string>;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(sel)) if (typeof v === 'string') out[k] = v;
  return out;
}

/**
 * v1: every spec.targetPorts[].number, in order; v1alpha2: [spec.targetPortNumber]. GAIE v1.2.0
 * pkg/epp/datastore/datastore.go PodUpdateOrAddIfNotExist makes one endpoint per pod and target port.
 */
export function poolTargetPorts(pool: PoolLike): number[] {
  const spec = pool.spec ?? {};
  const tp = spec.targetPorts;
  if (Array.isArray(tp) && tp.length > 0) {
    return tp.map((p) => (p as { number?: unknown }).number).filter((n): n is number => typeof n === 'number');
  }
  return typeof spec.targetPortNumber === 'number' ? [spec.targetPortNumber] : [];
}

/** The first target port (what the twin gateway's FailOpen fallback uses). */
export function poolTargetPort(pool: PoolLike): number | undefined {
  return poolTargetPorts(pool)[0];
}

export function podReady(pod: PodLike): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  if (!pod.status?.podIP) return false;
  return (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

export function matchesLabels(labels: Record<string, string> | undefined, selector: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector)) if (labels?.[k] !== v) return false;
  return true;
}

export function poolEndpoints(pool: PoolLike, pods: readonly PodLike[]): EndpointSpec[] {
  const selector = poolSelector(pool);
  const ports = poolTargetPorts(pool);
  // an empty selector would select every pod in the namespace; the real pool requires one
  if (ports.length === 0 || Object.keys(selector).length === 0) return [];
  const out: EndpointSpec[] = [];
  for (const pod of pods) {
    if (!podReady(pod) || !matchesLabels(pod.metadata?.labels, selector)) continue;
    // one endpoint per target port, rank = the port's index (the real datastore's "pod-rank-N")
    ports.forEach((port, rank) =>
      out.push({
        namespace: pod.metadata?.namespace ?? pool.metadata?.namespace ?? 'default',
        name: pod.metadata?.name ?? '',
        address: pod.status!.podIP!,
        port,
        rank,
        labels: { ...(pod.metadata?.labels ?? {}) },
      }),
    );
  }
  return out;
}
