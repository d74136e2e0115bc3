/**
 * The KV connector of one simulator, by connector and role. The engine asks it twice per request:
 * - `lookup` when the request is scheduled: how many prompt tokens come from outside (a hit), none (a miss:
 *   the prompt is computed locally), or — P2P consumer whose block has not arrived — a promise the engine must
 *   block on, without timeout, as vLLM's worker does in `recv_tensor`;
 * - `save` after the prefill step: send / store the prompt's KV; may return `kv_transfer_params` for the response.
 */
import type { KvTransferConfig } from '../args.ts';
import type { Logger } from '../log.ts';
import { splitHostPort } from '../request-id.ts';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { containerPathOnHost, folderExists, lookupFolder, storeFolder, writeLayerFile } from './fs.ts';
import { createKvSender, startKvReceiver, type KvReceiver } from './p2p.ts';
import { KvBlockStore } from './store.ts';

export interface KvRequest {
  /** The engine's request id (the proxy's X-Request-Id, plus a random suffix when ids are randomized). */
  requestId: string;
  tokenIds: readonly number[];
  /** The request body's `kv_transfer_params` (Nixl-style connectors). */
  kvTransferParams?: Record<string, unknown>;
}

export type KvLookup =
  /** The connector plays no part for this request (producer side, or nothing to load). */
  | { kind: 'none' }
  /** `tokens` prompt tokens were loaded from outside. */
  | { kind: 'hit'; tokens: number }
  /** Nothing found: the prompt is recomputed. */
  | { kind: 'miss' }
  /** P2P consumer: the tensor is not there yet; the engine blocks until `arrived` (which never times out). */
  | { kind: 'wait'; tokens: number; arrived: Promise<void> }
  /** The connector raises in the worker (P2P: request id without host:port): the engine dies. */
  | { kind: 'fatal'; error: string };

/** The connector raised inside the forward pass (P2P producer: request id without `___decode_addr_HOST:PORT`). */
export class KvFatalError extends Error {
  override name = 'KvFatalError';
}

export interface KvConnector {
  config: KvTransferConfig;
  /** P2P: the port the receiver is bound to. */
  port?: number;
  /** FS: the host directory KV is stored in. */
  storageDir?: string;
  lookup(req: KvRequest): Promise<KvLookup>;
  save(req: KvRequest): Promise<Record<string, unknown> | undefined>;
  close(): Promise<void>;
}

export interface ConnectorOptions {
  config: KvTransferConfig;
  /** Where the receiver listens when kv_ip is 0.0.0.0 (the twin's preload rewrites it to POD_IP). */
  listenHost?: string;
  /** This server's address, for Nixl-style kv_transfer_params (remote_host / remote_port). */
  httpHost?: string;
  mountsJson?: string;
  /**
   * The container's own root on the host (PD_TWIN_ROOTFS: the kubelet makes it at each container start and removes
   * it when the process has exited, as a runtime removes a container's writable layer). Unset (the simulator run
   * alone): a private temp dir, removed on close.
   */
  rootfs?: string;
  sendTimeoutMs: number;
  bytesPerToken: number;
  log: Logger;
  /** A block arrived over the wire (before it is stored): lets faults react to blocks of aborted requests. */
  onBlockArrived?: (requestId: string) => void;
}

const isProducer = (c: KvTransferConfig): boolean => c.role === 'kv_producer' || c.role === 'kv_both';

export async function createKvConnector(o: ConnectorOptions): Promise<KvConnector> {
  switch (o.config.connector) {
    case 'P2pNcclConnector':
      return createP2pConnector(o);
    case 'ExampleConnector':
      return createFsConnector(o);
    case 'MultiConnector':
      return createMultiConnector(o);
    case 'NixlConnector':
    case 'MooncakeConnector':
      return createPullConnector(o);
    default:
      return createLocalConnector(o);
  }
}

