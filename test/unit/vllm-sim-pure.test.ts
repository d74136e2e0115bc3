import { expect, test } from '@playwright/test';
import { ArgsError, EngineInitError, parseKvTransferConfig, parseVllmArgs } from '../../twin/sims/vllm/args.ts';
import { Faults, parseFaultJson, FaultConfigError } from '../../twin/sims/vllm/faults.ts';
import {
  alignToBlockSize,
  containerPathOnHost,
  lookupFolder,
  resolveMountedPath,
  storeFolder,
  tokenHash,
} from '../../twin/sims/vllm/kv/fs.ts';
import { chatTokenIds, estimateChatTokens, estimateTextTokens, textTokenIds } from '../../twin/sims/vllm/tokens.ts';
import { KvBlockStore } from '../../twin/sims/vllm/kv/store.ts';
import { decodeHeader, encodeHeader } from '../../twin/sims/vllm/kv/p2p.ts';
import { ApiError, parseRequest, responseId } from '../../twin/sims/vllm/openai.ts';
import { parsePdRequestId, splitHostPort } from '../../twin/sims/vllm/request-id.ts';
import { interTokenMs, prefillMs } from '../../twin/sims/vllm/latency.ts';
import { readSettings } from '../../twin/sims/vllm/settings.ts';
import { engineCoreTraceback } from '../../twin/sims/vllm/traceback.ts';
import { createSimMetrics, type SimMetrics } from '../../twin/sims/vllm/metrics.ts';

const MODEL = 'Qwen/Qwen3-Coder-30B-A3B-Instruct';

test.describe('args', () => {
  test('reads the seed container args with --flag=value and the kv config', () => {
    const a = parseVllmArgs([
      'serve',
      MODEL,
      '--port=8000',
      '--tensor-parallel-size=1',
      '--max-model-len=2048',
      '--no-enable-prefix-caching',
      '--no-enable-chunked-prefill',
      '--gpu-memory-utilization=0.90',
      '--kv-transfer-config',
      '{"kv_connector":"P2pNcclConnector","kv_role":"kv_producer","kv_rank":0,"kv_parallel_size":2,"kv_ip":"0.0.0.0","kv_port":14579,"engine_id":"p2p-nccl-same-node"}',
    ]);
    expect(a.model).toBe(MODEL);
    expect(a.port).toBe(8000);
    expect(a.maxModelLen).toBe(2048);
    expect(a.kvTransfer).toMatchObject({ connector: 'P2pNcclConnector', role: 'kv_producer', port: 14579, ip: '0.0.0.0', parallelSize: 2 });
  });

  test('reads --flag value, --model and --served-model-name', () => {
    const a = parseVllmArgs([
      '--model',
      'm1',
      '--port',
      '9000',
      '--max-model-len',
      '512',
      '--served-model-name',
      'alias',
      '--max-num-seqs',
      '4',
    ]);
    expect(a).toMatchObject({ model: 'm1', port: 9000, maxModelLen: 512, servedModelNames: ['alias'], maxNumSeqs: 4 });
  });

  test('FS config maps shared_storage_path; bad configs are clear errors', () => {
    const c = parseKvTransferConfig(
      '{"kv_connector":"ExampleConnector","kv_role":"kv_consumer","kv_connector_extra_config":{"shared_storage_path":"/kv_cache"}}',
    );
    expect(c).toMatchObject({ connector: 'ExampleConnector', role: 'kv_consumer', sharedStoragePath: '/kv_cache' });
    expect(() => parseKvTransferConfig('{nope')).toThrow(ArgsError);
    expect(() => parseKvTransferConfig('{"kv_connector":"Nope","kv_role":"kv_consumer"}')).toThrow(EngineInitError);
    expect(() => parseKvTransferConfig('{"kv_connector":"Nope","kv_role":"kv_consumer"}')).toThrow('Unsupported connector type: Nope');
    expect(() => parseKvTransferConfig('{"kv_connector":"NixlConnector"}')).toThrow(
      "Please specify kv_role when kv_connector is set, supported roles are ('kv_producer', 'kv_consumer', 'kv_both')",
    );
    expect(() => parseKvTransferConfig('{"kv_connector":"NixlConnector","kv_role":"both"}')).toThrow(
      "Unsupported kv_role: both. Supported roles are ('kv_producer', 'kv_consumer', 'kv_both')",
    );
    expect(() => parseVllmArgs(['serve'])).toThrow(/no model/);
    expect(() => parseVllmArgs(['serve', 'm', '--port=abc'])).toThrow(/invalid int/);
  });
});

