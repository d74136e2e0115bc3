import { expect, test } from '@playwright/test';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LAYER_FILE, lookupFolder, writeLayerFile } from '../../twin/sims/vllm/kv/fs.ts';
import { textTokenIds } from '../../twin/sims/vllm/tokens.ts';
import { completion, kvConfig, metricValue, post, scrape, startSim, type InProcessSim } from './vllm-sim-helpers.ts';

const hex = (): string => randomUUID().replace(/-/g, '');
/** ~40 tokens at the twin's 4 characters a token: long enough for ExampleConnector to key it (> 17 tokens). */
const longPrompt = (tag: string): string => `${tag} `.padEnd(160, 'lorem ipsum dolor sit amet ');

async function kvCounts(sim: InProcessSim): Promise<{ hits: number; misses: number }> {
  const m = await scrape(sim.url);
  return { hits: metricValue(m, 'vllm:kv_transfer_hits_total') ?? -1, misses: metricValue(m, 'vllm:kv_transfer_misses_total') ?? -1 };
}

/** The seed proxy's two calls: prefill with max_tokens 1, then decode with the same X-Request-Id. */
async function proxyFlow(prefill: InProcessSim, decode: InProcessSim, requestId: string, prompt = 'Hello'): Promise<Record<string, any>> {
  const p = await post(`${prefill.url}/v1/completions`, completion({ prompt, max_tokens: 1 }), { 'X-Request-Id': requestId });
  expect(p.status).toBe(200);
  await p.text();
  const d = await post(`${decode.url}/v1/completions`, completion({ prompt, max_tokens: 5 }), { 'X-Request-Id': requestId });
  expect(d.status).toBe(200);
  return (await d.json()) as Record<string, any>;
}

/** A call with a client timeout: resolves with the error the client saw (or the status when it answered). */
async function callWithTimeout(url: string, requestId: string, timeoutMs: number): Promise<string> {
  try {
    const r = await post(`${url}/v1/completions`, completion(), { 'X-Request-Id': requestId }, AbortSignal.timeout(timeoutMs));
    await r.text();
    return `status ${r.status}`;
  } catch (e) {
    return (e as Error).name;
  }
}

const P2P = { kv_connector: 'P2pNcclConnector', kv_parallel_size: 2, kv_ip: '127.0.0.1', kv_port: 0 };
const p2pPair = async (env: Record<string, string> = {}): Promise<{ prefill: InProcessSim; decode: InProcessSim }> => ({
  decode: await startSim(['--kv-transfer-config', kvConfig({ ...P2P, kv_role: 'kv_consumer', kv_rank: 1 })], env),
  prefill: await startSim(['--kv-transfer-config', kvConfig({ ...P2P, kv_role: 'kv_producer', kv_rank: 0 })], env),
});

test.describe('P2pNcclConnector (TCP)', () => {
  let prefill: InProcessSim;
  let decode: InProcessSim;
  test.beforeAll(async () => {
    ({ prefill, decode } = await p2pPair());
  });
  test.afterAll(async () => {
    await Promise.all([prefill?.stop(), decode?.stop()]);
  });

  test('each pod reports its kv port in the P2pNcclEngine init line', () => {
    expect(decode.kvPort).toBeGreaterThan(0);
    expect(decode.lines.some((l) => l.includes(`zmq_address:127.0.0.1:${decode.kvPort}`))).toBe(true);
  });

  test('decode finds the tensor the prefill sent to the decode_addr of the request id: a hit, external tokens counted', async () => {
    const before = await kvCounts(decode);
    const id = `___prefill_addr_127.0.0.1:${prefill.kvPort}___decode_addr_127.0.0.1:${decode.kvPort}_${hex()}`;
    const body = await proxyFlow(prefill, decode, id);
    expect(body.id).toBe(`cmpl-${id}`);
    expect(await kvCounts(decode)).toEqual({ hits: before.hits + 1, misses: before.misses });
    const m = await scrape(decode.url);
    // 'Hello' is 2 tokens: the consumer claims len - 1 of them as external (get_num_new_matched_tokens)
    expect(metricValue(m, 'vllm:external_prefix_cache_hits_total')).toBe(1);
    expect(metricValue(m, 'vllm:external_prefix_cache_queries_total')).toBe(2);
  });

  test('a prefill whose decode is unreachable still answers and logs the failed send', async () => {
    const id = `___prefill_addr_127.0.0.1:${prefill.kvPort}___decode_addr_127.0.0.1:1_${hex()}`;
    const p = await post(`${prefill.url}/v1/completions`, completion({ max_tokens: 1 }), { 'X-Request-Id': id });
    expect(p.status).toBe(200);
    expect(prefill.stderrLines.some((l) => l.includes(`failed to send KV for request ${id}`))).toBe(true);
  });
});

