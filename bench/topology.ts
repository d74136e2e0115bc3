/**
 * Bench-only variants of the seed topology, built from the real manifests as objects (pure):
 * vLLM containers with extra env (zero simulated latency), and the P2P + FS workloads cloned k times
 * under suffixed names for the scale figure.
 */
import type { ManifestObject } from '../cluster/manifests.ts';

/** Every name the seed's P2P and FS workload manifests use for their own objects, labels and env refs. */
export const WORKLOAD_NAMES = [
  'vllm-prefill-p2p',
  'vllm-decode-p2p',
  'vllm-p2p-proxy',
  'vllm-p2p-test',
  'vllm-prefill-fs',
  'vllm-decode-fs',
  'vllm-fs-proxy',
  'vllm-fs-test',
] as const;

const VLLM_IMAGE = /^vllm\/vllm-openai/;

interface Container {
  image?: string;
  env?: { name: string; value?: string }[];
}

function podSpecOf(obj: ManifestObject): { containers?: Container[] } | undefined {
  const o = obj as unknown as { spec?: { containers?: Container[]; template?: { spec?: { containers?: Container[] } } } };
  if (obj.kind === 'Pod') return o.spec;
  if (obj.kind === 'Deployment') return o.spec?.template?.spec;
  return undefined;
}

/** A deep copy with `env` set (added or replaced) on every vLLM container of Pods and Deployments. */
export function withVllmEnv(objects: readonly ManifestObject[], env: Record<string, string>): ManifestObject[] {
  const copy = structuredClone(objects) as ManifestObject[];
  for (const obj of copy) {
    for (const c of podSpecOf(obj)?.containers ?? []) {
      if (!VLLM_IMAGE.test(c.image ?? '')) continue;
      const list = (c.env ??= []);
      for (const [name, value] of Object.entries(env)) {
        const at = list.findIndex((e) => e.name === name);
        if (at >= 0) list[at] = { name, value };
        else list.push({ name, value });
      }
    }
  }
  return copy;
}

const NAME_RE = new RegExp(`(?<![\\w-])(${WORKLOAD_NAMES.join('|')})(?![\\w-])`, 'g');

/** The workload objects renamed with `-suffix`: names, labels, selectors, affinity and env URLs alike. */
export function suffixWorkloads(objects: readonly ManifestObject[], suffix: string): ManifestObject[] {
  return JSON.parse(JSON.stringify(objects).replace(NAME_RE, (name) => `${name}-${suffix}`)) as ManifestObject[];
}

/** True for the objects that make up one P/D pair (pods, their Services, the proxy Deployment + Service). */
export function isWorkload(obj: ManifestObject): boolean {
  return (
    (obj.kind === 'Pod' || obj.kind === 'Service' || obj.kind === 'Deployment') &&
    (WORKLOAD_NAMES as readonly string[]).includes(obj.metadata.name ?? '')
  );
}

/**
 * The seed topology with its P2P + FS workloads `copies` times (copy 1 keeps the seed's names, so the
 * seed's HTTPRoutes still resolve): 2 proxies + 4 model pods per copy. Other objects are kept once.
 */
export function scaledTopology(seed: readonly ManifestObject[], copies: number): ManifestObject[] {
  const workloads = seed.filter((o) => isWorkload(o));
  const lastWorkload = seed.findLastIndex((o) => isWorkload(o));
  const out: ManifestObject[] = [];
  seed.forEach((o, i) => {
    out.push(structuredClone(o));
    // Copies go right after the seed's own workloads, so apply order (CRDs, namespaces first) is kept.
    if (i === lastWorkload) for (let c = 2; c <= copies; c++) out.push(...suffixWorkloads(workloads, String(c)));
  });
  return out;
}

export function countKinds(objects: readonly ManifestObject[]): { proxies: number; modelPods: number } {
  let proxies = 0;
  let modelPods = 0;
  for (const o of objects) {
    if (o.kind === 'Deployment' && (o.metadata.labels as Record<string, string> | undefined)?.['role'] === 'proxy') {
      proxies += (o as unknown as { spec?: { replicas?: number } }).spec?.replicas ?? 1;
    }
    if (o.kind === 'Pod' && VLLM_IMAGE.test(podSpecOf(o)?.containers?.[0]?.image ?? '')) modelPods++;
  }
  return { proxies, modelPods };
}
