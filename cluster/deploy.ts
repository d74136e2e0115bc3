import type { Cluster } from './driver.ts';
import { readManifests, type ManifestObject } from './manifests.ts';
import { waitPodsReady, waitRollout } from './observe.ts';
import { WaitTimeoutError } from './waits.ts';

/**
 * Applies manifests (registered for cleanup by the driver) and waits until what they run is up:
 * every Deployment rolled out and every bare Pod Ready, within the `deploy` timeout in force.
 */
export async function deployManifests(cluster: Cluster, paths: string[], timeoutMs: number): Promise<ManifestObject[]> {
  const objects = readManifests(paths);
  await cluster.apply(objects);
  await waitWorkloads(cluster, objects, timeoutMs);
  return objects;
}

/**
 * Every workload of `objects` up within `timeoutMs` in all (one deadline shared by the waits). A wait that
 * runs out reports the whole deploy timeout in force (`timed out after 5m (timeout deploy)`), not what was left.
 */
export async function waitWorkloads(cluster: Cluster, objects: ManifestObject[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const left = () => Math.max(1000, deadline - Date.now());
  try {
    for (const obj of objects.filter((o) => o.kind === 'Pod')) {
      const ns = obj.metadata.namespace ?? 'default';
      const name = obj.metadata.name;
      await waitPodsReady(cluster, {
        namespace: ns,
        fieldSelector: `metadata.name=${name}`,
        timeoutMs: left(),
        name: `pod/${name} in ${ns} Ready`,
      });
    }
    for (const obj of objects.filter((o) => o.kind === 'Deployment')) {
      await waitRollout(cluster, obj.metadata.namespace ?? 'default', obj.metadata.name, left());
    }
  } catch (err) {
    if (!(err instanceof WaitTimeoutError)) throw err;
    throw new WaitTimeoutError(err.waitName, timeoutMs, err.lastState, err.diagnostics, err.failedEarly, {
      timeoutName: 'deploy',
      cause: err,
    });
  }
}