test('saves of one key all succeed and leave the one file, as the real connector writes in place (every prompt of <= 16 tokens shares the empty key)', () => {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'kv-same-key-'));
  try {
    // synchronous, as save_file is in the engine's thread: saves of one key cannot interleave inside a pod
    const files = Array.from({ length: 24 }, () => writeLayerFile(folder, 16, 8));
    expect(new Set(files)).toEqual(new Set([path.join(folder, LAYER_FILE)]));
    expect(fs.readdirSync(folder)).toEqual([LAYER_FILE]);
    // u64 header length | JSON header | 16 tokens x 8 bytes
    const bytes = fs.readFileSync(path.join(folder, LAYER_FILE));
    const headerLength = Number(bytes.readBigUInt64LE(0));
    expect(JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'))).toEqual({
      kv_cache: { dtype: 'U8', shape: [128], data_offsets: [0, 128] },
    });
    expect(bytes.length).toBe(8 + headerLength + 128);
    // rewritten in place: a longer save, then a shorter one, leave exactly the last one's bytes
    writeLayerFile(folder, 32, 8);
    writeLayerFile(folder, 16, 8);
    expect(fs.readFileSync(path.join(folder, LAYER_FILE))).toEqual(bytes);
    // a volume cleared meanwhile: the next save makes the folder again
    fs.rmSync(folder, { recursive: true, force: true });
    writeLayerFile(folder, 16, 8);
    expect(fs.readdirSync(folder)).toEqual([LAYER_FILE]);
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
});

test('a missed P2P transfer hangs the decode until the client gives up; the engine stays blocked until the tensor comes', async () => {
  const { prefill, decode } = await p2pPair();
  try {
    // The prefill never ran for this id: recv_tensor waits with no timeout.
    const lost = `___prefill_addr_127.0.0.1:${prefill.kvPort}___decode_addr_127.0.0.1:${decode.kvPort}_${hex()}`;
    expect(await callWithTimeout(decode.url, lost, 800)).toBe('TimeoutError');
    expect(await kvCounts(decode)).toEqual({ hits: 0, misses: 1 });
    // The whole engine is blocked: a request whose tensor is there also waits, and /health still says 200.
    const next = `___prefill_addr_127.0.0.1:${prefill.kvPort}___decode_addr_127.0.0.1:${decode.kvPort}_${hex()}`;
    const p = await post(`${prefill.url}/v1/completions`, completion({ max_tokens: 1 }), { 'X-Request-Id': next });
    expect(p.status).toBe(200);
    expect(await callWithTimeout(decode.url, next, 800)).toBe('TimeoutError');
    expect((await fetch(`${decode.url}/health`)).status).toBe(200);
    // The lost tensor finally arrives (its prefill runs late): the engine steps again.
    const late = await post(`${prefill.url}/v1/completions`, completion({ max_tokens: 1 }), { 'X-Request-Id': lost });
    expect(late.status).toBe(200);
    const again = `___prefill_addr_127.0.0.1:${prefill.kvPort}___decode_addr_127.0.0.1:${decode.kvPort}_${hex()}`;
    const body = await proxyFlow(prefill, decode, again);
    expect(body.id).toBe(`cmpl-${again}`);
  } finally {
    await Promise.all([prefill.stop(), decode.stop()]);
  }
});

