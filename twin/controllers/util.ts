/** Small helpers shared by the controllers. */
import { typeKey } from '../apiserver/resources.ts';
import type { Obj } from '../apiserver/selectors.ts';

export const key = typeKey;

export function controllerRef(o: Obj): Obj | undefined {
  return ((o.metadata?.ownerReferences ?? []) as Obj[]).find((r) => r.controller);
}

export function isOwnedBy(o: Obj, owner: Obj): boolean {
  return controllerRef(o)?.uid === owner.metadata.uid;
}

export function ownerRefTo(owner: Obj): Obj {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function podReady(p: Obj): boolean {
  return ((p.status?.conditions ?? []) as Obj[]).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Ready for at least minReadySeconds. */
export function podAvailable(p: Obj, minReadySeconds: number, now = Date.now()): boolean {
  const ready = ((p.status?.conditions ?? []) as Obj[]).find((c) => c.type === 'Ready' && c.status === 'True');
  if (!ready) return false;
  if (!minReadySeconds) return true;
  const since = Date.parse(ready.lastTransitionTime ?? '');
  return Number.isFinite(since) && since + minReadySeconds * 1000 <= now;
}

export function isTerminating(o: Obj): boolean {
  return !!o.metadata?.deletionTimestamp;
}

/** FNV-1a 32-bit, rendered with the Kubernetes "safe" alphabet (like pod-template-hash). */
export function templateHash(template: unknown): string {
  const s = JSON.stringify(sortKeys(template));
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  let out = '';
  let n = h;
  do {
    out += alphabet[n % alphabet.length];
    n = Math.floor(n / alphabet.length);
  } while (n > 0);
  return out;
}

export function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v as object)
        .sort()
        .map((k) => [k, sortKeys((v as Obj)[k])]),
    );
  return v;
}

/** An int-or-percent value (maxSurge / maxUnavailable) against a total. */
export function intOrPercent(v: unknown, total: number, roundUp: boolean, dflt: string): number {
  const raw = v === undefined || v === null ? dflt : v;
  if (typeof raw === 'number') return raw;
  const m = /^(\d+)%$/.exec(String(raw));
  if (!m) return Number(raw) || 0;
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}
