/** Namespace lifecycle: a default ServiceAccount per namespace; deletion empties the namespace, then removes it. */
import type { Api } from '../apiserver/api.ts';
import { key } from './util.ts';

export function syncNamespaces(api: Api): void {
  const nsType = api.type('', 'namespaces');
  const saType = api.type('', 'serviceaccounts');
  for (const ns of api.store.peek(key('', 'namespaces'))) {
    const name = ns.metadata.name;
    if (!ns.metadata.deletionTimestamp) {
      if (!api.tryGet(saType, name, 'default')) {
        try {
          api.create(saType, name, { metadata: { name: 'default', namespace: name } });
        } catch {
          // raced with a delete
        }
      }
      continue;
    }
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
