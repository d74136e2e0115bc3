/**
 * Garbage collector: deletes dependents whose owners are all gone (background), finishes foreground
 * deletion (deletes dependents, then drops the foregroundDeletion finalizer), and handles the `orphan`
 * finalizer. Also the pod safety net: pods whose grace period ended more than 10 s ago are removed.
 */
import type { Api } from '../apiserver/api.ts';
import { FOREGROUND_FINALIZER } from '../apiserver/api.ts';
import type { ResourceType } from '../apiserver/resources.ts';
import type { Obj } from '../apiserver/selectors.ts';
import { key } from './util.ts';

const POD_GRACE_SAFETY_MS = 10_000;
/** Events live an hour, like the real API server's default event TTL. */
const EVENT_TTL_MS = 3600_000;

export function syncGarbage(api: Api): void {
  const types = api.registry.all();
  const uids = new Set<string>();
  const objects: Array<{ t: ResourceType; o: Obj }> = [];
  for (const t of types) {
    for (const o of api.store.peek(key(t.group, t.plural))) {
      uids.add(o.metadata.uid);
      objects.push({ t, o });
    }
  }
  const dependents = new Map<string, Array<{ t: ResourceType; o: Obj }>>();
  for (const entry of objects) {
    for (const r of (entry.o.metadata.ownerReferences ?? []) as Obj[]) {
      const list = dependents.get(r.uid) ?? [];
      list.push(entry);
      dependents.set(r.uid, list);
    }
  }
  for (const { t, o } of objects) {
    const md = o.metadata;
    const refs = (md.ownerReferences ?? []) as Obj[];
    // Dependents of vanished owners.
    if (refs.length && !md.deletionTimestamp) {
      const alive = refs.filter((r) => uids.has(r.uid));
      if (alive.length === 0) {
        tryDelete(api, t, o, 'Background');
        continue;
      }
      if (alive.length !== refs.length) {
        api.mutate(t, md.namespace, md.name, (x) => {
          x.metadata.ownerReferences = alive;
        });
      }
    }
    if (md.deletionTimestamp) {
      const deps = dependents.get(md.uid) ?? [];
      const fins = (md.finalizers ?? []) as string[];
      if (fins.includes('orphan')) {
        for (const d of deps) {
          api.mutate(d.t, d.o.metadata.namespace, d.o.metadata.name, (x) => {
            x.metadata.ownerReferences = ((x.metadata.ownerReferences ?? []) as Obj[]).filter((r) => r.uid !== md.uid);
            if (!x.metadata.ownerReferences.length) delete x.metadata.ownerReferences;
          });
        }
        dropFinalizer(api, t, o, 'orphan');
      } else if (fins.includes(FOREGROUND_FINALIZER)) {
        const blocking = deps.filter(
          (d) => !d.o.metadata.deletionTimestamp || (d.o.metadata.finalizers ?? []).length || d.t.kind === 'Pod',
        );
        for (const d of deps) if (!d.o.metadata.deletionTimestamp) tryDelete(api, d.t, d.o, 'Foreground');
        const remaining = deps.filter((d) => api.peek(d.t, d.o.metadata.namespace, d.o.metadata.name));
        if (remaining.length === 0 || blocking.length === 0) dropFinalizer(api, t, o, FOREGROUND_FINALIZER);
      }
    }
    if (t.kind === 'Event' && (t.group === '' || t.group === 'events.k8s.io')) {
      const last = Date.parse(o.lastTimestamp ?? o.eventTime ?? md.creationTimestamp);
      if (Number.isFinite(last) && last + EVENT_TTL_MS < Date.now()) api.remove(t, md.namespace, md.name);
      continue;
    }
    // Pod safety net: the kubelet should have finished the deletion by now.
    if (t.group === '' && t.kind === 'Pod' && md.deletionTimestamp && !(md.finalizers ?? []).length) {
      if (!o.spec?.nodeName || Date.parse(md.deletionTimestamp) + POD_GRACE_SAFETY_MS < Date.now()) api.remove(t, md.namespace, md.name);
    }
  }
}

function tryDelete(api: Api, t: ResourceType, o: Obj, propagationPolicy: 'Background' | 'Foreground'): void {
  try {
    api.delete(t, o.metadata.namespace, o.metadata.name, { propagationPolicy, preconditions: { uid: o.metadata.uid } });
  } catch {
    // already gone or replaced
  }
}

function dropFinalizer(api: Api, t: ResourceType, o: Obj, fin: string): void {
  api.mutate(t, o.metadata.namespace, o.metadata.name, (x) => {
    x.metadata.finalizers = ((x.metadata.finalizers ?? []) as string[]).filter((f) => f !== fin);
    if (!x.metadata.finalizers.length) delete x.metadata.finalizers;
  });
}
