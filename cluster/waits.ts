/** Named waits with timeouts, in the style of the Gateway API conformance suite's named timeouts. */
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
  intervalMs?: number;
  probe: () => Promise<ProbeResult<T>>;
  /** Called once on timeout or failure: the last log lines / events of what was involved. */
  diagnostics?: () => Promise<string>;
  signal?: AbortSignal;
}

export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError';
  constructor(
    readonly waitName: string,
    readonly timeoutMs: number,
    readonly lastState: string,
    readonly diagnostics: string,
    failedEarly: boolean,
  ) {
    super(
      `${failedEarly ? 'gave up' : `timed out after ${formatMs(timeoutMs)}`} waiting for ${waitName}; last state: ${lastState}` +
        (diagnostics ? `\n${diagnostics}` : ''),
    );
  }
}

export async function waitFor<T>(opts: WaitOptions<T>): Promise<T | undefined> {
  const started = Date.now();
  const interval = opts.intervalMs ?? 250;
  let last = '(not checked yet)';
  for (;;) {
    opts.signal?.throwIfAborted();
    let result: ProbeResult<T>;
    try {
      result = await opts.probe();
    } catch (err) {
      result = { done: false, state: `error: ${(err as Error).message.split('\n')[0]}` };
    }
    last = result.state;
    if (result.done) return result.value;
    const elapsed = Date.now() - started;
    if (result.failed || elapsed >= opts.timeoutMs) {
      const diag = opts.diagnostics ? await opts.diagnostics().catch((e: Error) => `(diagnostics failed: ${e.message})`) : '';
      throw new WaitTimeoutError(opts.name, opts.timeoutMs, last, diag, !!result.failed);
    }
    await new Promise((r) => setTimeout(r, Math.min(interval, opts.timeoutMs - elapsed)));
  }
}

export function formatMs(ms: number): string {
  if (ms % 60_000 === 0 && ms >= 60_000) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
