import { expect, test } from '@playwright/test';
import { isAddress, workloadOf } from '../../analysis/workload.ts';

const cases: [string, string][] = [
  // Deployment pods: namespace, pod-template-hash, pod suffix and rank go.
  ['llm-d-vllm/vllm-p2p-proxy-5d9c7b7f6-x2k4q-rank-0', 'vllm-p2p-proxy'],
  ['llm-d-vllm/vllm-fs-proxy-7c6b8d9f4-m8z2w-rank-0', 'vllm-fs-proxy'],
  ['llm-d-vllm/vllm-fs-proxy-7c6b8d9f4-m8z2w-rank-3', 'vllm-fs-proxy'],
  ['vllm-p2p-proxy-5d9c7b7f6-x2k4q', 'vllm-p2p-proxy'],
  ['llm-d-vllm/vllm-p2p-proxy-6f8d4c7b9-q7n5t', 'vllm-p2p-proxy'],
  // a 10-character hash (large uint32)
  ['ns/gaie-inference-scheduling-epp-59d5c8bf7b-tq9zx', 'gaie-inference-scheduling-epp'],
  // ReplicaSet/Job/DaemonSet pods: only the 5-character suffix.
  ['llm-d-vllm/vllm-p2p-x2k4q', 'vllm-p2p'],
  ['decoder-b7x9q-rank-1', 'decoder'],
  // Bare pods keep their name (p2p and fs are not hashes; vowels never appear in hashes).
  ['vllm-decode-p2p', 'vllm-decode-p2p'],
  ['llm-d-vllm/vllm-prefill-fs', 'vllm-prefill-fs'],
  ['llm-d-vllm/vllm-decode-p2p-rank-0', 'vllm-decode-p2p'],
  ['llm-d-vllm/my-proxy-abcde', 'my-proxy-abcde'],
  ['single', 'single'],
  // A port on a pod name is dropped; addresses stay as they are.
  ['llm-d-vllm/vllm-p2p-proxy-5d9c7b7f6-x2k4q-rank-0:8080', 'vllm-p2p-proxy'],
  ['10.244.1.17:8080', '10.244.1.17:8080'],
  ['127.0.0.9:8080', '127.0.0.9:8080'],
  ['[fd00::7]:8000', '[fd00::7]:8000'],
  ['llm-d-vllm/10.244.1.17:8080', '10.244.1.17:8080'],
];

for (const [endpoint, workload] of cases) {
  test(`workloadOf(${endpoint}) = ${workload}`, () => {
    expect(workloadOf(endpoint)).toBe(workload);
  });
}

test('isAddress tells addresses from pod names', () => {
  expect(isAddress('10.0.0.1:80')).toBe(true);
  expect(isAddress('10.0.0.1')).toBe(true);
  expect(isAddress('llm-d-vllm/vllm-p2p-proxy')).toBe(false);
});
