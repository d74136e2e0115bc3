/**
 * The seed README's topology, profile proxy-performance (what `twin up --topology seed` brings up), deployed
 * and waited for: the manifests up (`deploy`), the EPP Deployment rendered by the SchedulerInstall operator
 * and rolled out, the HTTPRoute Accepted (`reconcile`). The CLI calls this and prints.
 */
import { join } from 'node:path';
import { packageRoot } from '../common/build.mjs';
import { deployManifests } from '../cluster/deploy.ts';
import { Cluster } from '../cluster/driver.ts';
import { waitCondition, waitRollout } from '../cluster/observe.ts';
import { waitFor } from '../cluster/waits.ts';
import { resolveTimeouts, type TimeoutConfig } from '../core/timeouts.ts';

const root = (p: string) => join(packageRoot(import.meta.url), p);

/** The seed README's topology, profile proxy-performance: what `twin up --topology seed` brings up. */
export const SEED_MANIFESTS = [
  'manifests/namespaces.yaml',
  'manifests/crds',
  'manifests/vllm/pd-proxy-program.yaml',
  'manifests/vllm/p2p-nccl-same-node.yaml',
  'manifests/vllm/fs-kv-same-node.yaml',
  'manifests/gateway-routing/inferencepool-proxy-performance.yaml',
  'manifests/gateway-routing/schedulerinstall-proxy-performance.yaml',
  'manifests/gateway-routing/httproute-ab.yaml',
].map(root);

export const SCHEDULER_NS = 'llm-d-inference-scheduler';
export const EPP_DEPLOYMENT = 'gaie-inference-scheduling-epp';

/**
 * Deploys the seed topology on the cluster of `kubeconfigPath` and waits until it serves. `timeouts`: overrides
 * of the defaults (a number is the `deploy` timeout, as older callers pass it).
 */
export async function applySeedTopology(kubeconfigPath: string, timeouts: Partial<TimeoutConfig> | number = {}): Promise<void> {
  const t = resolveTimeouts(typeof timeouts === 'number' ? { deploy: timeouts } : timeouts);
  const cluster = await Cluster.connect({ kubeconfigPath, timeouts: t });
  await deployManifests(cluster, SEED_MANIFESTS, t.deploy);
  await waitFor({
    name: `deploy/${EPP_DEPLOYMENT} rendered by the SchedulerInstall operator`,
    timeoutMs: t.reconcile,
    timeoutName: 'reconcile',
    probe: async () => {
      const d = await cluster.tryRead({ apiVersion: 'apps/v1', kind: 'Deployment', name: EPP_DEPLOYMENT, namespace: SCHEDULER_NS });
      return { done: !!d, state: d ? 'present' : 'absent' };
    },
  });
  await waitRollout(cluster, SCHEDULER_NS, EPP_DEPLOYMENT, t.deploy);
  await waitCondition(
    cluster,
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', name: 'llm-d-inference-scheduling', namespace: SCHEDULER_NS },
    'Accepted',
    'True',
    t.reconcile,
  );
}
