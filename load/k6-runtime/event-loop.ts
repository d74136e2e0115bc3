/**
 * The VU's event loop as k6 runs it: an iteration (and setup/teardown) ends only when its promise has settled
 * and no timer it started is pending (k6 v2.2.0: internal/js/eventloop/eventloop.go, `Start` returns once
 * every registered callback has run; k6/timers registers each timer with the loop). The worker's
 * setTimeout/setInterval are wrapped to count pending timers; `idle()` resolves when none is left.
 */
type Handle = ReturnType<typeof setTimeout>;

const pending = new Set<Handle>();
let waiters: (() => void)[] = [];
/** The first exception a timer callback threw: it ends the loop and fails the iteration, as in k6. */
let failure: { err: unknown } | undefined;
let rawClear: (h: Handle) => void = clearTimeout;

function settle(h: Handle): void {
  pending.delete(h);
  if (pending.size === 0) {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  }
}

export function installTrackedTimers(g: Record<string, unknown>): void {
  const rawSetTimeout = globalThis.setTimeout;
  const rawClearTimeout = globalThis.clearTimeout;
  const rawSetInterval = globalThis.setInterval;
  const rawClearInterval = globalThis.clearInterval;
  rawClear = (h) => {
    rawClearTimeout(h);
    rawClearInterval(h);
  };
  g['setTimeout'] = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]): Handle => {
    const h: Handle = rawSetTimeout(() => {
      try {
        fn(...args);
      } catch (err) {
        fail(err);
      } finally {
        settle(h);
      }
    }, ms);
    pending.add(h);
    return h;
  };
  g['clearTimeout'] = (h: Handle): void => {
    rawClearTimeout(h);
    settle(h);
  };
  g['setInterval'] = (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]): Handle => {
    const h = rawSetInterval(() => {
      try {
        fn(...args);
      } catch (err) {
        fail(err);
      }
    }, ms);
    pending.add(h);
    return h;
  };
  g['clearInterval'] = (h: Handle): void => {
    rawClearInterval(h);
    settle(h);
  };
}

function fail(err: unknown): void {
  failure ??= { err };
  for (const h of [...pending]) {
    rawClear(h);
    settle(h);
  }
}

/** Resolves when no timer is pending (at once when none is); throws what a timer callback threw. */
export async function idle(): Promise<void> {
  if (pending.size > 0) await new Promise<void>((resolve) => waiters.push(resolve));
  const f = failure;
  failure = undefined;
  if (f) throw f.err;
}
