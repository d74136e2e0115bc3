/**
 * P2pNcclConnector stand-in: KV blocks over TCP (the twin has no NCCL). One block per connection:
 *   uint32 BE header length | JSON header {requestId, promptTokens, size} | `size` bytes
 * and the receiver answers `OK\n` once it has every byte (`ERR <reason>\n` otherwise).
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
  close(): Promise<void>;
}

/** Listens for blocks; every complete block goes to onBlock. */
export function startKvReceiver(
  host: string,
  port: number,
  onBlock: (b: KvBlock) => void,
  onError: (msg: string) => void,
): Promise<KvReceiver> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.setTimeout(30_000, () => sock.destroy());
    let buf = Buffer.alloc(0);
    let header: KvHeader | undefined;
    let received = 0;
    sock.on('error', () => sock.destroy());
    sock.on('data', (chunk: Buffer) => {
      if (!header) {
        buf = Buffer.concat([buf, chunk]);
        if (buf.length < 4) return;
        const hlen = buf.readUInt32BE(0);
        if (hlen > MAX_HEADER_BYTES) return fail('header too large');
        if (buf.length < 4 + hlen) return;
        try {
          header = decodeHeader(buf.subarray(4, 4 + hlen));
        } catch (e) {
          return fail((e as Error).message);
        }
        received = buf.length - 4 - hlen;
        buf = Buffer.alloc(0);
      } else {
        received += chunk.length;
      }
      if (received >= header.size) {
        const h = header;
        sock.end('OK\n');
        sock.removeAllListeners('data');
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
        close: () =>
          new Promise<void>((res) => {
            for (const s of sockets) s.destroy();
            server.close(() => res());
          }),
      });
    });
  });
}

/** Sends one block; resolves when the receiver acknowledged it, rejects on error or after timeoutMs. */
export function sendKvBlock(host: string, port: number, header: KvHeader, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    let answer = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (err?: Error): void => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve();
    };
    sock.on('error', (e) => done(e));
    sock.on('connect', () => {
      sock.write(encodeHeader(header));
      sock.write(blockBytes(header.requestId, header.size));
    });
    sock.on('data', (d: Buffer) => {
      answer += d.toString('utf8');
      if (!answer.includes('\n')) return;
      if (answer.startsWith('OK')) done();
      else done(new Error(answer.trim() || 'receiver refused the block'));
    });
    sock.on('end', () => {
      if (!answer.includes('\n')) done(new Error('receiver closed the connection'));
    });
  });
}
