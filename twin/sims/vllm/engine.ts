/**
 * The engine model: a scheduler with `maxNumSeqs` running slots and a FIFO waiting queue (admission also needs
 * KV room for prompt + max tokens), prefill time from the prompt, tokens produced one step at a time, KV
 * transfer through the connector, and death (the decode IndexError) that fails every request in flight.
 */
import { KvFatalError, type KvConnector, type KvLookup } from './kv/connector.ts';
import { RecentIds } from './kv/store.ts';
import { interTokenMs, prefillMs, sleep, untilOrAbort } from './latency.ts';
import type { Logger } from './log.ts';
import type { Faults } from './faults.ts';
import type { SimMetrics } from './metrics.ts';
import type { SimSettings } from './settings.ts';
import {
  apiServerDeathLines,
  connectorErrorTraceback,
  crashSummaryLine,
  ENGINE_FATAL_WHERE,
  engineCoreTraceback,
  OUTPUT_HANDLER_WHERE,
} from './traceback.ts';
import { tokenText } from './tokens.ts';

export interface EngineRequest {
  requestId: string;
  promptTokens: number;
  /** Stand-in token ids of the prompt (the filesystem connector hashes them). */
  promptTokenIds: readonly number[];
  /** The body's kv_transfer_params (Nixl-style connectors). */
  kvTransferParams?: Record<string, unknown>;
  maxTokens: number;
  /** finish_reason when maxTokens is reached: "length" when the client set max_tokens, else "stop". */
  finishReason: 'length' | 'stop';
}

export interface EngineResult {
  finishReason: 'length' | 'stop';
  promptTokens: number;
  completionTokens: number;
  kv: 'hit' | 'miss' | 'none';
  /** kv_transfer_params for the response (Nixl-style prefill), else undefined. */
  kvTransferParams?: Record<string, unknown>;
}

export class EngineDeadError extends Error {
  override name = 'EngineDeadError';
  constructor() {
    super('EngineCore encountered an issue. See stack trace (above) for the root cause.');
  }
}

export class RequestAbortedError extends Error {
  override name = 'RequestAbortedError';
}

interface Sequence {
  req: EngineRequest;
  ac: AbortController;
  heldTokens: number;
  reserve: number;
  running: boolean;
}

interface QueueEntry {
  seq: Sequence;
  admit: () => void;
  cancel: (e: unknown) => void;
}

export interface EngineDeps {
  settings: SimSettings;
  maxNumSeqs: number;
  faults: Faults;
  log: Logger;
  kv?: KvConnector;
  /** Called once, after the death lines are logged. */
  onDeath?: (cause: string) => void;
}

export class Engine {
  private readonly live = new Set<Sequence>();
  private readonly queue: QueueEntry[] = [];
  private readonly aborted = new RecentIds();
  private runningCount = 0;
  private waitingCount = 0;
  private reservedTokens = 0;
  private dead = false;
  /**
   * P2P consumers blocked in recv_tensor: while any is, the engine takes no step (no token for anyone, no
   * admission), as vLLM's worker is stuck inside the forward pass. Only the tensor's arrival ends it.
   */
  private stallCount = 0;
  private stallGate: Promise<void> = Promise.resolve();
  private releaseStall: () => void = () => {};
  /** Totals for the periodic stats line. */
  promptTokensTotal = 0;
  generationTokensTotal = 0;
  metrics?: SimMetrics;

  constructor(private readonly deps: EngineDeps) {}

  get alive(): boolean {
    return !this.dead;
  }
  running(): number {
    return this.runningCount;
  }
  waiting(): number {
    return this.waitingCount;
  }
  kvCacheUsage(): number {
    let held = 0;
    for (const s of this.live) if (s.running) held += s.heldTokens;
    return Math.min(1, held / this.deps.settings.kvCapacityTokens);
  }
  inFlightIds(): string[] {
    return [...this.live].map((s) => s.req.requestId);
  }
  wasAborted(requestId: string): boolean {
    return this.aborted.has(requestId);
  }
  /** True while a P2P consumer waits for a tensor that has not arrived (the engine takes no step). */
  get stalled(): boolean {
    return this.stallCount > 0;
  }

