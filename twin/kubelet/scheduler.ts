import type { V1LabelSelector, V1Pod, V1PodAffinityTerm } from '#client-node';

/** A node of the twin: all are served by the one kubelet. */
export interface TwinNode {
  name: string;
  labels: Record<string, string>;
  /** The node's address (status.hostIP of its pods). */
  hostIP: string;
}

export const HOSTNAME_LABEL = 'kubernetes.io/hostname';

/** The seed's two GPU workers; host IPs are PREFIX.0.101, PREFIX.0.102 (never handed to pods). */
export function defaultNodes(ipPrefix: string): TwinNode[] {
  const node = (name: string, gpu: string, i: number): TwinNode => ({
    name,
    hostIP: `${ipPrefix}.0.${101 + i}`,
    labels: {
      [HOSTNAME_LABEL]: name,
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'nvidia.com/gpu.product': gpu,
      'nvidia.com/gpu.present': 'true',
    },
  });
  return [node('worker-a', 'NVIDIA-H100-NVL', 0), node('worker-b', 'NVIDIA-H100', 1)];
}

export function labelSelectorMatches(selector: V1LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector) return false;
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, e.key);
    const value = l[e.key];
    const values = e.values ?? [];
    if (e.operator === 'In' && !(has && values.includes(value!))) return false;
    if (e.operator === 'NotIn' && has && values.includes(value!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

function matchExpressionsOk(
  exprs: readonly { key: string; operator: string; values?: string[] }[] | undefined,
  labels: Record<string, string>,
): boolean {
  for (const e of exprs ?? []) {
    const value = labels[e.key];
    const values = e.values ?? [];
    if (e.operator === 'In' && !(value !== undefined && values.includes(value))) return false;
    if (e.operator === 'NotIn' && value !== undefined && values.includes(value)) return false;
    if (e.operator === 'Exists' && value === undefined) return false;
    if (e.operator === 'DoesNotExist' && value !== undefined) return false;
    if (
      (e.operator === 'Gt' || e.operator === 'Lt') &&
      (value === undefined || !(e.operator === 'Gt' ? Number(value) > Number(values[0]) : Number(value) < Number(values[0])))
    )
      return false;
  }
  return true;
}

function nodeAffinityOk(pod: V1Pod, node: TwinNode): boolean {
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required || required.nodeSelectorTerms.length === 0) return true;
  // Terms are ORed; expressions within a term are ANDed.
  return required.nodeSelectorTerms.some(
    (t) =>
      matchExpressionsOk(t.matchExpressions, node.labels) &&
      matchExpressionsOk(
        t.matchFields?.map((f) => ({ ...f, key: f.key === 'metadata.name' ? '__name' : f.key })),
        { __name: node.name },
      ),
  );
}

/** Pods (already placed) that an affinity term selects, in the namespaces the term covers. */
function termPods(term: V1PodAffinityTerm, pod: V1Pod, placed: readonly V1Pod[]): V1Pod[] {
  const namespaces = term.namespaces && term.namespaces.length > 0 ? term.namespaces : [pod.metadata?.namespace ?? 'default'];
  return placed.filter(
    (p) =>
      p.spec?.nodeName &&
      !p.metadata?.deletionTimestamp &&
      (term.namespaceSelector || namespaces.includes(p.metadata?.namespace ?? 'default')) &&
      labelSelectorMatches(term.labelSelector, p.metadata?.labels),
  );
}

function topologyValue(node: TwinNode, key: string): string | undefined {
  return key === HOSTNAME_LABEL ? node.name : node.labels[key];
}

export type Placement = { ok: true; node: TwinNode } | { ok: false; message: string };

/**
 * Picks a node the way kube-scheduler's filters would for the fields the twin honours:
 * nodeName, nodeSelector, required node affinity, required pod affinity / anti-affinity (any
 * topologyKey that is a node label). Among feasible nodes it spreads: fewest pods first, then name.
 */
export function chooseNode(pod: V1Pod, nodes: readonly TwinNode[], placed: readonly V1Pod[]): Placement {
  const reasons = new Map<string, number>();
  const reject = (why: string) => reasons.set(why, (reasons.get(why) ?? 0) + 1);
  const feasible: TwinNode[] = [];
  const affinity = pod.spec?.affinity;
  for (const node of nodes) {
    if (pod.spec?.nodeName && pod.spec.nodeName !== node.name) {
      reject("node(s) didn't match the requested node name");
      continue;
    }
    const selector = pod.spec?.nodeSelector ?? {};
    if (!Object.entries(selector).every(([k, v]) => node.labels[k] === v) || !nodeAffinityOk(pod, node)) {
      reject("node(s) didn't match Pod's node affinity/selector");
      continue;
    }
    let ok = true;
    for (const term of affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) {
      const matches = termPods(term, pod, placed);
      const here = topologyValue(node, term.topologyKey);
      const selfMatches = labelSelectorMatches(term.labelSelector, pod.metadata?.labels);
      // A pod that matches its own affinity term may go anywhere when no such pod exists yet (as in k8s).
      if (matches.length === 0 && selfMatches) continue;
      const colocated = matches.some((p) => {
        const n = nodes.find((x) => x.name === p.spec?.nodeName);
        return n !== undefined && here !== undefined && topologyValue(n, term.topologyKey) === here;
      });
      if (!colocated) {
        ok = false;
        reject("node(s) didn't match pod affinity rules");
        break;
      }
    }
    if (!ok) continue;
    for (const term of affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) {
      const here = topologyValue(node, term.topologyKey);
      const clash = termPods(term, pod, placed).some((p) => {
        const n = nodes.find((x) => x.name === p.spec?.nodeName);
        return n !== undefined && here !== undefined && topologyValue(n, term.topologyKey) === here;
      });
      if (clash) {
        ok = false;
        reject("node(s) didn't match pod anti-affinity rules");
        break;
      }
    }
    if (ok) feasible.push(node);
  }
  if (feasible.length === 0) {
    const detail = [...reasons].map(([why, n]) => `${n} ${why}`).join(', ');
    return {
      ok: false,
      message: `0/${nodes.length} nodes are available: ${detail}. preemption: 0/${nodes.length} nodes are available: ${nodes.length} Preemption is not helpful for scheduling.`,
    };
  }
  const load = (n: TwinNode) => placed.filter((p) => p.spec?.nodeName === n.name && !isFinished(p)).length;
  feasible.sort((a, b) => load(a) - load(b) || a.name.localeCompare(b.name));
  return { ok: true, node: feasible[0]! };
}

function isFinished(pod: V1Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/**
 * Hands out pod addresses PREFIX.x.y (x 0..254, y 2..254; .0, .1, .255 are never used, nor the
 * nodes' host IPs). Allocation moves round-robin, so a freed address is not handed out again at once
 * (late connections to a deleted pod do not reach its successor).
 */
export class IpAllocator {
  private readonly used = new Map<string, string>(); // ip -> owner
  private readonly byOwner = new Map<string, string>();
  private cursor = 0;
  private static readonly SIZE = 255 * 253;

  constructor(
    readonly prefix: string,
    private readonly reserved: ReadonlySet<string> = new Set(),
  ) {
    if (!/^127\.\d{1,3}$/.test(prefix) || Number(prefix.split('.')[1]) > 255)
      throw new Error(`ipPrefix must look like 127.N, got ${prefix}`);
  }

  private ipAt(i: number): string {
    return `${this.prefix}.${Math.floor(i / 253)}.${(i % 253) + 2}`;
  }

  /** Marks an address as taken (pods found with an IP at start-up). */
  claim(ip: string, owner: string): void {
    this.used.set(ip, owner);
    this.byOwner.set(owner, ip);
  }

  allocate(owner: string): string {
    const existing = this.byOwner.get(owner);
    if (existing) return existing;
    for (let n = 0; n < IpAllocator.SIZE; n++) {
      const ip = this.ipAt(this.cursor);
      this.cursor = (this.cursor + 1) % IpAllocator.SIZE;
      if (this.used.has(ip) || this.reserved.has(ip)) continue;
      this.claim(ip, owner);
      return ip;
    }
    throw new Error(`no free pod address left under ${this.prefix}`);
  }

  release(owner: string): void {
    const ip = this.byOwner.get(owner);
    if (ip === undefined) return;
    this.byOwner.delete(owner);
    this.used.delete(ip);
  }

  ipOf(owner: string): string | undefined {
    return this.byOwner.get(owner);
  }
}
