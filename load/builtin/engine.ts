import { Client } from '../../common/undici.ts';
import { assertLoadTarget } from '../loopback.ts';
import type { LoadPlan } from '../plan.ts';
import type { LoadProgress } from '../progress.ts';
import type { LoadResult, RequestRecord } from '../result.ts';
import { summarize } from '../summary.ts';
import { exchange, type ExchangeOptions } from './exchange.ts';
import { InFlight } from './inflight.ts';
import { compileRequests, type RenderedVariantRequest } from './template.ts';

export interface RunLoadOptions {
  baseUrl: string;
  signal?: AbortSignal;
  onProgress?: (p: LoadProgress) => void;
  /** Allow a non-loopback base URL (a real cluster's gateway). */
  allowRemote?: boolean;
  progressEveryMs?: number;
}

/** Absolute limits whatever the plan says, so a typo cannot run forever. */
export const LIMITS = { maxRequests: 1_000_000, maxConcurrency: 10_000, maxDurationMs: 6 * 3_600_000 } as const;
const DEFAULT_CLOSED_MAX_DURATION_MS = 30 * 60_000;

type Shape =
  { kind: 'closed'; requests: number; concurrency: number } | { kind: 'open'; rate: number; arrivals: number; maxInFlight: number };

function shapeOf(plan: LoadPlan): Shape {
  if (plan.rate !== undefined) {
    if (!(plan.rate > 0)) throw new Error('load plan: rate must be > 0');
    const arrivals = plan.durationMs !== undefined ? Math.floor((plan.rate * plan.durationMs) / 1000) : (plan.requests ?? 0);
    if (arrivals <= 0) throw new Error('load plan: an open model needs durationMs (or requests) with rate');
    const maxInFlight = plan.maxInFlight ?? plan.concurrency ?? 100;
    return {
      kind: 'open',
      rate: plan.rate,
      arrivals: Math.min(arrivals, LIMITS.maxRequests),
      maxInFlight: Math.min(maxInFlight, LIMITS.maxConcurrency),
    };
  }
  const requests = plan.requests ?? 1;
  const concurrency = Math.max(1, Math.min(plan.concurrency ?? 1, requests, LIMITS.maxConcurrency));
  if (requests > LIMITS.maxRequests) throw new Error(`load plan: at most ${LIMITS.maxRequests} requests`);
  return { kind: 'closed', requests, concurrency };
}

function hardBoundMs(plan: LoadPlan, shape: Shape): number {
  const fromPlan =
    plan.maxDurationMs ??
    (shape.kind === 'open' ? (shape.arrivals / shape.rate) * 1000 + plan.timeoutMs + 5000 : DEFAULT_CLOSED_MAX_DURATION_MS);
  return Math.min(fromPlan, LIMITS.maxDurationMs);
}

/** Closed model: `concurrency` workers take the next index until all `requests` are taken. */
async function runClosed(
  count: number,
  concurrency: number,
  stop: AbortSignal,
  send: (i: number, slot: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  const worker = async (_: unknown, slot: number): Promise<void> => {
    while (next < count && !stop.aborted) await send(next++, slot);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return count - next;
}

/**
 * Open model: arrival k is due at k / rate seconds. Due arrivals start unless `maxInFlight` are in flight,
 * then they are dropped (k6's dropped_iterations). Returns the number dropped.
 */
async function runOpen(
  arrivals: number,
  rate: number,
  maxInFlight: number,
  stop: AbortSignal,
  send: (i: number, slot: number) => Promise<void>,
): Promise<{ dropped: number; notStarted: number }> {
  const t0 = performance.now();
  const freeSlots = Array.from({ length: maxInFlight }, (_, s) => maxInFlight - 1 - s);
  let inFlight = 0;
  let dropped = 0;
  let k = 0;
  const running = new Set<Promise<void>>();
  while (k < arrivals && !stop.aborted) {
    const now = performance.now();
    while (k < arrivals && (k * 1000) / rate <= now - t0) {
      const slot = inFlight < maxInFlight ? freeSlots.pop() : undefined;
      if (slot === undefined) dropped++;
      else {
        inFlight++;
        const p: Promise<void> = send(k, slot).finally(() => {
          inFlight--;
          freeSlots.push(slot);
          running.delete(p);
        });
        running.add(p);
      }
      k++;
    }
    if (k >= arrivals) break;
    const waitMs = Math.max(0, (k * 1000) / rate - (performance.now() - t0));
    await new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        stop.removeEventListener('abort', wake);
        resolve();
      };
      const timer = setTimeout(wake, waitMs);
      stop.addEventListener('abort', wake, { once: true });
    });
  }
  await Promise.all(running);
  return { dropped, notStarted: arrivals - k };
}

