/**
 * The gateway's watches (@kubernetes/client-node informers, restarted on error): Gateways, HTTPRoutes,
 * ReferenceGrants, InferencePools (v1 and v1alpha2), Services, Endpoints and Pods in all namespaces.
 * A missing API (CRD not installed: 404) is retried quietly until it appears.
 */
import { CoreV1Api, CustomObjectsApi, KubeConfig, makeInformer, type KubernetesObject } from '#client-node';
import type { Snapshot } from './snapshot.ts';
import type { HTTPRoute, KObject } from './types.ts';

type Key = keyof Snapshot;

interface Source {
  key: Key;
  path: string;
  list: () => Promise<unknown>;
  /** set the apiVersion on listed items that lack it (lists carry it only on the List) */
  apiVersion: string;
}

export interface Store {
  snapshot(): Snapshot;
  /** resolves once every source has listed at least once (or failed with 404) */
  synced: Promise<void>;
  stop(): Promise<void>;
}

export function startStore(kc: KubeConfig, onChange: () => void, log: (msg: string) => void): Store {
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const crd = (key: Key, group: string, version: string, plural: string): Source => ({
    key,
    path: `/apis/${group}/${version}/${plural}`,
    list: () => custom.listClusterCustomObject({ group, version, plural }),
    apiVersion: `${group}/${version}`,
  });
  const sources: Source[] = [
    crd('gateways', 'gateway.networking.k8s.io', 'v1', 'gateways'),
    crd('routes', 'gateway.networking.k8s.io', 'v1', 'httproutes'),
    crd('referenceGrants', 'gateway.networking.k8s.io', 'v1beta1', 'referencegrants'),
    crd('pools', 'inference.networking.k8s.io', 'v1', 'inferencepools'),
    crd('pools', 'inference.networking.x-k8s.io', 'v1alpha2', 'inferencepools'),
    { key: 'services', path: '/api/v1/services', list: () => core.listServiceForAllNamespaces(), apiVersion: 'v1' },
    { key: 'endpoints', path: '/api/v1/endpoints', list: () => core.listEndpointsForAllNamespaces(), apiVersion: 'v1' },
    { key: 'pods', path: '/api/v1/pods', list: () => core.listPodForAllNamespaces(), apiVersion: 'v1' },
  ];

  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  let pending = sources.length;
  let markSynced!: () => void;
  const synced = new Promise<void>((r) => (markSynced = r));
  const settled = new Set<number>();
  const settle = (i: number) => {
    if (settled.has(i)) return;
    settled.add(i);
    if (--pending === 0) markSynced();
  };

  let scheduled = false;
  const changed = () => {
    if (scheduled || stopped) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      if (!stopped) onChange();
    });
  };

  const informers = sources.map((src, i) => {
    const inf = makeInformer<KubernetesObject>(kc, src.path, async () => {
      const res = (await src.list()) as { items?: KubernetesObject[] };
      for (const item of res.items ?? []) item.apiVersion ??= src.apiVersion;
      return res as never;
    });
    const retry = (err: unknown) => {
      if (stopped) return;
      const code = (err as { code?: number })?.code ?? (err as { statusCode?: number })?.statusCode;
      if (code === 404) settle(i);
      else log(`watch ${src.path} failed (${String((err as Error)?.message ?? err).split('\n')[0]}), retrying`);
      const t = setTimeout(
        () => {
          timers.delete(t);
          start();
        },
        code === 404 ? 2000 : 1000,
      );
      timers.add(t);
    };
    const start = () => {
      if (stopped) return;
      inf.start().then(() => {
        settle(i);
        changed();
      }, retry);
    };
    for (const verb of ['add', 'update', 'delete'] as const) {
      inf.on(verb, (obj) => {
        (obj as KubernetesObject).apiVersion ??= src.apiVersion;
        changed();
      });
    }
    inf.on('error', retry);
    start();
    return inf;
  });

  return {
    snapshot() {
      const s: Snapshot = { gateways: [], routes: [], pools: [], services: [], endpoints: [], pods: [], referenceGrants: [] };
      sources.forEach((src, i) => {
        const items = informers[i]!.list() as unknown as KObject[];
        (s[src.key] as KObject[]).push(...(src.key === 'routes' ? (items as HTTPRoute[]) : items));
      });
      return s;
    },
    synced,
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      await Promise.allSettled(informers.map((i) => i.stop()));
    },
  };
}