test.describe('request ids', () => {
  test('parses the P2P and FS forms of facts.md', () => {
    const p2p = parsePdRequestId(
      '___prefill_addr_vllm-prefill-p2p:14579___decode_addr_vllm-decode-p2p:14579_0f3c2a7b9e1d4c5fa6b7c8d9e0f1a2b3',
    );
    expect(p2p).toEqual({
      prefillAddr: 'vllm-prefill-p2p:14579',
      decodeAddr: 'vllm-decode-p2p:14579',
      uuid: '0f3c2a7b9e1d4c5fa6b7c8d9e0f1a2b3',
    });
    expect(splitHostPort(p2p!.decodeAddr)).toEqual({ host: 'vllm-decode-p2p', port: 14579 });
    const fs = parsePdRequestId('___prefill_addr_vllm-prefill-fs___decode_addr_vllm-decode-fs_abcdef0123');
    expect(fs).toEqual({ prefillAddr: 'vllm-prefill-fs', decodeAddr: 'vllm-decode-fs', uuid: 'abcdef0123' });
    expect(splitHostPort(fs!.decodeAddr)).toBeUndefined();
    expect(parsePdRequestId('plain-id')).toBeUndefined();
    expect(splitHostPort('127.0.0.1:41234')).toEqual({ host: '127.0.0.1', port: 41234 });
  });

  test('response ids: cmpl-<X-Request-Id> for completions, chatcmpl-<X-Request-Id> for chat, random otherwise', () => {
    expect(responseId('chat', 'abc', 'r')).toBe('chatcmpl-abc');
    expect(responseId('completion', 'abc', 'r')).toBe('cmpl-abc');
    expect(responseId('chat', undefined, 'r')).toBe('chatcmpl-r');
    expect(responseId('completion', undefined, 'r')).toBe('cmpl-r');
  });
});

test.describe('OpenAI request validation', () => {
  const ctx = { servedModelNames: [MODEL], maxModelLen: 2048, defaultCompletionTokens: 16 };

  test('context length: prompt + max_tokens over max-model-len is vLLM 400', () => {
    const prompt = 'x'.repeat(4 * 2000); // 2000 tokens at 4 chars/token
    let err: unknown;
    try {
      parseRequest('completion', { model: MODEL, prompt, max_tokens: 100 }, ctx);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).body()).toEqual({
      error: {
        message:
          "This model's maximum context length is 2048 tokens. However, you requested 2100 tokens (2000 in the messages, 100 in the completion). Please reduce the length of the messages or completion.",
        type: 'BadRequestError',
        param: null,
        code: 400,
      },
    });
    expect(parseRequest('completion', { model: MODEL, prompt, max_tokens: 48 }, ctx).maxTokens).toBe(48);
  });

  test('model name, max tokens and prompt forms', () => {
    expect(() => parseRequest('chat', { model: 'other', messages: [{ role: 'user', content: 'hi' }] }, ctx)).toThrow(
      'The model `other` does not exist.',
    );
    expect(() => parseRequest('completion', { model: MODEL, prompt: 'x', max_tokens: 0 }, ctx)).toThrow(/max_tokens/);
    expect(() => parseRequest('chat', { model: MODEL, messages: [] }, ctx)).toThrow(/messages/);
    const chat = parseRequest('chat', { messages: [{ role: 'user', content: 'hi' }], max_completion_tokens: 3, max_tokens: 9 }, ctx);
    expect(chat).toMatchObject({ model: MODEL, maxTokens: 3, maxTokensGiven: true, stream: false });
    const batch = parseRequest('completion', { model: MODEL, prompt: ['aaaa', 'aaaaaaaa'] }, ctx);
    expect(batch).toMatchObject({ promptTokens: [1, 2], maxTokens: 16, maxTokensGiven: false });
    expect(
      parseRequest('completion', { model: MODEL, prompt: [1, 2, 3], stream: true, stream_options: { include_usage: true } }, ctx),
    ).toMatchObject({
      promptTokens: [3],
      stream: true,
      includeUsage: true,
    });
  });
});

