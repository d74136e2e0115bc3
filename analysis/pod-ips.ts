/**
 * Which pod held an IP address when: the map from the stock EPP's `"endpoint":"IP:port"` to pods and
 * workloads. Built from a pod list (`kubectl get pods -A -o json`) or from a pod watch during a run, so a
 * pod replaced by chaos keeps its old address → old pod mapping for the lines logged while it ran.
 */
import { hostOf } from './request-handled.ts';
import { workloadOf } from './workload.ts';

export interface PodIpSpan {
  ip: string;
  /** `namespace/name` */
  pod: string;
  workload: string;
  /** Epoch seconds the pod held the IP from / until (open when unknown). */
  from?: number;
  to?: number;
}

export interface PodRef {
  pod: string;
  workload: string;
}

interface PodLike {
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    ownerReferences?: { kind?: string; name?: string; controller?: boolean }[];
    creationTimestamp?: string;
    deletionTimestamp?: string;
  };
  status?: { podIP?: string; podIPs?: { ip?: string }[]; startTime?: string; phase?: string };
}

/**
 * The workload a pod belongs to: a ReplicaSet owner named `<deployment>-<pod-template-hash>` gives the
 * Deployment; any other controller gives its own name; a bare pod is its own workload.
 */
export function workloadOfPod(pod: PodLike): string {
  const meta = pod.metadata ?? {};
  const owner = (meta.ownerReferences ?? []).find((o) => o.controller) ?? meta.ownerReferences?.[0];
  if (owner?.name) {
    const hash = meta.labels?.['pod-template-hash'];
    if (owner.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`)) return owner.name.slice(0, -hash.length - 1);
    // no pod-template-hash label: reduce the owner name the way EPP pod names are reduced
    if (owner.kind === 'ReplicaSet') return workloadOf(`${owner.name}-bbbbb`) || owner.name;
    return owner.name;
  }
  return meta.name ?? '';
}

function epoch(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms / 1000;
}

function ipsOf(pod: PodLike): string[] {
  const ips = (pod.status?.podIPs ?? []).map((p) => p.ip).filter((ip): ip is string => !!ip);
  if (ips.length) return ips;
  return pod.status?.podIP ? [pod.status.podIP] : [];
}

export class PodIpTimeline {
  private readonly spans: PodIpSpan[] = [];

  static fromSpans(spans: readonly PodIpSpan[]): PodIpTimeline {
    const t = new PodIpTimeline();
    for (const s of spans) t.spans.push({ ...s });
    return t;
  }

  get size(): number {
    return this.spans.length;
  }

  all(): PodIpSpan[] {
    return this.spans.map((s) => ({ ...s }));
  }

  /**
   * Records what a pod object says now (a watch event or a list item), at `atSeconds`. A new IP of a pod
   * opens a span; a deleted pod (or `deleted`) closes its spans.
   */
  observe(pod: PodLike, atSeconds: number, deleted = false): void {
    const ns = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name;
    if (!name) return;
    const key = `${ns}/${name}`;
    const workload = workloadOfPod(pod);
    const ended = deleted ? atSeconds : epoch(pod.metadata?.deletionTimestamp);
    const ips = ipsOf(pod);
    for (const ip of ips) {
      const open = this.spans.find((s) => s.pod === key && s.ip === ip && s.to === undefined);
      if (open) {
        if (ended !== undefined) open.to = ended;
        continue;
      }
      if (this.spans.some((s) => s.pod === key && s.ip === ip)) continue;
      const from = epoch(pod.status?.startTime) ?? epoch(pod.metadata?.creationTimestamp);
      this.spans.push({ ip, pod: key, workload, ...(from !== undefined ? { from } : {}), ...(ended !== undefined ? { to: ended } : {}) });
    }
    // spans of this pod whose IP it no longer has ended now
    for (const s of this.spans) if (s.pod === key && s.to === undefined && (deleted || !ips.includes(s.ip))) s.to = atSeconds;
  }

  /**
   * The pod behind `IP:port` (or a bare IP) at `ts` (epoch seconds): the span holding the IP then; without
   * `ts`, or when no span covers it, the most recent span of the IP. Undefined for an unknown IP.
   */
  resolve(address: string, ts?: number): PodRef | undefined {
    const ip = hostOf(address);
    const mine = this.spans.filter((s) => s.ip === ip);
    if (mine.length === 0) return undefined;
    if (ts !== undefined) {
      const at = mine.filter((s) => (s.from === undefined || s.from <= ts) && (s.to === undefined || ts < s.to));
      const hit = at[at.length - 1];
      if (hit) return { pod: hit.pod, workload: hit.workload };
    }
    const latest = [...mine].sort((a, b) => (a.from ?? 0) - (b.from ?? 0))[mine.length - 1]!;
    return { pod: latest.pod, workload: latest.workload };
  }
}

/** A timeline from `kubectl get pods -A -o json` (a List, or a single Pod). Throws on other JSON. */
export function timelineFromPodList(json: unknown, atSeconds = Date.now() / 1000): PodIpTimeline {
  const t = new PodIpTimeline();
  const o = json as { kind?: string; items?: unknown[] };
  if (o && Array.isArray(o.items)) {
    for (const item of o.items) t.observe(item as PodLike, atSeconds);
    return t;
  }
  if (o && o.kind === 'Pod') {
    t.observe(o as PodLike, atSeconds);
    return t;
  }
  throw new Error('expected the JSON of `kubectl get pods -A -o json` (a List with items)');
}
