/** In-memory object storage: one global resourceVersion counter, a bounded event history, subscribers. */
import type { Obj } from './selectors.ts';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: EventType;
  /** typeKey(group, plural) */
  key: string;
  rv: number;
  object: Obj;
  /** The object before a MODIFIED / DELETED event. */
  old?: Obj;
}

export type Listener = (e: StoreEvent) => void;

const objKey = (ns: string | undefined, name: string) => `${ns ?? ''}/${name}`;

export class Store {
  private rv = 1;
  private readonly data = new Map<string, Map<string, Obj>>();
  private readonly history: StoreEvent[] = [];
  /** Highest resourceVersion whose event fell out of the history. */
  private evictedUpTo = 0;
  private readonly listeners = new Set<Listener>();
  private readonly json = new WeakMap<Obj, string>();

  constructor(private readonly historyLimit = 5000) {}

  currentRv(): number {
    return this.rv;
  }

  get(key: string, ns: string | undefined, name: string): Obj | undefined {
    const o = this.data.get(key)?.get(objKey(ns, name));
    return o ? structuredClone(o) : undefined;
  }

  list(key: string, ns?: string): Obj[] {
    const out: Obj[] = [];
    for (const o of this.data.get(key)?.values() ?? []) {
      if (ns === undefined || o.metadata?.namespace === ns) out.push(structuredClone(o));
    }
    return out.sort((a, b) => objKey(a.metadata.namespace, a.metadata.name).localeCompare(objKey(b.metadata.namespace, b.metadata.name)));
  }

  /** The stored object without copying: read-only use by in-process controllers. */
  peekOne(key: string, ns: string | undefined, name: string): Obj | undefined {
    return this.data.get(key)?.get(objKey(ns, name));
  }

  /**
   * JSON of a stored object (from `peek`/`peekOne`), computed once per stored version: stored objects are
   * replaced, never changed in place, so the text stays right as long as the object is the stored one.
   */
  jsonOf(stored: Obj): string {
    let text = this.json.get(stored);
    if (text === undefined) this.json.set(stored, (text = JSON.stringify(stored)));
    return text;
  }

  /** Stored objects without copying: read-only use by in-process controllers. */
  peek(key: string, ns?: string): readonly Obj[] {
    const out: Obj[] = [];
    for (const o of this.data.get(key)?.values() ?? []) if (ns === undefined || o.metadata?.namespace === ns) out.push(o);
    return out;
  }

  keys(): string[] {
    return [...this.data.keys()];
  }

  /** Stores `obj` (ADDED when new, MODIFIED otherwise), stamping a fresh resourceVersion. */
  put(key: string, obj: Obj): Obj {
    const ns = obj.metadata?.namespace as string | undefined;
    const name = obj.metadata.name as string;
    let bucket = this.data.get(key);
    if (!bucket) this.data.set(key, (bucket = new Map()));
    const old = bucket.get(objKey(ns, name));
    const rv = ++this.rv;
    const stored = structuredClone(obj);
    stored.metadata.resourceVersion = String(rv);
    bucket.set(objKey(ns, name), stored);
    this.emit({ type: old ? 'MODIFIED' : 'ADDED', key, rv, object: stored, ...(old ? { old } : {}) });
    return structuredClone(stored);
  }

  remove(key: string, ns: string | undefined, name: string): Obj | undefined {
    const bucket = this.data.get(key);
    const old = bucket?.get(objKey(ns, name));
    if (!bucket || !old) return undefined;
    bucket.delete(objKey(ns, name));
    const rv = ++this.rv;
    const gone = structuredClone(old);
    gone.metadata.resourceVersion = String(rv);
    this.emit({ type: 'DELETED', key, rv, object: gone, old });
    return structuredClone(gone);
  }

  /** Events of `key` after `rv`, or 'expired' when some of them already fell out of the history. */
  eventsSince(key: string, rv: number): StoreEvent[] | 'expired' {
    if (rv < this.evictedUpTo) return 'expired';
    return this.history.filter((e) => e.rv > rv && e.key === key);
  }

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(e: StoreEvent): void {
    this.history.push(e);
    while (this.history.length > this.historyLimit) this.evictedUpTo = this.history.shift()!.rv;
    for (const l of [...this.listeners]) {
      try {
        l(e);
      } catch {
        // a broken subscriber must not break writes
      }
    }
  }
}