test('a P2P pod given a request id without the peer address dies with the connector ValueError (decode and prefill)', async () => {
  for (const [role, rank] of [
    ['kv_consumer', 1],
    ['kv_producer', 0],
  ] as const) {
    const sim = await startSim(['--kv-transfer-config', kvConfig({ ...P2P, kv_role: role, kv_rank: rank })]);
    try {
      const r = await post(`${sim.url}/v1/completions`, completion());
      expect(r.status, role).toBe(500);
      expect(await sim.died).toMatch(/^ValueError: Request id cmpl-[0-9a-f]+ does not contain hostname and port$/);
      const frame = role === 'kv_consumer' ? 'in start_load_kv' : 'in save_kv_layer';
      expect(
        sim.stderrLines.some((l) => l.includes('p2p_nccl_connector.py') && l.includes(frame)),
        role,
      ).toBe(true);
      expect((await fetch(`${sim.url}/health`)).status).toBe(503);
    } finally {
      await sim.stop();
    }
  }
});

test('request-id randomization: the decode waits for a key the prefill never uses; VLLM_DISABLE_REQUEST_ID_RANDOMIZATION=1 restores hits', async () => {
  // The timeout only ends a wait that never ends; a request that can answer gets a generous one.
  const run = async (env: Record<string, string>, timeoutMs: number): Promise<string> => {
    const { prefill, decode } = await p2pPair(env);
    try {
      const id = `___prefill_addr_127.0.0.1:${prefill.kvPort}___decode_addr_127.0.0.1:${decode.kvPort}_${hex()}`;
      const p = await post(`${prefill.url}/v1/completions`, completion({ max_tokens: 1 }), { 'X-Request-Id': id });
      expect(p.status).toBe(200);
      return await callWithTimeout(decode.url, id, timeoutMs);
    } finally {
      await Promise.all([prefill.stop(), decode.stop()]);
    }
  };
  expect(await run({ VLLM_SIM_REQUEST_ID_RANDOMIZATION: '1' }, 800)).toBe('TimeoutError');
  expect(await run({ VLLM_SIM_REQUEST_ID_RANDOMIZATION: '1', VLLM_DISABLE_REQUEST_ID_RANDOMIZATION: '1' }, 30_000)).toBe('status 200');
});