test.describe('faults', () => {
  test('seeded probability trigger gives the same crash point for the same seed', () => {
    const crashPoints = (seed: number): number[] => {
      const f = new Faults(parseFaultJson(JSON.stringify({ indexError: { probability: 0.1, seed } })));
      const points: number[] = [];
      for (let i = 0; i < 200; i++) {
        const r = f.admitToEngine();
        if (r.crash) points.push(r.counter);
      }
      return points;
    };
    expect(crashPoints(42)).toEqual(crashPoints(42));
    expect(crashPoints(42).length).toBeGreaterThan(0);
    expect(crashPoints(42)).not.toEqual(crashPoints(43));
  });

  test('afterRequests N crashes request N+1; set() resets the counter', () => {
    const f = new Faults(parseFaultJson('{"indexError":{"afterRequests":2}}'));
    expect([f.admitToEngine().crash, f.admitToEngine().crash, f.admitToEngine().crash]).toEqual([false, false, true]);
    f.set({});
    expect(f.admitToEngine()).toEqual({ counter: 1, crash: false });
  });

  test('error rate draws are seeded; invalid configs are rejected', () => {
    const draws = (): string[] => {
      const f = new Faults({ seed: 7, errorRate: { status: 503, rate: 0.5 } });
      return Array.from({ length: 50 }, () => f.forRequest().kind);
    };
    const a = draws();
    expect(a).toEqual(draws());
    expect(a).toContain('error');
    expect(a).toContain('none');
    expect(() => parseFaultJson('{"errorRate":{"status":418,"rate":1}}')).toThrow(FaultConfigError);
    expect(() => parseFaultJson('{"bogus":1}')).toThrow(FaultConfigError);
    expect(new Faults({ hang: true }).forRequest()).toEqual({ kind: 'hang', maxMs: 30_000 });
  });
});

test.describe('kv helpers', () => {
  test('container paths map through PD_TWIN_MOUNTS, longest prefix first', () => {
    const mounts = JSON.stringify({ '/kv_cache': '/host/pod-a/kv', '/kv_cache/deep': '/host/deep', '/etc/cfg': '/host/cfg' });
    expect(resolveMountedPath('/kv_cache', mounts)).toBe('/host/pod-a/kv');
    expect(resolveMountedPath('/kv_cache/x', mounts)).toBe('/host/pod-a/kv/x');
    expect(resolveMountedPath('/kv_cache/deep/y', mounts)).toBe('/host/deep/y');
    expect(resolveMountedPath('/kv_cachex', mounts)).toBe('/kv_cachex');
    expect(resolveMountedPath('/kv_cache', undefined)).toBe('/kv_cache');
    // an unmounted path is the container's own: a private dir per simulator, never the host's path
    expect(containerPathOnHost('/tmp', mounts, '/r/rootfs')).toBe('/r/rootfs/tmp');
    expect(containerPathOnHost('/kv_cache', mounts, '/r/rootfs')).toBe('/host/pod-a/kv');
  });

  test('block store hands a block to a waiter, times out otherwise, and stays bounded', async () => {
    const store = new KvBlockStore(2, 60_000);
    const waiting = store.waitFor('r1', 1000);
    store.put({ requestId: 'r1', promptTokens: 3, size: 9, receivedAt: Date.now() });
    expect((await waiting)?.promptTokens).toBe(3);
    expect(await store.waitFor('r2', 10)).toBeUndefined();
    for (const id of ['a', 'b', 'c']) store.put({ requestId: id, promptTokens: 1, size: 1, receivedAt: Date.now() });
    expect(store.size).toBe(2);
    expect(store.take('a')).toBeUndefined();
    expect(store.take('c')?.requestId).toBe('c');
  });

  test('wire header round-trips and rejects bad sizes', () => {
    const h = encodeHeader({ requestId: 'x', promptTokens: 4, size: 1024 });
    expect(decodeHeader(h.subarray(4))).toEqual({ requestId: 'x', promptTokens: 4, size: 1024 });
    expect(() => decodeHeader(Buffer.from('{"requestId":"x","promptTokens":1,"size":-1}'))).toThrow(/size/);
  });
});

