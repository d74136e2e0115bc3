/**
 * The KV connector by role: a producer (prefill) hands the block of a finished prefill to the decode named in
 * the request id; a consumer (decode) waits, bounded, for the block of its request. kv_both does both, without
 * waiting when consuming.
 */
import type { KvTransferConfig } from '../args.ts';
import type { Logger } from '../log.ts';
import { parsePdRequestId, splitHostPort } from '../request-id.ts';
import { resolveMountedPath, takeBlockFile, writeBlockFile } from './fs.ts';
import { blockBytes, sendKvBlock, startKvReceiver, type KvReceiver } from './p2p.ts';
import { KvBlockStore } from './store.ts';

export type KvOutcome = 'hit' | 'miss' | 'not-consumer';

export interface KvConnector {
  config: KvTransferConfig;
  /** P2P: the port the receiver is bound to. */
  port?: number;
  /** FS: the host directory blocks are written to / read from. */
  storageDir?: string;
  receive(requestId: string, promptTokens: number, signal: AbortSignal): Promise<KvOutcome>;
  send(requestId: string, promptTokens: number): Promise<void>;
  close(): Promise<void>;
}

export interface ConnectorOptions {
  config: KvTransferConfig;
  /** Where the receiver listens when kv_ip is 0.0.0.0 (the twin's preload rewrites it to POD_IP). */
  listenHost?: string;
  mountsJson?: string;
  waitMs: number;
  sendTimeoutMs: number;
  bytesPerToken: number;
  log: Logger;
  /** A block arrived over the wire (before it is stored): lets faults react to blocks of aborted requests. */
  onBlockArrived?: (requestId: string) => void;
}

export async function createKvConnector(o: ConnectorOptions): Promise<KvConnector> {
  const { config, log } = o;
  const isConsumer = config.role === 'kv_consumer' || config.role === 'kv_both';
  const isProducer = config.role === 'kv_producer' || config.role === 'kv_both';
  const consumeWaitMs = config.role === 'kv_both' ? 0 : o.waitMs;
  const where = config.connector === 'P2pNcclConnector' ? 'p2p_nccl_connector.py:254' : 'example_connector.py:190';

  const miss = (requestId: string, promptTokens: number, why: string): KvOutcome => {
    log.engine(
      'WARNING',
      where,
      `KV transfer miss for request ${requestId}: ${why}; recomputing the prompt (${promptTokens} tokens)`,
    );
    return 'miss';
  };

  if (config.connector === 'P2pNcclConnector') {
    const store = new KvBlockStore();
    const host = config.ip === '0.0.0.0' || config.ip === '::' ? (o.listenHost ?? config.ip) : config.ip;
    const receiver: KvReceiver = await startKvReceiver(
      host,
      config.port,
      (b) => {
        o.onBlockArrived?.(b.requestId);
        store.put(b);
      },
      (msg) => log.engine('WARNING', 'p2p_nccl_engine.py:312', msg),
    );
    return {
      config,
      port: receiver.port,
      async receive(requestId, promptTokens, signal) {
        if (!isConsumer) return 'not-consumer';
        if (!parsePdRequestId(requestId) && consumeWaitMs > 0) {
          return miss(requestId, promptTokens, 'request id names no prefill (expected ___prefill_addr_..___decode_addr_.._uuid)');
        }
        const block = await store.waitFor(requestId, consumeWaitMs, signal);
        if (!block) return signal.aborted ? 'miss' : miss(requestId, promptTokens, `no KV block arrived within ${consumeWaitMs} ms`);
        return 'hit';
      },
      async send(requestId, promptTokens) {
        if (!isProducer) return;
        const pd = parsePdRequestId(requestId);
        const target = pd ? splitHostPort(pd.decodeAddr) : undefined;
        if (!target) {
          log.engine('WARNING', 'p2p_nccl_engine.py:268', `no decode address with a port in request id ${requestId}; KV block not sent`);
          return;
        }
        try {
          await sendKvBlock(target.host, target.port, { requestId, promptTokens, size: promptTokens * o.bytesPerToken }, o.sendTimeoutMs);
        } catch (e) {
          log.engine('WARNING', 'p2p_nccl_engine.py:283', `failed to send KV block for request ${requestId} to ${pd?.decodeAddr}: ${(e as Error).message}`);
        }
      },
      close: () => receiver.close(),
    };
  }

  const storageDir = resolveMountedPath(config.sharedStoragePath ?? '/tmp/kv_cache', o.mountsJson);
  return {
    config,
    storageDir,
    async receive(requestId, promptTokens, signal) {
      if (!isConsumer) return 'not-consumer';
      const size = await takeBlockFile(storageDir, requestId, consumeWaitMs, signal);
      if (size === undefined) {
        if (signal.aborted) return 'miss';
        return miss(requestId, promptTokens, `no KV file under ${config.sharedStoragePath ?? storageDir} within ${consumeWaitMs} ms`);
      }
      return 'hit';
    },
    async send(requestId, promptTokens) {
      if (!isProducer) return;
      try {
        await writeBlockFile(storageDir, requestId, blockBytes(requestId, promptTokens * o.bytesPerToken));
      } catch (e) {
        log.engine('WARNING', 'example_connector.py:152', `failed to write KV block for request ${requestId}: ${(e as Error).message}`);
      }
    },
    close: async () => {},
  };
}
