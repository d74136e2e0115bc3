/** What exists at start: system namespaces, nodes, the built-in CRDs. */
import type { Api } from './api.ts';
import { BUILTIN_CRDS } from './crds.ts';
import type { Obj } from './selectors.ts';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

export interface NodeSpec {
  name: string;
  labels?: Record<string, string>;
}

export const DEFAULT_NODES: NodeSpec[] = [
  { name: 'worker-a', labels: { 'nvidia.com/gpu.product': 'NVIDIA-H100-NVL' } },
  { name: 'worker-b', labels: { 'nvidia.com/gpu.product': 'NVIDIA-H100' } },
];

export function nodeObject(n: NodeSpec, index: number): Obj {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const cond = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: now,
    lastTransitionTime: now,
  });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      labels: { 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', ...(n.labels ?? {}) },
    },
    spec: {},
    status: {
      conditions: [
        cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      addresses: [
        { type: 'InternalIP', address: `127.0.0.${index + 2}` },
        { type: 'Hostname', address: n.name },
      ],
      capacity: { cpu: '64', memory: '512Gi', pods: '250', 'nvidia.com/gpu': '8' },
      allocatable: { cpu: '64', memory: '512Gi', pods: '250', 'nvidia.com/gpu': '8' },
      nodeInfo: {
        kubeletVersion: 'v1.32.0',
        kubeProxyVersion: 'v1.32.0',
        osImage: 'pd-harness twin',
        kernelVersion: process.platform,
        containerRuntimeVersion: 'pd-harness://processes',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}

export function seed(api: Api, nodes: NodeSpec[]): void {
  const nsType = api.type('', 'namespaces');
  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) api.create(nsType, undefined, { metadata: { name: ns } });
  const nodeType = api.type('', 'nodes');
  nodes.forEach((n, i) => api.create(nodeType, undefined, nodeObject(n, i), { keepStatus: true }));
  const crdType = api.type('apiextensions.k8s.io', 'customresourcedefinitions');
  // Built-ins look as if `kubectl apply` had created them, so re-applying the repo's CRDs is quiet
  // and the applied manifest fully replaces the built-in definition.
  for (const crd of BUILTIN_CRDS) {
    const applied = { ...crd, metadata: { ...crd.metadata, annotations: { [LAST_APPLIED]: `${JSON.stringify(crd)}\n` } } };
    api.create(crdType, undefined, applied);
  }
}
