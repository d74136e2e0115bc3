import { expect, test } from '@playwright/test';
import { countByPrefill, prefillServiceOf } from '../../criteria/response-ids.ts';
import type { RequestRecord } from '../../load/result.ts';

test('chatcmpl- ids name the prefill service like cmpl- ids', () => {
  const uuid = '0f3c2a7b9e1d4c5fa6b7c8d9e0f1a2b3';
  const chat = `chatcmpl-___prefill_addr_vllm-prefill-p2p:14579___decode_addr_vllm-decode-p2p:14579_${uuid}`;
  const fsChat = `chatcmpl-___prefill_addr_vllm-prefill-fs___decode_addr_vllm-decode-fs_${uuid}`;
  expect(prefillServiceOf(chat)).toBe('vllm-prefill-p2p');
  expect(prefillServiceOf(fsChat)).toBe('vllm-prefill-fs');
  expect(prefillServiceOf(`chatcmpl-${uuid}`)).toBeUndefined();
  const records = [
    { status: 200, responseId: chat },
    { status: 200, responseId: fsChat },
    { status: 200, responseId: `cmpl-___prefill_addr_vllm-prefill-fs___decode_addr_vllm-decode-fs_${uuid}` },
    { status: 200, responseId: `chatcmpl-${uuid}` },
  ] as unknown as RequestRecord[];
  expect(countByPrefill(records)).toEqual({ byPrefill: { 'vllm-prefill-p2p': 1, 'vllm-prefill-fs': 2 }, withoutId: 1 });
});
