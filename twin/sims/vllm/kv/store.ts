/**
 * Received KV blocks keyed by request id, with waiters. Bounded: at most `maxEntries` blocks, each kept at most
 * `ttlMs` (a block whose decode request never comes must not pin memory).
 */

export interface KvBlock {
  requestId: string;
  promptTokens: number;
  size: number;
  receivedAt: number;
}

interface Waiter {
  resolve: (b: KvBlock | undefined) => void;
}

export class KvBlockStore {
  private readonly blocks = new Map<string, KvBlock>();
  private readonly waiters = new Map<string, Set<Waiter>>();

  constructor(
    private readonly maxEntries = 10_000,
    private readonly ttlMs = 120_000,
  ) {}

  get size(): number {
    return this.blocks.size;
  }

  put(block: KvBlock): void {
    const waiting = this.waiters.get(block.requestId);
    const first = waiting ? [...waiting][0] : undefined;
    if (first && waiting) {
      // A decode is already waiting: hand the block over directly.
      waiting.delete(first);
      if (waiting.size === 0) this.waiters.delete(block.requestId);
      first.resolve(block);
      return;
    }
    this.prune(block.receivedAt);
    this.blocks.delete(block.requestId);
    this.blocks.set(block.requestId, block);
    while (this.blocks.size > this.maxEntries) {
      const oldest = this.blocks.keys().next().value;
      if (oldest === undefined) break;
      this.blocks.delete(oldest);
    }
  }

  /** Takes the block now if present. */
  take(requestId: string): KvBlock | undefined {
    const b = this.blocks.get(requestId);
    if (b) this.blocks.delete(requestId);
    return b;
  }

  /** Takes the block, waiting at most timeoutMs (Infinity: no limit) for it; undefined on timeout or abort. */
  waitFor(requestId: string, timeoutMs: number, signal?: AbortSignal): Promise<KvBlock | undefined> {
    const now = this.take(requestId);
    if (now || timeoutMs <= 0 || signal?.aborted) return Promise.resolve(now);
    return new Promise((resolve) => {
      const finish = (b: KvBlock | undefined): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        const set = this.waiters.get(requestId);
        set?.delete(waiter);
        if (set && set.size === 0) this.waiters.delete(requestId);
        resolve(b);
      };
      const waiter: Waiter = { resolve: finish };
      const onAbort = (): void => finish(undefined);
      const timer = Number.isFinite(timeoutMs) ? setTimeout(() => finish(undefined), timeoutMs) : undefined;
      signal?.addEventListener('abort', onAbort, { once: true });
      let set = this.waiters.get(requestId);
      if (!set) this.waiters.set(requestId, (set = new Set()));
      set.add(waiter);
    });
  }

  private prune(now: number): void {
    for (const [id, b] of this.blocks) {
      if (now - b.receivedAt <= this.ttlMs) break; // insertion order = arrival order
      this.blocks.delete(id);
    }
  }
}

/** Remembers recently aborted request ids (bounded) so a late KV block for one can be recognised. */
export class RecentIds {
  private readonly ids = new Set<string>();
  constructor(private readonly max = 4096) {}
  add(id: string): void {
    this.ids.delete(id);
    this.ids.add(id);
    while (this.ids.size > this.max) {
      const oldest = this.ids.values().next().value;
      if (oldest === undefined) break;
      this.ids.delete(oldest);
    }
  }
  has(id: string): boolean {
    return this.ids.has(id);
  }
}
