import type { ManifestObject } from '../cluster/manifests.ts';
import type { Suite } from '../suites/schema.ts';
import { matchesLabels, parseLabelSelector } from '../suites/selectors.ts';
import { guardFaults, type GuardDecision, type GuardSubject } from './guard.ts';
import { faultBody } from './plan.ts';

/** The pods a set of manifests will run: bare Pods by name, a workload's pods as `<workload>-*` with its template labels. */
export function manifestPods(manifests: readonly ManifestObject[]): { name: string; namespace: string; labels: Record<string, string> }[] {
  const out: { name: string; namespace: string; labels: Record<string, string> }[] = [];
  for (const m of manifests) {
    const namespace = m.metadata.namespace ?? 'default';
    if (m.kind === 'Pod') {
      out.push({ name: m.metadata.name, namespace, labels: { ...((m.metadata.labels as Record<string, string>) ?? {}) } });
    } else if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'].includes(m.kind)) {
      const template = (m.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)?.template;
      out.push({ name: `${m.metadata.name}-*`, namespace, labels: { ...(template?.metadata?.labels ?? {}) } });
    }
  }
  return out;
}

/**
 * The guard judged before anything is deployed: each fault against the pods the suite's manifests will
 * run (faults whose pods the manifests do not describe, like the operator-rendered EPP, are judged again
 * on the live pods before the load).
 */
export function preflightGuard(suite: Suite, manifests: readonly ManifestObject[]): GuardDecision {
  const pods = manifestPods(manifests);
  const subjects: GuardSubject[] = suite.spec.faults.map((fault, index) => {
    const { kind, body } = faultBody(fault);
    const selector = typeof body.selector === 'string' ? parseLabelSelector(body.selector) : undefined;
    const matching = selector ? pods.filter((p) => p.namespace === body.namespace && matchesLabels(selector, p.labels)) : [];
    return { index, kind, namespace: body.namespace, pods: matching };
  });
  return guardFaults(suite.spec.target, subjects);
}
