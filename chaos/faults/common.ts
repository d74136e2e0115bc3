/**
 * What every fault's plan, write set and injector share: reading a fault item (a one-key object), the seed of
 * its random choices, the manifest a killed bare pod is re-created from, and the pods a selector matches now.
 */
import type { Cluster } from '../../cluster/driver.ts';
import type { ManifestObject } from '../../cluster/manifests.ts';
import { seedFromText } from '../../k8s-rules/prng.ts';
import type { Fault } from '../../suites/schema.ts';
import { formatDuration } from '../../suites/durations.ts';
import { livePods } from '../pods.ts';
import type { FaultKind, PodInfo } from '../types.ts';

export function faultBody(fault: Fault): { kind: FaultKind; body: Record<string, unknown> & { namespace: string } } {
  const kind = Object.keys(fault)[0] as FaultKind;
  return { kind, body: (fault as Record<string, Record<string, unknown> & { namespace: string }>)[kind]! };
}

type FaultOf<K extends FaultKind> = Extract<Fault, Record<K, unknown>>[K];

/** The settings of a fault of a known kind (a fault is a one-key object). */
export function faultAs<K extends FaultKind>(fault: Fault, kind: K): FaultOf<K> {
  const body = (fault as Record<string, unknown>)[kind];
  if (!body) throw new Error(`not a ${kind} fault`);
  return body as FaultOf<K>;
}

/** The seed of fault `index`'s random choices: the same base over the same pods picks the same ones. */
export function faultSeed(base: string, index: number): number {
  return seedFromText(`${base}#${index}`);
}

export function manifestFor(manifests: readonly ManifestObject[], pod: { name: string; namespace: string }): ManifestObject | undefined {
  return manifests.find((m) => m.kind === 'Pod' && m.metadata.name === pod.name && (m.metadata.namespace ?? 'default') === pod.namespace);
}

/** The live pods a selector matches now; none when the plan is static (no cluster to read). */
export async function candidatesOf(cluster: Cluster | undefined, namespace: string, selector: string | undefined): Promise<PodInfo[]> {
  return cluster && selector !== undefined ? livePods(cluster, namespace, selector) : [];
}

/** ` for 30s` or ` until the load ends`. */
export function forHowLong(ms: number | undefined): string {
  return ms !== undefined ? ` for ${formatDuration(ms)}` : ' until the load ends';
}
