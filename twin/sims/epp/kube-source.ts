/**
 * Feeds the datastore from Kubernetes: the InferencePool named by --pool-name (v1, else v1alpha2) and
 * the pods in --pool-namespace, both listed and watched with a small informer (light-informer.ts).
 */
import type { Datastore } from './datastore.ts';
import { apiAccessFromKubeconfig, LightInformer } from './light-informer.ts';
import { poolEndpoints, type PodLike, type PoolLike } from './pool.ts';

export interface KubeSourceOptions {
  poolName: string;
  poolNamespace: string;
  poolGroup: string;
  log: (level: 'info' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

const POOL_VERSIONS: [group: string, version: string][] = [
  ['inference.networking.k8s.io', 'v1'],
  ['inference.networking.x-k8s.io', 'v1alpha2'],
];

interface Watched {
  informer: LightInformer;
  listed: boolean;
}

export async function startKubeSource(ds: Datastore, o: KubeSourceOptions): Promise<{ stop(): Promise<void> }> {
  const kubeconfig = process.env.KUBECONFIG;
  if (!kubeconfig) throw new Error('KUBECONFIG is not set: the twin gives every pod its kubeconfig (in-cluster config is not supported)');
  const access = apiAccessFromKubeconfig(kubeconfig.split(':')[0]!);
  const ns = o.poolNamespace;
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();

  // the configured group first, so a v1alpha2-only cluster works with --pool-group inference.networking.x-k8s.io
  const versions = [...POOL_VERSIONS].sort((a, b) => (a[0] === o.poolGroup ? -1 : b[0] === o.poolGroup ? 1 : 0));
  const watched = (path: string): Watched => ({ listed: false, informer: new LightInformer(access, path) });
  const pools = versions.map(([group, version]) => watched(`/apis/${group}/${version}/namespaces/${ns}/inferencepools`));
  const pods = watched(`/api/v1/namespaces/${ns}/pods`);

  let lastSummary = '';
  const recompute = () => {
    const pool = pools.map((w) => w.informer.get(o.poolName, ns)).find((p) => p !== undefined) as PoolLike | undefined;
    const specs = pool ? poolEndpoints(pool, pods.informer.list(ns) as PodLike[]) : [];
    ds.setEndpoints(specs);
    ds.synced = pool !== undefined && pods.listed;
    const summary = `${ds.synced}:${specs.map((s) => `${s.name}@${s.address}:${s.port}`).join(',')}`;
    if (summary !== lastSummary) {
      lastSummary = summary;
      o.log('info', 'Pool endpoints updated', {
        pool: `${ns}/${o.poolName}`,
        synced: ds.synced,
        endpoints: specs.map((s) => `${s.namespace}/${s.name}`),
      });
    }
  };

  const retry = (w: Watched, what: string, err: unknown) => {
    if (stopped) return;
    const code = (err as { code?: number; statusCode?: number })?.code ?? (err as { statusCode?: number })?.statusCode;
    // a missing InferencePool version (404) is expected: only one of v1 / v1alpha2 is usually served
    if (code !== 404) o.log('error', 'watch failed, retrying', { resource: what, error: String((err as Error)?.message ?? err) });
    const t = setTimeout(() => {
      timers.delete(t);
      start(w, what);
    }, 1000);
    timers.add(t);
  };
  const start = (w: Watched, what: string) => {
    if (stopped) return;
    w.informer.start().then(
      () => {
        w.listed = true;
        recompute();
      },
      (err: unknown) => retry(w, what, err),
    );
  };
  const run = (w: Watched, what: string) => {
    for (const verb of ['add', 'update', 'delete'] as const) w.informer.on(verb, recompute);
    w.informer.on('error', (err) => retry(w, what, err));
  };
  pools.forEach((w, i) => {
    run(w, `inferencepools.${versions[i]![0]}`);
    start(w, `inferencepools.${versions[i]![0]}`);
  });
  run(pods, 'pods');
  start(pods, 'pods');

  return {
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      await Promise.allSettled([...pools, pods].map((w) => w.informer.stop()));
    },
  };
}
