/** One request in flight, as the registry sees it. */
export interface InFlightEntry {
  /** `performance.now()` after which the request is cut as a timeout; set by `InFlight.add`. */
  deadline: number;
  /** Stop the request and record it with this error kind. */
  cut(kind: 'timeout' | 'aborted'): void;
}

/**
 * The requests of a run in flight, and their per-request timeout on one timer. Every request of a run has the
 * same timeout, so deadlines fall in the order requests started: the oldest entry is always the next to
 * expire, and one timer armed for it replaces a timer set and cleared per request.
 */
export class InFlight {
  private readonly entries = new Set<InFlightEntry>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly timeoutMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get size(): number {
    return this.entries.size;
  }

  add(entry: InFlightEntry): void {
    entry.deadline = this.now() + this.timeoutMs;
    this.entries.add(entry);
    if (this.timer === undefined) this.arm(entry.deadline);
  }

  /** The request ended; its deadline no longer matters (the timer is not touched: it re-arms when it fires). */
  delete(entry: InFlightEntry): void {
    this.entries.delete(entry);
  }

  /** Cut every request in flight as `aborted` (the run was stopped). */
  stopAll(): void {
    for (const entry of [...this.entries]) {
      this.entries.delete(entry);
      entry.cut('aborted');
    }
  }

  /** Stop the timer; call when the run is over. */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(deadline: number): void {
    this.timer = setTimeout(this.expire, Math.max(1, Math.ceil(deadline - this.now())));
  }

  private readonly expire = (): void => {
    this.timer = undefined;
    const now = this.now();
    for (const entry of this.entries) {
      if (entry.deadline > now) {
        this.arm(entry.deadline);
        return;
      }
      this.entries.delete(entry);
      entry.cut('timeout');
    }
  };
}
