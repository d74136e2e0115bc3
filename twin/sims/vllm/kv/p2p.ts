/**
 * P2pNcclConnector stand-in: KV blocks over TCP (the twin has no NCCL). A producer keeps one connection per
 * consumer address and sends every block on it, as P2pNcclEngine keeps one ZMQ DEALER socket (and one NCCL
 * communicator) per remote address (`self.socks` / `self.comms`, `_create_connect`; vllm-project/vllm
 * vllm/distributed/kv_transfer/kv_connector/v1/p2p/p2p_nccl_engine.py). Each block is a frame:
 *   uint32 BE header length | JSON header {requestId, promptTokens, size} | `size` bytes
 * and the receiver answers `OK\n` once it has every byte of it, in order (`ERR <reason>\n` for a frame it cannot
 * read, and it closes that connection: the framing is lost).
 */
import * as net from 'node:net';
import type { KvBlock } from './store.ts';

export const MAX_HEADER_BYTES = 64 * 1024;
export const MAX_BLOCK_BYTES = 256 * 1024 * 1024;

export interface KvHeader {
  requestId: string;
  promptTokens: number;
  size: number;
}

export function encodeHeader(h: KvHeader): Buffer {
  const json = Buffer.from(JSON.stringify(h), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(json.length, 0);
  return Buffer.concat([len, json]);
}

export function decodeHeader(json: Buffer): KvHeader {
  const o = JSON.parse(json.toString('utf8')) as Partial<KvHeader>;
  if (typeof o.requestId !== 'string' || !o.requestId) throw new Error('header without requestId');
  if (!Number.isInteger(o.size) || (o.size ?? -1) < 0 || (o.size ?? 0) > MAX_BLOCK_BYTES) throw new Error('bad size');
  if (!Number.isInteger(o.promptTokens) || (o.promptTokens ?? -1) < 0) throw new Error('bad promptTokens');
  return { requestId: o.requestId, promptTokens: o.promptTokens as number, size: o.size as number };
}

/** Deterministic block content derived from the request id (so a reader could check it). */
export function blockBytes(requestId: string, size: number): Buffer {
  let h = 2166136261;
  for (let i = 0; i < requestId.length; i++) h = Math.imul(h ^ requestId.charCodeAt(i), 16777619);
  return Buffer.alloc(size, h & 0xff);
}

export interface KvReceiver {
  port: number;
  /** Connections accepted so far (a producer reuses one per consumer). */
  readonly accepted: number;
  close(): Promise<void>;
}

/** How long a receiver waits for the rest of a frame it has begun to read before it drops the connection. */
export const FRAME_TIMEOUT_MS = 30_000;

/**
 * Listens for blocks; every complete block goes to onBlock. A connection carries any number of blocks and stays
 * open while idle, as a ZMQ connection does; only a frame left half-sent for `frameTimeoutMs` drops it.
 */
export function startKvReceiver(
  host: string,
  port: number,
  onBlock: (b: KvBlock) => void,
  onError: (msg: string) => void,
  opts: { frameTimeoutMs?: number } = {},
): Promise<KvReceiver> {
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  const server = net.createServer((sock) => {
    accepted++;
    sockets.add(sock);
    // acknowledgements are tiny writes on a long-lived connection: without this, Nagle holds one back until the
    // previous one is ACKed, and the sender's delayed ACK makes that up to 40 ms
    sock.setNoDelay(true);
    sock.on('close', () => sockets.delete(sock));
    let buf: Buffer = Buffer.alloc(0);
    let header: KvHeader | undefined;
    let received = 0;
    // an idle connection is the producer's to keep (dropping it could cut a block sent at that moment); a frame
    // begun and not finished is a stalled producer
    sock.setTimeout(opts.frameTimeoutMs ?? FRAME_TIMEOUT_MS, () => {
      if (header !== undefined || buf.length > 0) sock.destroy();
    });
    sock.on('error', () => sock.destroy());
    sock.on('data', (chunk: Buffer) => {
      let rest: Buffer = chunk;
      while (rest.length) {
        if (!header) {
          buf = buf.length ? Buffer.concat([buf, rest]) : rest;
          rest = Buffer.alloc(0);
          if (buf.length < 4) return;
          const hlen = buf.readUInt32BE(0);
          if (hlen > MAX_HEADER_BYTES) return fail('header too large');
          if (buf.length < 4 + hlen) return;
          try {
            header = decodeHeader(buf.subarray(4, 4 + hlen));
          } catch (e) {
            return fail((e as Error).message);
          }
          rest = buf.subarray(4 + hlen);
          buf = Buffer.alloc(0);
          received = 0;
          if (header.size > 0 && !rest.length) return;
        }
        const take = Math.min(header.size - received, rest.length);
        received += take;
        rest = rest.subarray(take);
        if (received < header.size) return;
        const h = header;
        header = undefined;
        sock.write('OK\n');
        onBlock({ requestId: h.requestId, promptTokens: h.promptTokens, size: h.size, receivedAt: Date.now() });
      }
    });
    function fail(reason: string): void {
      onError(`rejected KV block: ${reason}`);
      sock.end(`ERR ${reason}\n`);
      sock.removeAllListeners('data');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      resolve({
        port: typeof addr === 'object' && addr ? addr.port : port,
        get accepted() {
          return accepted;
        },
        close: () =>
          new Promise<void>((res) => {
            for (const s of sockets) s.destroy();
            server.close(() => res());
          }),
      });
    });
  });
}