test.describe('ExampleConnector (files under /kv_cache through PD_TWIN_MOUNTS)', () => {
  const dirs: string[] = [];
  const sims: InProcessSim[] = [];
  const tmp = (): string => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vllm-sim-kv-'));
    dirs.push(d);
    return d;
  };
  const fsSim = async (role: string, hostDir: string): Promise<InProcessSim> => {
    const cfg = kvConfig({
      kv_connector: 'ExampleConnector',
      kv_role: role,
      kv_connector_extra_config: { shared_storage_path: '/kv_cache' },
    });
    const sim = await startSim(['--kv-transfer-config', cfg], { PD_TWIN_MOUNTS: JSON.stringify({ '/kv_cache': hostDir }) });
    sims.push(sim);
    return sim;
  };
  const fsId = (): string => `___prefill_addr_vllm-prefill-fs___decode_addr_vllm-decode-fs_${hex()}`;
  test.afterAll(async () => {
    await Promise.all(sims.map((s) => s.stop()));
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  test('a shared volume: decode finds what the prefill stored under the prompt-token hash', async () => {
    const shared = tmp();
    const prefill = await fsSim('kv_producer', shared);
    const decode = await fsSim('kv_consumer', shared);
    expect(decode.kvStorageDir).toBe(shared);
    const prompt = longPrompt('shared');
    await proxyFlow(prefill, decode, fsId(), prompt);
    expect(await kvCounts(decode)).toEqual({ hits: 1, misses: 0 });
    const key = lookupFolder(shared, textTokenIds(prompt));
    expect(key).toBeDefined();
    expect(fs.statSync(path.join(key!.folder, LAYER_FILE)).size).toBeGreaterThan(0);
  });

  test('short prompts (17 tokens or fewer) never hit, even on a shared volume and repeated', async () => {
    const shared = tmp();
    const prefill = await fsSim('kv_producer', shared);
    const decode = await fsSim('kv_consumer', shared);
    for (let i = 0; i < 2; i++) await proxyFlow(prefill, decode, fsId(), 'Hello');
    expect(await kvCounts(decode)).toEqual({ hits: 0, misses: 2 });
  });

  test('per-pod emptyDirs (the seed flaw): decode never sees the prefill files, but a repeated prompt hits its own', async () => {
    const prefillDir = tmp();
    const decodeDir = tmp();
    const prefill = await fsSim('kv_producer', prefillDir);
    const decode = await fsSim('kv_consumer', decodeDir);
    const prompt = longPrompt('emptydir');
    await proxyFlow(prefill, decode, fsId(), prompt);
    expect(await kvCounts(decode)).toEqual({ hits: 0, misses: 1 });
    const key = lookupFolder('', textTokenIds(prompt))!.folder;
    expect(fs.existsSync(path.join(prefillDir, key))).toBe(true);
    // ExampleConnector ignores kv_role: the decode stored the prompt it computed, under the same key
    expect(fs.existsSync(path.join(decodeDir, key))).toBe(true);
    // the same prompt again, straight to the decode with a new request id and no prefill: a hit
    const d = await post(`${decode.url}/v1/completions`, completion({ prompt, max_tokens: 5 }), { 'X-Request-Id': fsId() });
    expect(d.status).toBe(200);
    expect(await kvCounts(decode)).toEqual({ hits: 1, misses: 1 });
    const m = await scrape(decode.url);
    expect(metricValue(m, 'vllm:external_prefix_cache_hits_total')).toBe(lookupFolder('', textTokenIds(prompt))!.tokens);
  });
});

test("ExampleConnector without shared_storage_path stores under the pod's own /tmp (a private dir), removed on stop", async () => {
  const sim = await startSim(['--kv-transfer-config', kvConfig({ kv_connector: 'ExampleConnector', kv_role: 'kv_both' })]);
  const dir = sim.kvStorageDir!;
  try {
    expect(dir).not.toBe('/tmp');
    expect(dir.endsWith(`${path.sep}tmp`)).toBe(true);
    const prompt = longPrompt('default-path');
    for (let i = 0; i < 2; i++) {
      const r = await post(`${sim.url}/v1/completions`, completion({ prompt }));
      expect(r.status).toBe(200);
      await r.text();
    }
    expect(await kvCounts(sim)).toEqual({ hits: 1, misses: 1 });
    expect(fs.existsSync(lookupFolder(dir, textTokenIds(prompt))!.folder)).toBe(true);
  } finally {
    await sim.stop();
  }
  expect(fs.existsSync(dir)).toBe(false);
});

test("in a twin pod, the container's root is the kubelet's (PD_TWIN_ROOTFS): /tmp maps under it and the simulator leaves it to the runtime", async () => {
  const rootfs = fs.mkdtempSync(path.join(os.tmpdir(), 'pdh-rootfs-'));
  try {
    const sim = await startSim(['--kv-transfer-config', kvConfig({ kv_connector: 'ExampleConnector', kv_role: 'kv_both' })], {
      PD_TWIN_ROOTFS: rootfs,
    });
    expect(sim.kvStorageDir).toBe(path.join(rootfs, 'tmp'));
    await sim.stop();
    expect(fs.existsSync(rootfs), 'the runtime removes it when the process has exited (supervisor.ts)').toBe(true);
  } finally {
    fs.rmSync(rootfs, { recursive: true, force: true });
  }
});