  /** Runs one request; onToken gets each token as it is produced. Rejects with EngineDeadError or RequestAbortedError. */
  async generate(req: EngineRequest, signal: AbortSignal, onToken: (text: string, index: number) => void): Promise<EngineResult> {
    if (this.dead) throw new EngineDeadError();
    const s = this.deps.settings;
    const seq: Sequence = { req, ac: new AbortController(), heldTokens: 0, reserve: req.promptTokens + req.maxTokens, running: false };
    const onClientAbort = (): void => seq.ac.abort(new RequestAbortedError(`request ${req.requestId} aborted by the client`));
    if (signal.aborted) throw new RequestAbortedError(`request ${req.requestId} aborted by the client`);
    signal.addEventListener('abort', onClientAbort, { once: true });
    this.live.add(seq);
    this.waitingCount++;
    let waiting = true;
    const start = performance.now();
    let generated = 0;
    let kv: EngineResult['kv'] = 'none';
    const { crash, counter } = this.deps.faults.admitToEngine();
    let kvTransferParams: Record<string, unknown> | undefined;
    try {
      await this.acquireSlot(seq);
      waiting = false;
      this.waitingCount--;
      seq.heldTokens = req.promptTokens;
      if (this.deps.kv) {
        const kvReq = { requestId: req.requestId, tokenIds: req.promptTokenIds, kvTransferParams: req.kvTransferParams };
        const found: KvLookup = await this.deps.kv.lookup(kvReq);
        this.throwIfStopped(seq);
        this.metrics?.externalPrefixCache(req.promptTokens, found.kind === 'hit' || found.kind === 'wait' ? found.tokens : 0);
        if (found.kind === 'fatal') {
          this.die(found.error, counter, connectorErrorTraceback(found.error, 'load'));
          throw new EngineDeadError();
        }
        if (found.kind === 'wait') {
          // the tensor is not there yet: the engine blocks until it comes (a hit then, as the transfer did its
          // job), or the request ends first (a miss: the client gave up on a transfer that never came)
          this.stallUntil(found.arrived);
          try {
            await untilOrAbort(found.arrived, seq.ac.signal);
          } catch (err) {
            this.metrics?.kvMiss();
            throw err;
          }
          this.throwIfStopped(seq);
        }
        if (found.kind === 'hit' || found.kind === 'wait') this.metrics?.kvHit();
        if (found.kind === 'miss') this.metrics?.kvMiss();
        kv = found.kind === 'hit' || found.kind === 'wait' ? 'hit' : found.kind === 'miss' ? 'miss' : 'none';
      }
      await this.whileStalled(seq);
      await sleep(prefillMs(s, req.promptTokens, kv === 'hit'), seq.ac.signal);
      this.promptTokensTotal += req.promptTokens;
      if (crash) {
        this.die('IndexError fault', counter);
        throw new EngineDeadError();
      }
      if (this.deps.kv) {
        try {
          kvTransferParams = await this.deps.kv.save({
            requestId: req.requestId,
            tokenIds: req.promptTokenIds,
            kvTransferParams: req.kvTransferParams,
          });
        } catch (e) {
          if (!(e instanceof KvFatalError)) throw e;
          this.die(e.message, counter, connectorErrorTraceback(e.message, 'save'));
          throw new EngineDeadError();
        }
      }
      this.throwIfStopped(seq);
      let last = performance.now();
      this.metrics?.observeTtft((last - start) / 1000);
      for (let i = 0; i < req.maxTokens; i++) {
        if (i > 0) {
          await sleep(interTokenMs(s, this.runningCount), seq.ac.signal);
          await this.whileStalled(seq);
          const now = performance.now();
          this.metrics?.observeItl((now - last) / 1000);
          last = now;
        }
        generated++;
        this.generationTokensTotal++;
        seq.heldTokens++;
        onToken(tokenText(i), i);
      }
      this.metrics?.finish(req.finishReason, (performance.now() - start) / 1000, req.promptTokens, generated);
      return { finishReason: req.finishReason, promptTokens: req.promptTokens, completionTokens: generated, kv, kvTransferParams };
    } catch (e) {
      if (this.dead) throw new EngineDeadError();
      if (seq.ac.signal.aborted) {
        this.aborted.add(req.requestId);
        this.metrics?.finish('abort', (performance.now() - start) / 1000, req.promptTokens, generated);
        throw new RequestAbortedError(`request ${req.requestId} aborted by the client`);
      }
      throw e;
    } finally {
      signal.removeEventListener('abort', onClientAbort);
      if (waiting) this.waitingCount--;
      this.release(seq);
    }
  }

