import { expect, test } from '@playwright/test';
import {
  backendOfConnector,
  externalPrefixCacheTokens,
  fsReuseFromLog,
  kvConnectorOf,
  loadsKv,
  promCounter,
} from '../../analysis/kv-transfer.ts';
import { evaluateOne } from '../../criteria/index.ts';

test('the kv-transfer-config of a vLLM container: connector, role, backend (both arg forms)', () => {
  const fs = kvConnectorOf([
    'serve',
    'm',
    '--kv-transfer-config',
    '{"kv_connector":"ExampleConnector","kv_role":"kv_consumer","kv_connector_extra_config":{"shared_storage_path":"/kv_cache"}}',
  ]);
  expect(fs).toEqual({ connector: 'ExampleConnector', role: 'kv_consumer', backend: 'fs' });
  expect(loadsKv(fs!)).toBe(true);
  const prefill = kvConnectorOf(['--kv-transfer-config={"kv_connector":"P2pNcclConnector","kv_role":"kv_producer"}']);
  expect(prefill?.backend).toBe('p2p');
  expect(loadsKv(prefill!)).toBe(false);
  expect(kvConnectorOf(['serve', 'm'])).toBeUndefined();
  expect(kvConnectorOf(['--kv-transfer-config', 'not json'])).toBeUndefined();
  expect(backendOfConnector('SharedStorageConnector')).toBe('fs');
  expect(backendOfConnector('NixlConnector')).toBeUndefined();
});

test('FS reuse from a decode log: External Cache Hit! lines per completion access line; no access line, no number', () => {
  const log = [
    'INFO 12-06 06:00:01 [example_connector.py:277] External Cache Hit!',
    'INFO:     127.0.0.9:40412 - "POST /v1/completions HTTP/1.1" 200 OK',
    'INFO:     127.0.0.9:40414 - "POST /v1/chat/completions HTTP/1.1" 200 OK',
    'INFO:     127.0.0.9:40416 - "GET /metrics HTTP/1.1" 200 OK',
    'INFO:     127.0.0.9:40418 - "POST /v1/completions HTTP/1.1" 200 OK',
  ];
  expect(fsReuseFromLog(log)).toEqual({ requests: 3, hits: 1 });
  expect(fsReuseFromLog(['INFO 12-06 06:00:01 [example_connector.py:277] External Cache Hit!'])).toBeUndefined();
});

test('P2P reuse from /metrics: external prefix-cache counters summed over label sets; absent counters give nothing', () => {
  const text = [
    '# HELP vllm:external_prefix_cache_queries_total External prefix cache queries (tokens).',
    '# TYPE vllm:external_prefix_cache_queries_total counter',
    'vllm:external_prefix_cache_queries_total{engine="0",model_name="m"} 200',
    'vllm:external_prefix_cache_queries_total{engine="1",model_name="m"} 100',
    'vllm:external_prefix_cache_queries_created{engine="0",model_name="m"} 1.7e9',
    'vllm:external_prefix_cache_hits_total{engine="0",model_name="m"} 290',
  ].join('\n');
  expect(promCounter(text, 'vllm:external_prefix_cache_queries_total')).toBe(300);
  expect(externalPrefixCacheTokens(text)).toEqual({ requests: 300, hits: 290 });
  expect(externalPrefixCacheTokens('vllm:prompt_tokens_total{engine="0"} 5')).toBeUndefined();
});

test('the kvTransfer verdict names its unit and source', () => {
  const v = evaluateOne(
    { kvTransfer: { backend: 'p2p', minHitRate: 0.9 } },
    {
      httpRoutes: [],
      inferencePools: [],
      kvTransfer: [{ backend: 'p2p', requests: 300, hits: 290, unit: 'tokens', source: 'vllm-decode-p2p /metrics' }],
    },
  );
  expect(v.ok).toBe(true);
  expect(v.summary).toBe(
    'p2p: 290/300 prompt tokens of decode requests were matched in external KV when scheduled (vLLM counts a P2P load then, even if the tensor never comes) (96.7%); from vllm-decode-p2p /metrics',
  );
});
