/** The latency model: pure functions from settings and load to milliseconds. */
import type { SimSettings } from './settings.ts';

type LatencySettings = Pick<SimSettings, 'ttftMs' | 'ttftPerTokenMs' | 'ttftKvHitMs' | 'itlMs' | 'itlPerRunningMs' | 'latencyScale'>;

/** Prefill time: grows with the prompt; a KV hit skips the per-token compute. */
export function prefillMs(s: LatencySettings, promptTokens: number, kvHit: boolean): number {
  const raw = kvHit ? s.ttftKvHitMs : s.ttftMs + s.ttftPerTokenMs * promptTokens;
  return raw * s.latencyScale;
}

/** One decode step for a sequence while `running` sequences share the batch. */
export function interTokenMs(s: LatencySettings, running: number): number {
  return (s.itlMs + s.itlPerRunningMs * Math.max(0, running - 1)) * s.latencyScale;
}

/** Sleep that ends early (rejecting with the signal's reason) when the signal aborts. 0 ms still yields once. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const done = (): void => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    const timer = ms > 0 ? setTimeout(done, ms) : undefined;
    const immediate = ms > 0 ? undefined : setImmediate(done);
    const onAbort = (): void => {
      if (timer) clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Waits for `p`, or rejects with the signal's reason when it aborts first. */
export function untilOrAbort(p: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e as Error);
      },
    );
  });
}
