/** ReplicaSet controller: keeps spec.replicas pods from the template, reports status from their Ready condition. */
import type { Api } from '../apiserver/api.ts';
import { randomSuffix } from '../apiserver/api.ts';
import { fromLabelSelectorObject, matchLabels } from '../apiserver/selectors.ts';
import type { Obj } from '../apiserver/selectors.ts';
import { ApiError } from '../apiserver/status.ts';
import type { Recorder } from './events.ts';
import { isOwnedBy, isTerminating, key, ownerRefTo, podAvailable, podReady } from './util.ts';

const COMPONENT = 'replicaset-controller';

/** Pods to delete first: unscheduled, then not ready, then the newest. */
function deletionOrder(a: Obj, b: Obj): number {
  const rank = (p: Obj) => (p.spec?.nodeName ? 1 : 0) + (podReady(p) ? 2 : 0);
  return rank(a) - rank(b) || String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp));
}

export function syncReplicaSets(api: Api, record: Recorder): void {
  const rsType = api.type('apps', 'replicasets');
  const podType = api.type('', 'pods');
  for (const rs of api.store.peek(key('apps', 'replicasets'))) {
    if (isTerminating(rs)) continue;
    const ns = rs.metadata.namespace;
    const sel = fromLabelSelectorObject(rs.spec?.selector);
    const owned = api.store.peek(key('', 'pods'), ns).filter((p) => isOwnedBy(p, rs) && matchLabels(sel, p.metadata.labels));
    const active = owned.filter((p) => !isTerminating(p) && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
    const want = Number(rs.spec?.replicas ?? 1);
    const diff = want - active.length;
    if (diff > 0) {
      const tpl = rs.spec?.template ?? {};
      for (let i = 0; i < diff; i++) {
        try {
          const pod = api.create(podType, ns, {
            metadata: {
              generateName: `${rs.metadata.name}-`,
              namespace: ns,
              labels: { ...(tpl.metadata?.labels ?? {}) },
              ...(tpl.metadata?.annotations ? { annotations: { ...tpl.metadata.annotations } } : {}),
              ownerReferences: [ownerRefTo(rs)],
            },
            spec: structuredClone(tpl.spec ?? {}),
          });
          record(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
        } catch (e) {
          const msg = e instanceof ApiError ? e.message : String(e);
          record(rs, 'Warning', 'FailedCreate', `Error creating: ${msg}`);
          break;
        }
      }
    } else if (diff < 0) {
      for (const p of [...active].sort(deletionOrder).slice(0, -diff)) {
        try {
          api.delete(podType, ns, p.metadata.name);
          record(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
        } catch {
          // already gone
        }
      }
    }
    // Status from the pods as they are now.
    const nowPods = api.store
      .peek(key('', 'pods'), ns)
      .filter((p) => isOwnedBy(p, rs) && !isTerminating(p) && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
    const minReady = Number(rs.spec?.minReadySeconds ?? 0);
    const status = {
      replicas: nowPods.length,
      fullyLabeledReplicas: nowPods.filter((p) =>
        matchLabels(fromLabelSelectorObject({ matchLabels: rs.spec?.template?.metadata?.labels ?? {} }), p.metadata.labels),
      ).length,
      readyReplicas: nowPods.filter(podReady).length,
      availableReplicas: nowPods.filter((p) => podAvailable(p, minReady)).length,
      observedGeneration: rs.metadata.generation ?? 1,
    };
    api.mutate(
      rsType,
      ns,
      rs.metadata.name,
      (o) => {
        o.status = { ...(o.status ?? {}), ...status };
      },
      'status',
    );
  }
}

/** Suffix helper kept for symmetry with the real controller's naming. */
export const podNameSuffix = randomSuffix;