test.describe('connectors the llm-d guides use', () => {
  test('Nixl, LMCache, Mooncake, Offloading and MultiConnector are accepted; Multi inherits its role', () => {
    for (const name of ['NixlConnector', 'LMCacheConnectorV1', 'LMCacheMPConnector', 'MooncakeConnector', 'OffloadingConnector']) {
      expect(parseKvTransferConfig(JSON.stringify({ kv_connector: name, kv_role: 'kv_both' }))).toMatchObject({
        connector: name,
        role: 'kv_both',
      });
    }
    const multi = parseKvTransferConfig(
      JSON.stringify({
        kv_connector: 'MultiConnector',
        kv_role: 'kv_both',
        kv_connector_extra_config: {
          connectors: [{ kv_connector: 'NixlConnector' }, { kv_connector: 'LMCacheConnectorV1', kv_role: 'kv_consumer' }],
        },
      }),
    );
    expect(multi.members?.map((m) => [m.connector, m.role])).toEqual([
      ['NixlConnector', 'kv_both'],
      ['LMCacheConnectorV1', 'kv_consumer'],
    ]);
    expect(() => parseKvTransferConfig('{"kv_connector":"MultiConnector","kv_role":"kv_both"}')).toThrow(/connectors/);
    expect(parseKvTransferConfig('{"kv_connector":"SharedStorageConnector","kv_role":"kv_both"}')).toMatchObject({
      connector: 'ExampleConnector',
      sharedStoragePath: '/tmp',
    });
  });
});

test.describe('ExampleConnector keys', () => {
  test('align_to_block_size is (n - 1) // 16 * 16', () => {
    expect([0, 1, 16, 17, 18, 32, 33, 34].map((n) => alignToBlockSize(n))).toEqual([0, 0, 0, 16, 16, 16, 32, 32]);
  });

  test('prompts of 17 tokens or fewer have no lookup key; longer ones look up their block-aligned prefix', () => {
    const ids = (n: number): number[] => Array.from({ length: n }, (_, i) => 1000 + i);
    expect(lookupFolder('/s', ids(17))).toBeUndefined();
    expect(lookupFolder('/s', ids(18))).toEqual({ folder: `/s/${tokenHash(ids(16))}`, tokens: 16 });
    // stored and looked up under the same key for 18..32 tokens
    expect(storeFolder('/s', ids(30)).folder).toBe(lookupFolder('/s', ids(30))?.folder);
    // 33 tokens: stored under the first 32, looked up under the first 16, so repeating it alone never hits
    expect(storeFolder('/s', ids(33))).toEqual({ folder: `/s/${tokenHash(ids(32))}`, tokens: 32 });
    expect(lookupFolder('/s', ids(33))?.folder).toBe(`/s/${tokenHash(ids(16))}`);
  });

  test('the key is md5 of the ids as little-endian int64', () => {
    expect(tokenHash([])).toBe('d41d8cd98f00b204e9800998ecf8427e');
    expect(tokenHash([1])).toBe('33cdeccccebe80329f1fdbee7f5874cb'); // hashlib.md5(struct.pack('<q', 1))
  });

  test('stand-in token ids: as many as the estimate, equal for equal text, different for different text', () => {
    const text = 'The quick brown fox jumps over the lazy dog';
    expect(textTokenIds(text)).toHaveLength(estimateTextTokens(text));
    expect(textTokenIds(text)).toEqual(textTokenIds(text));
    expect(textTokenIds(text)).not.toEqual(textTokenIds(text.replace('fox', 'cat')));
    const chat = [{ role: 'user', content: text }];
    expect(chatTokenIds(chat)).toHaveLength(estimateChatTokens(chat));
  });
});

