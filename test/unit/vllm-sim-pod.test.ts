import { expect, test } from '@playwright/test';
import { randomInt, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { completion, kvConfig, metricValue, post, scrape, spawnSim, type ChildSim } from './vllm-sim-helpers.ts';

const PRELOAD = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../twin/runtime/preload.mjs')).href;

/** A loopback address away from the twin's 127.0.x.y range, so concurrent tests do not collide. */
const randomLoopback = (): string => `127.${randomInt(100, 200)}.${randomInt(1, 250)}.${randomInt(2, 250)}`;

test('as a twin pod: binds POD_IP from 0.0.0.0, and the prefill reaches the decode by Service name for P2P', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vllm-sim-pod-'));
  const prefillIp = randomLoopback();
  let decodeIp = randomLoopback();
  while (decodeIp === prefillIp) decodeIp = randomLoopback();
  const hostsFile = path.join(dir, 'hosts.json');
  fs.writeFileSync(
    hostsFile,
    JSON.stringify({
      'vllm-decode-p2p.llm-d-vllm.svc.cluster.local': [decodeIp],
      'vllm-prefill-p2p.llm-d-vllm.svc.cluster.local': [prefillIp],
    }),
  );
  const podEnv = (name: string, ip: string): Record<string, string> => ({
    POD_IP: ip,
    POD_NAME: name,
    POD_NAMESPACE: 'llm-d-vllm',
    PD_TWIN_HOSTS_FILE: hostsFile,
  });
  const kv = (role: string, rank: number): string =>
    kvConfig({
      kv_connector: 'P2pNcclConnector',
      kv_role: role,
      kv_rank: rank,
      kv_parallel_size: 2,
      kv_ip: '0.0.0.0',
      kv_port: 0,
      engine_id: 'p2p-nccl-same-node',
    });
  const children: ChildSim[] = [];
  try {
    const spawnPod = async (name: string, ip: string, role: string, rank: number): Promise<ChildSim> => {
      const c = await spawnSim(['--kv-transfer-config', kv(role, rank)], podEnv(name, ip), {
        nodeFlags: ['--import', PRELOAD],
        host: undefined,
        urlHost: ip,
      });
      children.push(c);
      return c;
    };
    const decode = await spawnPod('vllm-decode-p2p', decodeIp, 'kv_consumer', 1);
    const prefill = await spawnPod('vllm-prefill-p2p', prefillIp, 'kv_producer', 0);
    expect(decode.url).toContain(decodeIp);
    expect(decode.stdout()).toContain('Starting vLLM API server 0 on http://0.0.0.0:');
    const kvPort = (c: ChildSim): string => /zmq_address:0\.0\.0\.0:(\d+)/.exec(c.stdout())?.[1] ?? 'none';

    const id = `___prefill_addr_vllm-prefill-p2p:${kvPort(prefill)}___decode_addr_vllm-decode-p2p:${kvPort(decode)}_${randomUUID().replace(/-/g, '')}`;
    const p = await post(`${prefill.url}/v1/completions`, completion({ max_tokens: 1 }), { 'X-Request-Id': id });
    expect(p.status).toBe(200);
    expect(p.headers.get('x-pd-twin-pod')).toBe('vllm-prefill-p2p');
    await p.text();
    const d = await post(`${decode.url}/v1/completions`, completion({ max_tokens: 5 }), { 'X-Request-Id': id });
    expect(((await d.json()) as { id: string }).id).toBe(`cmpl-${id}`);
    const m = await scrape(decode.url);
    expect(metricValue(m, 'vllm:kv_transfer_hits_total')).toBe(1);
    expect(metricValue(m, 'vllm:kv_transfer_misses_total')).toBe(0);
  } finally {
    for (const c of children) c.kill();
    await Promise.all(children.map((c) => c.exited));
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
