/** Named waits with timeouts, in the style of the Gateway API conformance suite's named timeouts. */
import { TimeoutError } from '../core/errors.ts';
import { formatTimeout } from '../core/timeouts.ts';

export interface ProbeResult<T> {
  done: boolean;
  /** A short human description of what was seen, quoted when the wait times out. */
  state: string;
  value?: T;
  /** Set when waiting longer cannot help (e.g. CrashLoopBackOff on a bad image). */
  failed?: boolean;
}

export interface WaitOptions<T> {
  /** What is waited for, e.g. `rollout of deploy/gaie-inference-scheduling-epp`. */
  name: string;
  timeoutMs: number;
  /** The core/timeouts.ts name of the timeout in force (`deploy`), printed in the message so the user can raise it. */
  timeoutName?: string;
  intervalMs?: number;
  probe: () => Promise<ProbeResult<T>>;
  /** Called once on timeout or failure: the last log lines / events of what was involved. */
  diagnostics?: () => Promise<string>;
  signal?: AbortSignal;
}

export class WaitTimeoutError extends TimeoutError {
  constructor(
    readonly waitName: string,
    readonly timeoutMs: number,
    readonly lastState: string,
    readonly diagnostics: string,
    readonly failedEarly: boolean,
    opts: { timeoutName?: string; cause?: unknown } = {},
  ) {
    super(
      `${failedEarly ? 'gave up' : `timed out after ${formatTimeout(timeoutMs)}${opts.timeoutName ? ` (timeout ${opts.timeoutName})` : ''}`}` +
        ` waiting for ${waitName}; last state: ${lastState}` +
        (diagnostics ? `\n${diagnostics}` : ''),
      opts,
    );
    this.name = 'WaitTimeoutError';
  }
}

export async function waitFor<T>(opts: WaitOptions<T>): Promise<T | undefined> {
  const started = Date.now();
  const interval = opts.intervalMs ?? 250;
  let last = '(not checked yet)';
  // the last probe's error, kept as the timeout's cause (a 403 stays a 403 under "timed out")
  let lastError: unknown;
  for (;;) {
    opts.signal?.throwIfAborted();
    let result: ProbeResult<T>;
    try {
      result = await opts.probe();
      lastError = undefined;
    } catch (err) {
      lastError = err;
      result = { done: false, state: `error: ${(err as Error).message.split('\n')[0]}` };
    }
    last = result.state;
    if (result.done) return result.value;
    const elapsed = Date.now() - started;
    if (result.failed || elapsed >= opts.timeoutMs) {
      const diag = opts.diagnostics ? await opts.diagnostics().catch((e: Error) => `(diagnostics failed: ${e.message})`) : '';
      throw new WaitTimeoutError(opts.name, opts.timeoutMs, last, diag, !!result.failed, {
        ...(opts.timeoutName ? { timeoutName: opts.timeoutName } : {}),
        ...(lastError !== undefined ? { cause: lastError } : {}),
      });
    }
    await new Promise((r) => setTimeout(r, Math.min(interval, opts.timeoutMs - elapsed)));
  }
}