/** Run a load plan against `baseUrl` with the built-in engine (undici, one keep-alive connection per concurrency slot). */
export async function runLoad(plan: LoadPlan, options: RunLoadOptions): Promise<LoadResult> {
  const url = assertLoadTarget(options.baseUrl, options.allowRemote);
  const shape = shapeOf(plan);
  const render = compileRequests(plan);
  const connections = shape.kind === 'closed' ? shape.concurrency : shape.maxInFlight;
  // One keep-alive client per worker slot: a slot never waits for a connection, and a request cut before it
  // reached its socket can drop just that connection. One undici Pool with `connections: concurrency` opens
  // the same sockets and measured no cheaper per request. No undici header/body timers: the run's own
  // per-request timeout (one timer for the whole run) covers both.
  const newClient = (): Client => new Client(url.origin, { pipelining: 1, keepAliveTimeout: 10_000, headersTimeout: 0, bodyTimeout: 0 });
  const clients = Array.from({ length: connections }, newClient);
  const retired: Client[] = [];
  const stop = new AbortController();
  const inFlightRequests = new InFlight(plan.timeoutMs);
  stop.signal.addEventListener('abort', () => inFlightRequests.stopAll());
  let stopReason: 'maxDuration' | 'aborted' | undefined;
  const onExternalAbort = (): void => {
    stopReason ??= 'aborted';
    stop.abort();
  };
  options.signal?.addEventListener('abort', onExternalAbort, { once: true });
  if (options.signal?.aborted) onExternalAbort();
  const bound = setTimeout(
    () => {
      stopReason ??= 'maxDuration';
      stop.abort();
    },
    hardBoundMs(plan, shape),
  );

  const exchangeOpts = (slot: number): ExchangeOptions => ({
    inFlight: inFlightRequests,
    basePath: url.pathname.replace(/\/+$/, ''),
    ...(captureHeaders ? { captureHeaders } : {}),
    discardConnection: () => {
      const old = clients[slot];
      if (old) {
        retired.push(old);
        void old.destroy().catch(() => undefined);
      }
      clients[slot] = newClient();
    },
  });
  const captureHeaders = plan.captureHeaders?.map((h) => h.toLowerCase());

  const total = shape.kind === 'closed' ? shape.requests : shape.arrivals;
  const records: RequestRecord[] = [];
  let errors = 0;
  let inFlight = 0;
  let dropped = 0;
  let runStart = performance.now();
  const progress = (final = false): void => {
    if (!options.onProgress) return;
    const elapsedMs = performance.now() - runStart;
    options.onProgress({
      done: records.length,
      total,
      errors,
      inFlight,
      dropped,
      elapsedMs,
      rate: elapsedMs > 0 ? records.length / (elapsedMs / 1000) : 0,
      final,
    });
  };

  try {
    const warmup = plan.warmup ?? 0;
    if (warmup > 0) {
      // Warm-up requests open the connections; they render as request 0 and are not recorded.
      const req: RenderedVariantRequest = render(0);
      await runClosed(warmup, connections, stop.signal, async (_, slot) => {
        await exchange(clients[slot] as Client, req, -1, exchangeOpts(slot));
      });
    }
    const slotOpts = clients.map((_, slot) => exchangeOpts(slot));
    runStart = performance.now();
    const startedAt = new Date().toISOString();
    const ticker = options.onProgress ? setInterval(() => progress(), options.progressEveryMs ?? 250) : undefined;
    const send = async (i: number, slot: number): Promise<void> => {
      inFlight++;
      const req = render(i + 1);
      const record = await exchange(clients[slot] as Client, req, i, slotOpts[slot] as ExchangeOptions);
      if (req.variant !== undefined) record.tags = { ...record.tags, variant: req.variant };
      inFlight--;
      if (record.status === undefined || record.status >= 400) errors++;
      records.push(record);
    };
    let notStarted = 0;
    try {
      if (shape.kind === 'closed') notStarted = await runClosed(shape.requests, shape.concurrency, stop.signal, send);
      else {
        const open = await runOpen(shape.arrivals, shape.rate, shape.maxInFlight, stop.signal, send);
        dropped = open.dropped;
        notStarted = open.notStarted;
      }
    } finally {
      if (ticker) clearInterval(ticker);
    }
    const durationMs = performance.now() - runStart;
    progress(true);
    records.sort((a, b) => a.index - b.index);
    const summaryOpts = shape.kind === 'open' ? { durationMs, dropped } : { durationMs };
    const result: LoadResult = { engine: 'builtin', startedAt, records, summary: summarize(records, summaryOpts) };
    if (stopReason) result.incomplete = { reason: stopReason, notStarted };
    return result;
  } finally {
    clearTimeout(bound);
    inFlightRequests.close();
    options.signal?.removeEventListener('abort', onExternalAbort);
    await Promise.all([...clients, ...retired].map((c) => c.destroy().catch(() => undefined)));
  }
}
