import { expect, test } from '@playwright/test';
import { spawn } from 'node:child_process';
import { programArgs } from '../helpers/node-program.ts';
import { BASE_ARGS, completion, kvConfig, metricValue, post, scrape, SIM, startSim } from './vllm-sim-helpers.ts';

/** Runs main.ts to its exit; resolves with the exit code and stderr. */
function runToExit(extraArgs: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [...programArgs(SIM), ...BASE_ARGS, '--host', '127.0.0.1', ...extraArgs], {
      env: { ...process.env, VLLM_SIM_STARTUP_MS: '20' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('exit', (code) => resolve({ code, stderr }));
  });
}

test('an unknown connector name is refused as vLLM does: ValueError from the connector factory, engine init fails, exit 1', async () => {
  const r = await runToExit(['--kv-transfer-config', kvConfig({ kv_connector: 'NcclPushConnector', kv_role: 'kv_both' })]);
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/\(EngineCore_DP0 pid=\d+\) ERROR .* ValueError: Unsupported connector type: NcclPushConnector/);
  expect(r.stderr).toContain('RuntimeError: Engine core initialization failed. See root cause above.');
});

test('a bad kv_role is an argument error (exit 2) with vLLM KVTransferConfig text', async () => {
  const r = await runToExit(['--kv-transfer-config', kvConfig({ kv_connector: 'NixlConnector', kv_role: 'producer' })]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("Unsupported kv_role: producer. Supported roles are ('kv_producer', 'kv_consumer', 'kv_both')");
});

test('NixlConnector (approximation): the prefill answers kv_transfer_params, the decode given them counts external tokens', async () => {
  const nixl = kvConfig({ kv_connector: 'NixlConnector', kv_role: 'kv_both' });
  const prefill = await startSim(['--kv-transfer-config', nixl]);
  const decode = await startSim(['--kv-transfer-config', nixl]);
  try {
    const plain = await post(`${decode.url}/v1/completions`, completion());
    expect(((await plain.json()) as Record<string, unknown>)['kv_transfer_params']).toBeNull();
    const p = await post(
      `${prefill.url}/v1/completions`,
      completion({ max_tokens: 1, kv_transfer_params: { do_remote_decode: true, do_remote_prefill: false } }),
    );
    const params = ((await p.json()) as { kv_transfer_params: Record<string, unknown> }).kv_transfer_params;
    expect(params).toMatchObject({ do_remote_prefill: true, do_remote_decode: false, remote_host: '127.0.0.1' });
    const d = await post(`${decode.url}/v1/completions`, completion({ kv_transfer_params: params }));
    expect(d.status).toBe(200);
    await d.text();
    const m = await scrape(decode.url);
    expect(metricValue(m, 'vllm:external_prefix_cache_hits_total')).toBe(1); // 'Hello': 2 tokens, the last one computed
    expect(metricValue(m, 'vllm:external_prefix_cache_queries_total')).toBe(4); // two requests of 2 tokens
  } finally {
    await Promise.all([prefill.stop(), decode.stop()]);
  }
});

test('LMCache, Mooncake, Offloading and MultiConnector configs start and serve (approximations)', async () => {
  const configs = [
    { kv_connector: 'LMCacheConnectorV1', kv_role: 'kv_both' },
    { kv_connector: 'MooncakeConnector', kv_role: 'kv_consumer' },
    { kv_connector: 'OffloadingConnector', kv_role: 'kv_both', kv_connector_extra_config: { num_cpu_blocks: 1000 } },
    {
      kv_connector: 'MultiConnector',
      kv_role: 'kv_both',
      kv_connector_extra_config: { connectors: [{ kv_connector: 'NixlConnector' }, { kv_connector: 'LMCacheConnectorV1' }] },
    },
  ];
  for (const c of configs) {
    const sim = await startSim(['--kv-transfer-config', kvConfig(c)]);
    try {
      const r = await post(`${sim.url}/v1/completions`, completion());
      expect(r.status, c.kv_connector).toBe(200);
      await r.text();
      expect(sim.lines.some((l) => l.includes(`Creating v1 connector with name: ${c.kv_connector}`))).toBe(true);
    } finally {
      await sim.stop();
    }
  }
});
