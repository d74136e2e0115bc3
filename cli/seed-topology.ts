import { join } from 'node:path';
import { packageRoot } from '../common/build.mjs';
import { deployManifests } from '../cluster/deploy.ts';
import { Cluster } from '../cluster/driver.ts';
import { waitCondition, waitRollout } from '../cluster/observe.ts';
import { waitFor } from '../cluster/waits.ts';

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

export async function applySeedTopology(kubeconfigPath: string, timeoutMs = 120_000): Promise<void> {
  const cluster = await Cluster.connect({ kubeconfigPath });
  await deployManifests(cluster, SEED_MANIFESTS, timeoutMs);
  await waitFor({
    name: `deploy/${EPP_DEPLOYMENT} rendered by the SchedulerInstall operator`,
    timeoutMs: 30_000,
    probe: async () => {
      const d = await cluster.tryRead({ apiVersion: 'apps/v1', kind: 'Deployment', name: EPP_DEPLOYMENT, namespace: SCHEDULER_NS });
      return { done: !!d, state: d ? 'present' : 'absent' };
    },
  });
  await waitRollout(cluster, SCHEDULER_NS, EPP_DEPLOYMENT, timeoutMs);
  await waitCondition(
    cluster,
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', name: 'llm-d-inference-scheduling', namespace: SCHEDULER_NS },
    'Accepted',
    'True',
    30_000,
  );
}
