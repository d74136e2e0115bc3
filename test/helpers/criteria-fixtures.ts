// Shared builders for the criteria tests (not a test file: no .test.ts suffix).
import { eppConfigYaml } from '../../twin/operator/render.ts';
import type { LoadResult, RequestRecord } from '../../load/result.ts';
import { summarize } from '../../load/summary.ts';

export const POOL_REF = {
  group: 'inference.networking.k8s.io',
  kind: 'InferencePool',
  name: 'vllm-proxy-performance',
  namespace: 'llm-d-vllm',
  port: 8080,
};

export function httpRoute(
  opts: { name?: string; backendRefs?: unknown[]; conditions?: Record<string, string>; noStatus?: boolean } = {},
): Record<string, unknown> {
  const conditions = Object.entries(opts.conditions ?? { Accepted: 'True', ResolvedRefs: 'True' }).map(([type, status]) => ({
    type,
    status,
    reason: status === 'True' ? type : type === 'ResolvedRefs' ? 'BackendNotFound' : 'NotAllowedByListeners',
  }));
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: opts.name ?? 'llm-d-inference-scheduling', namespace: 'llm-d-inference-scheduler' },
    spec: {
      parentRefs: [{ name: 'infra-inference-scheduling-inference-gateway' }],
      rules: [{ backendRefs: opts.backendRefs ?? [POOL_REF] }],
    },
    ...(opts.noStatus
      ? {}
      : {
          status: { parents: [{ parentRef: { name: 'infra-inference-scheduling-inference-gateway' }, controllerName: 'x', conditions }] },
        }),
  };
}

export function inferencePool(conditions: Record<string, string> = { Accepted: 'True', ResolvedRefs: 'True' }): Record<string, unknown> {
  return {
    apiVersion: 'inference.networking.k8s.io/v1',
    kind: 'InferencePool',
    metadata: { name: 'vllm-proxy-performance', namespace: 'llm-d-vllm' },
    spec: { selector: { matchLabels: { role: 'proxy' } }, targetPorts: [{ number: 8080 }] },
    status: {
      parents: [
        {
          parentRef: { name: 'infra-inference-scheduling-inference-gateway' },
          conditions: Object.entries(conditions).map(([type, status]) => ({ type, status })),
        },
      ],
    },
  };
}

export const CONFIG_PROXY_PERFORMANCE = eppConfigYaml('proxy-performance');

export const CONFIG_BY_BACKEND = eppConfigYaml('proxy-performance-by-backend');

export const START_LINE_PROXY_PERFORMANCE =
  '{"level":"info","ts":1732500000.123,"logger":"scheduler","msg":"Loaded scheduling profile","profile":"default","Filters":[],"Scorers":["active-request-scorer"],"Picker":"max-score-picker"}';
export const START_LINE_BY_BACKEND =
  '{"level":"info","ts":1732500000.123,"logger":"scheduler","msg":"Loaded scheduling profile","profile":"default","Filters":["by-label-selector"],"Scorers":["active-request-scorer"],"Picker":"max-score-picker"}';

export function p2pId(i: number): string {
  return `cmpl-___prefill_addr_vllm-prefill-p2p:14579___decode_addr_vllm-decode-p2p:14579_${i.toString(16).padStart(32, '0')}`;
}
export function fsId(i: number): string {
  return `cmpl-___prefill_addr_vllm-prefill-fs___decode_addr_vllm-decode-fs_${i.toString(16).padStart(32, '0')}`;
}

/** A load result from per-request outcomes. */
export function loadOf(outcomes: Partial<RequestRecord>[]): LoadResult {
  const records: RequestRecord[] = outcomes.map((o, index) => ({
    index,
    startMs: 1_732_500_000_000 + index,
    latencyMs: 20,
    bytes: 100,
    ...o,
  }));
  return { engine: 'builtin', startedAt: new Date(1_732_500_000_000).toISOString(), records, summary: summarize(records) };
}

/** `n` OK responses, the first `p2p` with P2P ids and the rest FS. */
export function okLoad(n: number, p2p: number): LoadResult {
  return loadOf(Array.from({ length: n }, (_, i) => ({ status: 200, responseId: i < p2p ? p2pId(i) : fsId(i) })));
}

export const EXHAUSTED_BODY =
  'inference gateway: InferencePoolResourceExhausted - failed to find target pod: no pods available for the given request';

export function rejectedLoad(n: number): LoadResult {
  return loadOf(Array.from({ length: n }, () => ({ status: 429, errorBody: EXHAUSTED_BODY })));
}

export function decisionLine(endpoint: string, i: number): string {
  return `{"level":"info","ts":1732500001.${i},"msg":"Scoring decision","request_id":"r${i}","model":"Qwen/Qwen3-Coder-30B-A3B-Instruct","prompt_len":12,"picker":"max-score-picker/max-score-picker","selected":["${endpoint}"],"scores":[]}`;
}

export const P2P_EP = 'llm-d-vllm/vllm-p2p-proxy-5d9c7b7f6-x2k4q-rank-0';
export const FS_EP = 'llm-d-vllm/vllm-fs-proxy-7c6b8d9f4-m8z2w-rank-0';

/** EPP log: start line, then p2p picks then fs picks. */
export function eppLog(p2p: number, fs: number, start = START_LINE_PROXY_PERFORMANCE): string[] {
  return [
    start,
    ...Array.from({ length: p2p }, (_, i) => decisionLine(P2P_EP, i)),
    ...Array.from({ length: fs }, (_, i) => decisionLine(FS_EP, p2p + i)),
  ];
}

/** The by-backend profile's log: every request fails in the scheduler. */
export function byBackendLog(n: number): string[] {
  return [
    START_LINE_BY_BACKEND,
    ...Array.from(
      { length: n },
      (_, i) =>
        `{"level":"error","ts":1732500001.${i},"logger":"scheduler","msg":"failed to run scheduler profile","profile":"default","error":"InferencePoolResourceExhausted - failed to find target pod: no pods available for the given request","request_id":"r${i}"}`,
    ),
  ];
}
