/** Namespace lifecycle: a default ServiceAccount per namespace; deletion empties the namespace, then removes it. */
import type { Api } from '../apiserver/api.ts';
import { key } from './util.ts';

/**
 * A real namespace controller takes seconds to start emptying a namespace; `kubectl delete -f` relies on
 * that (it deletes the Namespace first, then the objects in it, and expects them to still be there).
 */
const TERMINATION_DELAY_MS = 2000;

export function syncNamespaces(api: Api): void {
  const nsType = api.type('', 'namespaces');
  const saType = api.type('', 'serviceaccounts');
  for (const ns of api.store.peek(key('', 'namespaces'))) {
    const name = ns.metadata.name;
    if (!ns.metadata.deletionTimestamp) {
      if (!api.peek(saType, name, 'default')) {
        try {
          api.create(saType, name, { metadata: { name: 'default', namespace: name } });
        } catch {
          // raced with a delete
        }
      }
      continue;
    }
    if (Date.now() - Date.parse(ns.metadata.deletionTimestamp) < TERMINATION_DELAY_MS) continue;
    let left = 0;
    for (const t of api.registry.all()) {
      if (!t.namespaced) continue;
      for (const o of api.store.peek(key(t.group, t.plural), name)) {
        left++;
        if (!o.metadata.deletionTimestamp) {
          try {
            api.delete(t, name, o.metadata.name, { propagationPolicy: 'Background' });
          } catch {
            // gone
          }
        }
      }
    }
    if (left === 0) api.remove(nsType, undefined, name);
  }
}
