import { expect, test } from '@playwright/test';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { completion, kvConfig, metricValue, post, scrape, startSim, type InProcessSim } from './vllm-sim-helpers.ts';

const hex = (): string => randomUUID().replace(/-/g, '');

async function kvCounts(sim: InProcessSim): Promise<{ hits: number; misses: number }> {
  const m = await scrape(sim.url);
  return { hits: metricValue(m, 'vllm:kv_transfer_hits_total') ?? -1, misses: metricValue(m, 'vllm:kv_transfer_misses_total') ?? -1 };
}

/** The seed proxy's two calls: prefill with max_tokens 1, then decode with the same X-Request-Id. */
async function proxyFlow(prefill: InProcessSim, decode: InProcessSim, requestId: string): Promise<Record<string, any>> {
  const p = await post(`${prefill.url}/v1/completions`, completion({ max_tokens: 1 }), { 'X-Request-Id': requestId });
  expect(p.status).toBe(200);
  await p.text();
  const d = await post(`${decode.url}/v1/completions`, completion({ max_tokens: 5 }), { 'X-Request-Id': requestId });
  expect(d.status).toBe(200);
  return (await d.json()) as Record<string, any>;
}

test.describe('P2pNcclConnector (TCP)', () => {
  let prefill: InProcessSim;
  let decode: InProcessSim;
  test.beforeAll(async () => {
    const base = { kv_connector: 'P2pNcclConnector', kv_parallel_size: 2, kv_ip: '127.0.0.1', kv_port: 0 };
    decode = await startSim(['--kv-transfer-config', kvConfig({ ...base, kv_role: 'kv_consumer', kv_rank: 1 })], { VLLM_SIM_KV_WAIT_MS: '300' });
    prefill = await startSim(['--kv-transfer-config', kvConfig({ ...base, kv_role: 'kv_producer', kv_rank: 0 })]);
  });
  test.afterAll(async () => {
    await Promise.all([prefill?.stop(), decode?.stop()]);
  });

  test('each pod reports its kv port in the P2pNcclEngine init line', () => {
    expect(decode.kvPort).toBeGreaterThan(0);
    expect(decode.lines.some((l) => l.includes(`zmq_address:127.0.0.1:${decode.kvPort}`))).toBe(true);
  });

  test('decode finds the block the prefill sent to the decode_addr of the request id: a hit', async () => {
    const before = await kvCounts(decode);
    const id = `___prefill_addr_127.0.0.1:${prefill.kvPort}___decode_addr_127.0.0.1:${decode.kvPort}_${hex()}`;
    const body = await proxyFlow(prefill, decode, id);
    expect(body.id).toBe(`cmpl-${id}`);
    const after = await kvCounts(decode);
    expect(after.hits).toBe(before.hits + 1);
    expect(after.misses).toBe(before.misses);
    expect(decode.stderrLines.some((l) => l.includes(id))).toBe(false);
  });

  test('a decode request whose block never comes recomputes: a miss and a warning naming the request id', async () => {
    const before = await kvCounts(decode);
    const id = `___prefill_addr_127.0.0.1:1___decode_addr_127.0.0.1:${decode.kvPort}_${hex()}`;
    const d = await post(`${decode.url}/v1/completions`, completion(), { 'X-Request-Id': id });
    expect(d.status).toBe(200);
    const after = await kvCounts(decode);
    expect(after.misses).toBe(before.misses + 1);
    expect(after.hits).toBe(before.hits);
    const warn = decode.stderrLines.find((l) => l.includes(`KV transfer miss for request ${id}`));
    expect(warn).toMatch(/^\(EngineCore_DP0 pid=\d+\) WARNING \d\d-\d\d \d\d:\d\d:\d\d \[p2p_nccl_connector\.py:\d+\]/);
  });

  test('a prefill whose decode is unreachable still answers and logs the failed send', async () => {
    const id = `___prefill_addr_127.0.0.1:${prefill.kvPort}___decode_addr_127.0.0.1:1_${hex()}`;
    const p = await post(`${prefill.url}/v1/completions`, completion({ max_tokens: 1 }), { 'X-Request-Id': id });
    expect(p.status).toBe(200);
    expect(prefill.stderrLines.some((l) => l.includes(`failed to send KV block for request ${id}`))).toBe(true);
  });
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
    const cfg = kvConfig({ kv_connector: 'ExampleConnector', kv_role: role, kv_connector_extra_config: { shared_storage_path: '/kv_cache' } });
    const sim = await startSim(['--kv-transfer-config', cfg], { PD_TWIN_MOUNTS: JSON.stringify({ '/kv_cache': hostDir }), VLLM_SIM_KV_WAIT_MS: '200' });
    sims.push(sim);
    return sim;
  };
  test.afterAll(async () => {
    await Promise.all(sims.map((s) => s.stop()));
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  test('a shared volume: decode finds the prefill file and counts a hit', async () => {
    const shared = tmp();
    const prefill = await fsSim('kv_producer', shared);
    const decode = await fsSim('kv_consumer', shared);
    expect(decode.kvStorageDir).toBe(shared);
    const id = `___prefill_addr_vllm-prefill-fs___decode_addr_vllm-decode-fs_${hex()}`;
    await proxyFlow(prefill, decode, id);
    expect(await kvCounts(decode)).toEqual({ hits: 1, misses: 0 });
  });

  test('per-pod emptyDirs (the seed flaw): the file lands in the prefill dir, decode misses and logs it', async () => {
    const prefillDir = tmp();
    const decodeDir = tmp();
    const prefill = await fsSim('kv_producer', prefillDir);
    const decode = await fsSim('kv_consumer', decodeDir);
    const id = `___prefill_addr_vllm-prefill-fs___decode_addr_vllm-decode-fs_${hex()}`;
    const p = await post(`${prefill.url}/v1/completions`, completion({ max_tokens: 1 }), { 'X-Request-Id': id });
    expect(p.status).toBe(200);
    expect(fs.statSync(path.join(prefillDir, id, 'kv.bin')).size).toBeGreaterThan(0);
    const d = await post(`${decode.url}/v1/completions`, completion({ max_tokens: 5 }), { 'X-Request-Id': id });
    expect(d.status).toBe(200);
    expect(await kvCounts(decode)).toEqual({ hits: 0, misses: 1 });
    expect(decode.stderrLines.some((l) => l.includes(`KV transfer miss for request ${id}`) && l.includes('[example_connector.py:'))).toBe(true);
  });
});

test('request-id randomization breaks P2P keys; VLLM_DISABLE_REQUEST_ID_RANDOMIZATION=1 restores hits', async () => {
  const base = { kv_connector: 'P2pNcclConnector', kv_parallel_size: 2, kv_ip: '127.0.0.1', kv_port: 0 };
  const pair = async (env: Record<string, string>): Promise<{ hits: number; misses: number }> => {
    const decode = await startSim(['--kv-transfer-config', kvConfig({ ...base, kv_role: 'kv_consumer', kv_rank: 1 })], { VLLM_SIM_KV_WAIT_MS: '150', ...env });
    const prefill = await startSim(['--kv-transfer-config', kvConfig({ ...base, kv_role: 'kv_producer', kv_rank: 0 })], env);
    try {
      const id = `___prefill_addr_127.0.0.1:${prefill.kvPort}___decode_addr_127.0.0.1:${decode.kvPort}_${hex()}`;
      const body = await proxyFlow(prefill, decode, id);
      expect(body.id).toBe(`cmpl-${id}`);
      return await kvCounts(decode);
    } finally {
      await Promise.all([prefill.stop(), decode.stop()]);
    }
  };
  expect(await pair({ VLLM_SIM_REQUEST_ID_RANDOMIZATION: '1' })).toEqual({ hits: 0, misses: 1 });
  expect(await pair({ VLLM_SIM_REQUEST_ID_RANDOMIZATION: '1', VLLM_DISABLE_REQUEST_ID_RANDOMIZATION: '1' })).toEqual({ hits: 1, misses: 0 });
});
