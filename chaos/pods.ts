import type { V1Pod } from '#client-node';
import type { Cluster } from '../cluster/driver.ts';
import { isPodReady, restartCount } from '../cluster/pods.ts';
import type { PodInfo } from './types.ts';

export function podInfo(pod: V1Pod): PodInfo {
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller) ?? pod.metadata?.ownerReferences?.[0];
  return {
    name: pod.metadata?.name ?? '',
    namespace: pod.metadata?.namespace ?? '',
    uid: pod.metadata?.uid ?? '',
    labels: { ...(pod.metadata?.labels ?? {}) },
    ...(pod.status?.podIP ? { podIP: pod.status.podIP } : {}),
    restartCount: restartCount(pod),
    ...(owner ? { ownerKind: owner.kind } : {}),
    ready: isPodReady(pod),
    completed: pod.status?.phase === 'Succeeded',
  };
}

/** Live pods (not terminating) matching a selector. */
export async function livePods(cluster: Cluster, namespace: string, selector?: string): Promise<PodInfo[]> {
  const pods = await cluster.listPods(namespace, selector);
  return pods.filter((p) => !p.metadata?.deletionTimestamp).map(podInfo);
}

/** The label selector of a Deployment's pods (its spec.selector.matchLabels). */
export async function deploymentSelector(cluster: Cluster, namespace: string, name: string): Promise<string | undefined> {
  try {
    const d = await cluster.apps.readNamespacedDeployment({ name, namespace });
    const labels = d.spec?.selector?.matchLabels ?? {};
    return Object.entries(labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
  } catch {
    return undefined;
  }
}

/** The HTTP port of a vLLM pod's container (the one named http, else the first), 8000 by default. */
export function httpPort(pod: V1Pod): number {
  const ports = pod.spec?.containers?.flatMap((c) => c.ports ?? []) ?? [];
  return (ports.find((p) => p.name === 'http') ?? ports[0])?.containerPort ?? 8000;
}
