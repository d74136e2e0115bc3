/**
 * A probe's deadline that does not count the prober's own stalls against the pod.
 *
 * A real kubelet is a process of its own: when a probe's `timeoutSeconds` runs out, whatever the pod answered
 * has long been read. The twin's kubelet shares its event loop with the twin host (the API server, the
 * controllers, the gateway, and in tests the Playwright worker's own work). When that loop is held up past a
 * probe's deadline, libuv runs the expired timer before it reads the answer already waiting in the socket, and
 * the probe fails although the pod answered in time. Three such failures make a serving pod not Ready (its
 * Service's address then refuses connections), which a real cluster would not do.
 *
 * So, when the timer fires late (the loop was held up), the deadline is moved on by that lateness: the time the
 * prober could not look is given back, at most `maxExtensionMs` in all. When it fires on time, pending I/O still
 * gets one turn of the loop (`setImmediate` runs after the poll phase) before the deadline counts as passed.
 * A pod that does not answer still fails, `timeoutMs` (plus any stall of the prober's) after the probe began.
 */
export interface FairDeadline {
  /** Idempotent: the deadline will not fire. */
  cancel(): void;
}

export interface FairDeadlineOptions {
  /** Lateness below this is ordinary timer jitter, not a stall. */
  slackMs?: number;
  /** The most time given back in all, so that a loop that never recovers still ends the probe. */
  maxExtensionMs?: number;
  /** The clock (tests). */
  now?: () => number;
  /** Arms a timer and returns its cancel (tests drive a fake one with the fake clock). */
  setTimer?: (fn: () => void, ms: number) => () => void;
}

const realTimer = (fn: () => void, ms: number): (() => void) => {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
};

export const FAIR_DEADLINE_SLACK_MS = 50;
export const FAIR_DEADLINE_MAX_EXTENSION_MS = 10_000;

export function fairDeadline(timeoutMs: number, onExpire: () => void, opts: FairDeadlineOptions = {}): FairDeadline {
  const slack = opts.slackMs ?? FAIR_DEADLINE_SLACK_MS;
  const maxExtension = opts.maxExtensionMs ?? FAIR_DEADLINE_MAX_EXTENSION_MS;
  const now = opts.now ?? Date.now;
  const setTimer = opts.setTimer ?? realTimer;
  let due = now() + timeoutMs;
  let extended = 0;
  let cancelled = false;
  let clearTimer: (() => void) | undefined;
  let immediate: NodeJS.Immediate | undefined;

  const check = (): void => {
    clearTimer = undefined;
    if (cancelled) return;
    const late = now() - due;
    if (late > slack && extended < maxExtension) {
      const more = Math.min(late, maxExtension - extended);
      extended += more;
      due = now() + more;
      clearTimer = setTimer(check, more);
      return;
    }
    immediate = setImmediate(() => {
      immediate = undefined;
      if (!cancelled) {
        cancelled = true;
        onExpire();
      }
    });
  };
  clearTimer = setTimer(check, timeoutMs);

  return {
    cancel() {
      cancelled = true;
      clearTimer?.();
      if (immediate) clearImmediate(immediate);
      clearTimer = undefined;
      immediate = undefined;
    },
  };
}