test('latency model: TTFT grows with the prompt, a KV hit skips it, scale 0 is instant', () => {
  const s = readSettings({});
  expect(prefillMs(s, 2000, false)).toBeGreaterThan(prefillMs(s, 10, false));
  expect(prefillMs(s, 2000, true)).toBeLessThan(prefillMs(s, 10, false));
  expect(interTokenMs(s, 16)).toBeGreaterThan(interTokenMs(s, 1));
  const zero = readSettings({ VLLM_SIM_LATENCY_SCALE: '0' });
  expect(prefillMs(zero, 2000, false)).toBe(0);
  expect(() => readSettings({ VLLM_SIM_ITL_MS: 'fast' })).toThrow(/VLLM_SIM_ITL_MS/);
});

test('traceback runs from run_engine_core down to the IndexError', () => {
  const tb = engineCoreTraceback();
  expect(tb[0]).toBe('EngineCore encountered a fatal error.');
  expect(tb.at(-1)).toBe('IndexError: index out of range in self');
  expect(tb.find((l) => l.includes('gpu_model_runner.py", line 3333, in execute_model'))).toBeTruthy();
});

test('/metrics text: a repeated scrape with nothing changed serves the same text; any write or gauge input renders anew', async () => {
  const state = { running: 0, waiting: 0, kv: 0 };
  const m = createSimMetrics('m', { running: () => state.running, waiting: () => state.waiting, kvCacheUsage: () => state.kv });
  const fresh = () => createSimMetrics('m', { running: () => state.running, waiting: () => state.waiting, kvCacheUsage: () => state.kv });
  const first = await m.render();
  expect(await m.render()).toBe(first);
  // each kind of write shows at the next scrape, exactly as a metrics object that never cached renders it
  const replay: ((x: SimMetrics) => void)[] = [];
  const steps: [string, (x: SimMetrics) => void][] = [
    ['vllm:time_to_first_token_seconds_count{model_name="m",engine="0"} 1', (x) => x.observeTtft(0.02)],
    ['vllm:inter_token_latency_seconds_count{model_name="m",engine="0"} 1', (x) => x.observeItl(0.03)],
    ['vllm:generation_tokens_total{model_name="m",engine="0"} 8', (x) => x.finish('length', 0.4, 10, 8)],
    ['vllm:kv_transfer_hits_total{model_name="m",engine="0"} 1', (x) => x.kvHit()],
    ['vllm:kv_transfer_misses_total{model_name="m",engine="0"} 1', (x) => x.kvMiss()],
    ['vllm:external_prefix_cache_hits_total{model_name="m",engine="0"} 16', (x) => x.externalPrefixCache(32, 16)],
  ];
  for (const [line, write] of steps) {
    write(m);
    replay.push(write);
    const text = await m.render();
    expect(text).toContain(line);
    const reference = fresh();
    for (const w of replay) w(reference);
    expect(text).toBe(await reference.render());
  }
  for (const [line, change] of [
    ['vllm:num_requests_running{model_name="m",engine="0"} 3', () => (state.running = 3)],
    ['vllm:num_requests_waiting{model_name="m",engine="0"} 2', () => (state.waiting = 2)],
    ['vllm:kv_cache_usage_perc{model_name="m",engine="0"} 0.5', () => (state.kv = 0.5)],
  ] as const) {
    change();
    expect(await m.render()).toContain(line);
  }
});
