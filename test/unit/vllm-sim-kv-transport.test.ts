import { expect, test } from '@playwright/test';
import * as net from 'node:net';
import { createKvSender, encodeHeader, startKvReceiver } from '../../twin/sims/vllm/kv/p2p.ts';
import type { KvBlock } from '../../twin/sims/vllm/kv/store.ts';
import { until } from '../helpers/until.ts';

/*
 * The P2P stand-in's transport over real loopback sockets. A producer keeps one connection per consumer address and
 * sends every block on it, as P2pNcclEngine keeps one ZMQ DEALER socket and NCCL communicator per remote address
 * (vllm-project/vllm vllm/distributed/kv_transfer/kv_connector/v1/p2p/p2p_nccl_engine.py, `_create_connect`,
 * `self.socks`): a connection per block was neither what vLLM does nor cheap (a connect and a close per request).
 */
async function receiver(frameTimeoutMs?: number) {
  const blocks: KvBlock[] = [];
  const errors: string[] = [];
  const r = await startKvReceiver(
    '127.0.0.1',
    0,
    (b) => blocks.push(b),
    (m) => errors.push(m),
    frameTimeoutMs ? { frameTimeoutMs } : {},
  );
  return { r, blocks, errors };
}

test('blocks to one consumer share one connection, in flight together, each acknowledged', async () => {
  const { r, blocks } = await receiver();
  const sender = createKvSender();
  try {
    const sizes = [0, 1, 70_000, 3, 1 << 20];
    await Promise.all(
      sizes.map((size, i) => sender.send('127.0.0.1', r.port, { requestId: `req-${i}`, promptTokens: i + 1, size }, 10_000)),
    );
    await sender.send('127.0.0.1', r.port, { requestId: 'later', promptTokens: 9, size: 10 }, 10_000);
    expect(blocks.map((b) => [b.requestId, b.promptTokens, b.size])).toEqual([
      ...sizes.map((size, i) => [`req-${i}`, i + 1, size]),
      ['later', 9, 10],
    ]);
    expect(sender.opened).toBe(1);
    expect(r.accepted).toBe(1);
  } finally {
    sender.close();
    await r.close();
  }
});

test('a frame the receiver cannot read is refused with ERR and ends that connection; the next block connects again', async () => {
  const { r, blocks, errors } = await receiver();
  // a peer writing a broken frame on its own connection: ERR, then the receiver closes it
  const raw = net.connect({ host: '127.0.0.1', port: r.port });
  const answer = await new Promise<string>((resolve) => {
    let text = '';
    raw.on('data', (d) => (text += d.toString()));
    raw.on('close', () => resolve(text));
    raw.write(Buffer.concat([encodeHeader({ requestId: 'ok', promptTokens: 1, size: 2 }), Buffer.from('xy')]));
    const bad = Buffer.from('{"requestId":"x","promptTokens":1,"size":-1}');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(bad.length, 0);
    raw.write(Buffer.concat([len, bad]));
  });
  expect(answer).toBe('OK\nERR bad size\n');
  expect(errors).toEqual(['rejected KV block: bad size']);
  expect(blocks.map((b) => b.requestId)).toEqual(['ok']);

  // a consumer that goes away: the sender drops its connection, and the next block connects again (refused here)
  const sender = createKvSender();
  try {
    await sender.send('127.0.0.1', r.port, { requestId: 'a', promptTokens: 1, size: 1 }, 10_000);
    expect(sender.live).toBe(1);
    await r.close();
    await until('the sender sees its connection closed', async () => sender.live === 0 || undefined);
    await expect(sender.send('127.0.0.1', r.port, { requestId: 'b', promptTokens: 1, size: 1 }, 10_000)).rejects.toThrow(/ECONNREFUSED/);
    expect(sender.opened).toBe(2);
    expect(sender.live).toBe(0);
  } finally {
    sender.close();
  }
});

test('an idle connection stays open for the next block; a frame left half-sent is dropped', async () => {
  const { r, blocks } = await receiver(50);
  const sender = createKvSender();
  try {
    await sender.send('127.0.0.1', r.port, { requestId: 'first', promptTokens: 1, size: 8 }, 10_000);
    // idle well past the frame timeout (a timer due at 50 ms fires before one due at 300 ms): still the same connection
    await new Promise((res) => setTimeout(res, 300));
    expect(sender.live).toBe(1);
    await sender.send('127.0.0.1', r.port, { requestId: 'second', promptTokens: 1, size: 8 }, 10_000);
    expect([sender.opened, r.accepted]).toEqual([1, 1]);
    expect(blocks.map((b) => b.requestId)).toEqual(['first', 'second']);

    // a producer that stops in the middle of a frame: the receiver drops that connection once the timeout passes
    const raw = net.connect({ host: '127.0.0.1', port: r.port });
    await new Promise<void>((res) => raw.once('connect', () => res()));
    raw.write(Buffer.concat([encodeHeader({ requestId: 'stalled', promptTokens: 1, size: 10 }), Buffer.from('12345')]));
    await new Promise<void>((res) => raw.once('close', () => res()));
    expect(blocks.map((b) => b.requestId)).toEqual(['first', 'second']);
  } finally {
    sender.close();
    await r.close();
  }
});