/**
 * P2pNcclConnector (vllm-project/vllm v0.15.0 vllm/distributed/kv_transfer/kv_connector/v1/p2p/p2p_nccl_connector.py
 * and p2p_nccl_engine.py), over TCP instead of NCCL:
 * - is_producer = kv_role in (kv_producer, kv_both): a producer never loads (get_num_new_matched_tokens → 0) and,
 *   after its prefill, sends the KV to the request id's `___decode_addr_HOST:PORT` (parse_request_id(id, True));
 * - a consumer claims len(prompt) - 1 tokens as external and loads them synchronously in the forward pass:
 *   recv_tensor (PUT_ASYNC) loops on `recv_store_cv.wait()` with no timeout, so a tensor that never comes blocks
 *   the worker, and with it the whole engine, for good (head-of-line blocking, as vllm-project/vllm PR #30794,
 *   Dec 2025, closed unmerged, describes; asynchronous loading came to this connector only after v0.15.0);
 * - parse_request_id raises `ValueError: Request id ... does not contain hostname and port` when the id lacks the
 *   address (consumer: `___prefill_addr_HOST:PORT___`, producer: `___decode_addr_HOST:PORT`), which kills the engine.
 * The tensor key is the engine's request id (+ `#layer`), so randomized ids (a suffix per engine) never match.
 */
async function createP2pConnector(o: ConnectorOptions): Promise<KvConnector> {
  const { config, log } = o;
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
  const producer = isProducer(config);
  const sender = createKvSender();
  return {
    config,
    port: receiver.port,
    async lookup(req) {
      if (producer) return { kind: 'none' };
      const tokens = req.tokenIds.length - 1;
      if (tokens <= 0) return { kind: 'none' };
      if (!/___prefill_addr_(.*):(\d+)___/.test(req.requestId)) {
        return { kind: 'fatal', error: `ValueError: Request id ${req.requestId} does not contain hostname and port` };
      }
      if (store.take(req.requestId)) return { kind: 'hit', tokens };
      log.engine('DEBUG', 'p2p_nccl_engine.py:373', `waiting for KV tensor ${req.requestId}#layers (no timeout)`);
      return { kind: 'wait', tokens, arrived: store.waitFor(req.requestId, Infinity).then(() => undefined) };
    },
    async save(req) {
      if (!producer) return undefined;
      const m = /___decode_addr_(.*):(\d+)/.exec(req.requestId);
      const target = m ? splitHostPort(`${m[1]}:${m[2]}`) : undefined;
      if (!target) throw new KvFatalError(`ValueError: Request id ${req.requestId} does not contain hostname and port`);
      const size = req.tokenIds.length * o.bytesPerToken;
      try {
        await sender.send(target.host, target.port, { requestId: req.requestId, promptTokens: req.tokenIds.length, size }, o.sendTimeoutMs);
      } catch (e) {
        log.engine(
          'WARNING',
          'p2p_nccl_engine.py:283',
          `failed to send KV for request ${req.requestId} to ${target.host}:${target.port}: ${(e as Error).message}`,
        );
      }
      return undefined;
    },
    close: () => {
      sender.close();
      return receiver.close();
    },
  };
}