/** A producer's side: one connection per consumer address, reused for every block (P2pNcclEngine `self.socks`). */
export interface KvSender {
  /** Sends one block; resolves when the receiver acknowledged it, rejects on error or after timeoutMs. */
  send(host: string, port: number, header: KvHeader, timeoutMs: number): Promise<void>;
  /** Connections opened so far. */
  readonly opened: number;
  /** Connections open now. */
  readonly live: number;
  close(): void;
}

interface PeerConnection {
  sock: net.Socket;
  /** Blocks sent and not acknowledged yet, in the order they were sent (the receiver answers in that order). */
  waiting: { resolve: () => void; reject: (err: Error) => void; timer: NodeJS.Timeout }[];
  answer: string;
}

export function createKvSender(): KvSender {
  const peers = new Map<string, PeerConnection>();
  let opened = 0;
  const drop = (key: string, peer: PeerConnection, err: Error): void => {
    if (peers.get(key) === peer) peers.delete(key);
    peer.sock.destroy();
    for (const w of peer.waiting.splice(0)) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  };
  const connect = (host: string, port: number, key: string): PeerConnection => {
    opened++;
    const peer: PeerConnection = { sock: net.connect({ host, port }), waiting: [], answer: '' };
    peer.sock.setNoDelay(true);
    peer.sock.on('error', (e) => drop(key, peer, e));
    peer.sock.on('close', () => drop(key, peer, new Error('receiver closed the connection')));
    peer.sock.on('data', (d: Buffer) => {
      peer.answer += d.toString('utf8');
      for (let nl = peer.answer.indexOf('\n'); nl >= 0; nl = peer.answer.indexOf('\n')) {
        const line = peer.answer.slice(0, nl).trim();
        peer.answer = peer.answer.slice(nl + 1);
        const w = peer.waiting.shift();
        if (!w) continue;
        clearTimeout(w.timer);
        if (line.startsWith('OK')) w.resolve();
        else w.reject(new Error(line || 'receiver refused the block'));
      }
    });
    peers.set(key, peer);
    return peer;
  };
  return {
    send(host, port, header, timeoutMs) {
      const key = `${host}:${port}`;
      const peer = peers.get(key) ?? connect(host, port, key);
      return new Promise<void>((resolve, reject) => {
        // a block not acknowledged in time: the connection is given up (what follows on it is unknown)
        const timer = setTimeout(() => drop(key, peer, new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
        peer.waiting.push({ resolve, reject, timer });
        peer.sock.write(encodeHeader(header));
        peer.sock.write(blockBytes(header.requestId, header.size));
      });
    },
    get opened() {
      return opened;
    },
    get live() {
      return peers.size;
    },
    close() {
      for (const [key, peer] of [...peers]) drop(key, peer, new Error('sender closed'));
    },
  };
}

/** Sends one block on a connection of its own (a one-off sender); resolves when the receiver acknowledged it. */
export async function sendKvBlock(host: string, port: number, header: KvHeader, timeoutMs: number): Promise<void> {
  const sender = createKvSender();
  try {
    await sender.send(host, port, header, timeoutMs);
  } finally {
    sender.close();
  }
}
