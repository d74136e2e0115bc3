import type { Fault } from '../suites/schema.ts';
import type { Trigger } from './types.ts';

/** The trigger of a fault; one with neither `at` nor `afterRequests` fires when the load starts. */
export function triggerOf(fault: Fault): Trigger {
  const body = Object.values(fault)[0] as { at?: number; afterRequests?: number };
  if (body.afterRequests !== undefined) return { afterRequests: body.afterRequests };
  return { at: body.at ?? 0 };
}

export function describeTrigger(t: Trigger): string {
  return 'at' in t ? `at ${(t.at / 1000).toFixed(t.at % 1000 ? 1 : 0)}s into the load` : `after ${t.afterRequests} completed requests`;
}

/** Indices of triggers due at this point of the load that have not fired yet, in declaration order. */
export function dueTriggers(triggers: readonly Trigger[], now: { elapsedMs: number; done: number }, fired: ReadonlySet<number>): number[] {
  const due: number[] = [];
  triggers.forEach((t, i) => {
    if (fired.has(i)) return;
    if ('at' in t ? now.elapsedMs >= t.at : now.done >= t.afterRequests) due.push(i);
  });
  return due;
}

/** Delay until the next not-yet-fired `at` trigger, or undefined when none is left. */
export function nextTimerDelay(triggers: readonly Trigger[], elapsedMs: number, fired: ReadonlySet<number>): number | undefined {
  let next: number | undefined;
  triggers.forEach((t, i) => {
    if (fired.has(i) || !('at' in t)) return;
    const d = Math.max(0, t.at - elapsedMs);
    next = next === undefined ? d : Math.min(next, d);
  });
  return next;
}

/**
 * Fires faults as the load runs: `at` triggers from a timer, `afterRequests` triggers from the load's
 * progress. Faults run one after another (a queue), so two faults never act on the cluster at once.
 */
export class FaultScheduler {
  private readonly fired = new Set<number>();
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private done = 0;
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Faults whose action threw: the error is kept, the faults after it still run. */
  readonly errors: { index: number; error: Error }[] = [];

  constructor(
    private readonly triggers: readonly Trigger[],
    private readonly fire: (index: number) => Promise<void>,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    this.startedAt = this.now();
    this.tick();
  }

  /** The load engine's progress callback: completed requests so far. */
  onProgress(done: number): void {
    this.done = Math.max(this.done, done);
    this.tick();
  }

  /** Stop firing; resolves once the faults already started are done. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.queue;
  }

  /** Indices of faults that never fired (the load ended first). */
  unfired(): number[] {
    return this.triggers.map((_, i) => i).filter((i) => !this.fired.has(i));
  }

  /** Resolves when every fault that fired so far has finished. */
  settled(): Promise<void> {
    return this.queue;
  }

  private tick(): void {
    if (this.stopped || this.startedAt === 0) return;
    const elapsedMs = this.now() - this.startedAt;
    for (const i of dueTriggers(this.triggers, { elapsedMs, done: this.done }, this.fired)) {
      this.fired.add(i);
      this.queue = this.queue
        .then(() => this.fire(i))
        .catch((error: unknown) => {
          this.errors.push({ index: i, error: error instanceof Error ? error : new Error(String(error)) });
        });
    }
    if (this.timer) clearTimeout(this.timer);
    const delay = nextTimerDelay(this.triggers, elapsedMs, this.fired);
    if (delay !== undefined) this.timer = setTimeout(() => this.tick(), Math.max(1, delay));
  }
}