  /**
   * The engine process dies: log vLLM's lines, fail everything in flight, tell the owner. Idempotent.
   * `requestCounter` names the request that crashed it; requests admitted after it (while it was in its prefill
   * step) must not shift the number a replay compares against.
   */
  die(cause: string, requestCounter = this.deps.faults.engineRequestCount, traceback: readonly string[] = engineCoreTraceback()): void {
    if (this.dead) return;
    this.dead = true;
    const inFlight = this.inFlightIds();
    const log = this.deps.log;
    for (const line of traceback) log.engine('ERROR', ENGINE_FATAL_WHERE, line);
    for (const line of apiServerDeathLines()) log.api('ERROR', OUTPUT_HANDLER_WHERE, line);
    log.api('ERROR', 'twin', crashSummaryLine(requestCounter, inFlight, cause));
    for (const seq of this.live) seq.ac.abort(new EngineDeadError());
    for (const q of this.queue.splice(0)) q.cancel(new EngineDeadError());
    this.releaseStall();
    this.deps.onDeath?.(cause);
  }

  /** Aborts every request (shutdown). */
  abortAll(): void {
    for (const seq of this.live) seq.ac.abort(new RequestAbortedError('server shutting down'));
  }

  private throwIfStopped(seq: Sequence): void {
    if (this.dead) throw new EngineDeadError();
    if (seq.ac.signal.aborted) throw seq.ac.signal.reason;
  }

  /** Blocks the engine until `arrived` (never times out; a client abort does not end it). */
  private stallUntil(arrived: Promise<void>): void {
    if (this.stallCount++ === 0) this.stallGate = new Promise<void>((r) => (this.releaseStall = r));
    void arrived.then(() => {
      if (--this.stallCount > 0) return;
      this.releaseStall();
      this.admitFromQueue();
    });
  }

  /** Waits while the engine is stalled (rejects when the sequence is aborted or the engine dies). */
  private async whileStalled(seq: Sequence): Promise<void> {
    while (this.stallCount > 0 && !this.dead) await untilOrAbort(this.stallGate, seq.ac.signal);
    this.throwIfStopped(seq);
  }

  private canAdmit(seq: Sequence): boolean {
    if (this.stallCount > 0) return false;
    if (this.runningCount >= this.deps.maxNumSeqs) return false;
    return this.runningCount === 0 || this.reservedTokens + seq.reserve <= this.deps.settings.kvCapacityTokens;
  }

  private admitNow(seq: Sequence): void {
    seq.running = true;
    this.runningCount++;
    this.reservedTokens += seq.reserve;
  }

  private acquireSlot(seq: Sequence): Promise<void> {
    if (this.queue.length === 0 && this.canAdmit(seq)) {
      this.admitNow(seq);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const signal = seq.ac.signal;
      const onAbort = (): void => {
        const i = this.queue.indexOf(entry);
        if (i >= 0) this.queue.splice(i, 1);
        reject(signal.reason);
      };
      const entry: QueueEntry = {
        seq,
        admit: () => {
          signal.removeEventListener('abort', onAbort);
          this.admitNow(seq);
          resolve();
        },
        cancel: (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      };
      if (signal.aborted) return reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      this.queue.push(entry);
    });
  }

  private release(seq: Sequence): void {
    this.live.delete(seq);
    if (seq.running) {
      seq.running = false;
      this.runningCount--;
      this.reservedTokens -= seq.reserve;
    }
    this.admitFromQueue();
  }

  private admitFromQueue(): void {
    // FIFO: admit from the head while it fits.
    for (let head = this.queue[0]; head && !this.dead && this.canAdmit(head.seq); head = this.queue[0]) {
      this.queue.shift();
      head.admit();
    }
  }
}