/** ExampleConnector: see fs.ts. Role-agnostic, as in vLLM: every pod looks up, and stores what it did not find. */
function createFsConnector(o: ConnectorOptions): KvConnector {
  const { config, log } = o;
  const ownRootfs = o.rootfs === undefined;
  const rootfs = o.rootfs ?? fs.mkdtempSync(path.join(os.tmpdir(), 'vllm-sim-rootfs-'));
  const storageDir = containerPathOnHost(config.sharedStoragePath ?? '/tmp', o.mountsJson, rootfs);
  return {
    config,
    storageDir,
    async lookup(req) {
      const want = lookupFolder(storageDir, req.tokenIds);
      if (want && folderExists(want.folder)) {
        log.engine('INFO', 'example_connector.py:277', 'External Cache Hit!');
        return { kind: 'hit', tokens: want.tokens };
      }
      return { kind: 'miss' };
    },
    async save(req) {
      const want = lookupFolder(storageDir, req.tokenIds);
      if (want && folderExists(want.folder)) return undefined; // build_connector_meta: stores only on no match
      const at = storeFolder(storageDir, req.tokenIds);
      try {
        writeLayerFile(at.folder, at.tokens, o.bytesPerToken);
      } catch (e) {
        log.engine('WARNING', 'example_connector.py:259', `failed to save KV of request ${req.requestId}: ${(e as Error).message}`);
      }
      return undefined;
    },
    close: async () => {
      if (ownRootfs) await fs.promises.rm(rootfs, { recursive: true, force: true });
    },
  };
}

/**
 * Approximation of NixlConnector / MooncakeConnector (pull connectors driven by `kv_transfer_params`, nixl_connector.py):
 * a request without kv_transfer_params is computed locally; a prefill asked `do_remote_decode: true` answers with
 * kv_transfer_params naming itself (do_remote_prefill, remote_engine_id, remote_host, remote_port, remote_block_ids);
 * a decode given `do_remote_prefill: true` with a remote_host counts the prompt (minus its last token) as loaded.
 * No bytes move and a dead or wrong remote is not detected (the real connector times out and recomputes).
 */
function createPullConnector(o: ConnectorOptions): KvConnector {
  const { config } = o;
  return {
    config,
    async lookup(req) {
      const p = req.kvTransferParams;
      if (!p || p['do_remote_prefill'] !== true || typeof p['remote_host'] !== 'string') return { kind: 'none' };
      const tokens = req.tokenIds.length - 1;
      return tokens > 0 ? { kind: 'hit', tokens } : { kind: 'none' };
    },
    async save(req) {
      const p = req.kvTransferParams;
      if (!p || p['do_remote_decode'] !== true) return undefined;
      const blocks = Math.ceil(req.tokenIds.length / 16);
      return {
        do_remote_prefill: true,
        do_remote_decode: false,
        remote_block_ids: Array.from({ length: blocks }, (_, i) => i),
        remote_engine_id: config.engineId ?? 'twin-engine',
        remote_host: o.httpHost ?? '127.0.0.1',
        remote_port: config.port,
        tp_size: 1,
      };
    },
    close: async () => {},
  };
}

/**
 * Approximation of LMCacheConnectorV1 / LMCacheMPConnector / OffloadingConnector: caches outside this pod's GPU
 * (CPU, disk, a shared LMCache server) that the twin does not model: every request is computed locally and
 * nothing is reported as loaded from outside.
 */
function createLocalConnector(o: ConnectorOptions): KvConnector {
  return { config: o.config, lookup: async () => ({ kind: 'none' }), save: async () => undefined, close: async () => {} };
}

/**
 * MultiConnector (multi_connector.py): loads from the first member that reports matched tokens; saves through
 * every member.
 */
async function createMultiConnector(o: ConnectorOptions): Promise<KvConnector> {
  const members: KvConnector[] = [];
  for (const m of o.config.members ?? []) members.push(await createKvConnector({ ...o, config: m }));
  return {
    config: o.config,
    port: members.find((m) => m.port !== undefined)?.port,
    storageDir: members.find((m) => m.storageDir !== undefined)?.storageDir,
    async lookup(req) {
      let last: KvLookup = { kind: 'none' };
      for (const m of members) {
        const r = await m.lookup(req);
        if (r.kind !== 'none' && r.kind !== 'miss') return r;
        if (r.kind === 'miss') last = r;
      }
      return last;
    },
    async save(req) {
      let params: Record<string, unknown> | undefined;
      for (const m of members) params = (await m.save(req)) ?? params;
      return params;
    },
    close: async () => {
      await Promise.all(members.map((m) => m.close()));
    },
  };
}
