import { until as untilDone } from '../helpers/until.ts';
import { test, expect } from '@playwright/test';
import { CoreV1Api, type V1Pod } from '#client-node';
import { startApiAndKubelet, type ApiAndKubelet } from '../helpers/api-and-kubelet.ts';

const NS = 'default';
let twin: ApiAndKubelet;
let core: CoreV1Api;

test.beforeAll(async () => {
  twin = await startApiAndKubelet('kubelet-images');
  core = twin.core;
});

test.afterAll(async () => {
  await twin?.stop();
});

const until = <T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 60_000) => untilDone(what, check, timeoutMs, 150);

test('a vllm/vllm-openai pod with the seed args runs the simulator on its pod IP and passes its /health probe', async () => {
  await core.createNamespacedPod({
    namespace: NS,
    body: {
      metadata: { name: 'vllm-prefill', labels: { app: 'vllm-test', role: 'prefill' } },
      spec: {
        nodeSelector: { 'nvidia.com/gpu.product': 'NVIDIA-H100-NVL' },
        containers: [
          {
            name: 'vllm',
            image: 'vllm/vllm-openai:v0.15.0',
            args: [
              'serve',
              'Qwen/Qwen3-Coder-30B-A3B-Instruct',
              '--port=8000',
              '--tensor-parallel-size=1',
              '--max-model-len=2048',
              '--no-enable-prefix-caching',
              '--gpu-memory-utilization=0.90',
            ],
            env: [{ name: 'VLLM_SIM_LATENCY_SCALE', value: '0' }],
            ports: [{ name: 'http', containerPort: 8000 }],
            readinessProbe: { httpGet: { path: '/health', port: 8000 }, periodSeconds: 0.2 } as never,
            startupProbe: { httpGet: { path: '/health', port: 'http' }, periodSeconds: 0.2, failureThreshold: 300 } as never,
          },
        ],
      },
    },
  });
  const pod = await until('vllm Ready', async () => {
    const p: V1Pod = await core.readNamespacedPod({ name: 'vllm-prefill', namespace: NS });
    return p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True' ? p : undefined;
  });
  expect(pod.spec?.nodeName).toBe('worker-a');
  const res = await fetch(`http://${pod.status!.podIP}:8000/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'Qwen/Qwen3-Coder-30B-A3B-Instruct', prompt: 'hello', max_tokens: 3 }),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get('x-pd-twin-pod')).toBe('vllm-prefill');
  const body = (await res.json()) as { usage?: { completion_tokens?: number } };
  expect(body.usage?.completion_tokens).toBe(3);
  const log = await core.readNamespacedPodLog({ name: 'vllm-prefill', namespace: NS });
  expect(log).toContain('Starting vLLM API server');
  // Probes come from the node's address, as in a cluster.
  expect(log).toMatch(new RegExp(`${pod.status!.hostIP!.replace(/\./g, '\\.')}:\\d+ - "GET /health`));
});
