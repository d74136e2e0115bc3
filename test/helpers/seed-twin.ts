import { applySeedTopology } from '../../runner/seed-topology.ts';
import { DEFAULT_TIMEOUTS } from '../../core/timeouts.ts';
import { twinTest } from '../../fixtures/twin.ts';
import type { TwinHandle } from '../../twin/launcher.ts';

/**
 * `seedTwin`: the worker's twin (fixtures/twin.ts) with the seed README's topology deployed once per worker
 * and shared by every file that uses it (seed-flow, exec-kubectl, chaos-twin, redaction-run, load-engines):
 * about a dozen pod processes started once instead of once per file. A file leaves the topology as it found
 * it: what it patches it puts back, what it creates it deletes, a pod it kills comes back. A failed test
 * restarts the worker, and with it the twin, so a broken topology does not outlive the failure.
 */
export const seedTwinTest = twinTest.extend<object, { seedTwin: TwinHandle }>({
  seedTwin: [
    async ({ twin }, use) => {
      await applySeedTopology(twin.kubeconfigPath, DEFAULT_TIMEOUTS.deploy);
      await use(twin);
    },
    { scope: 'worker', timeout: 2 * (DEFAULT_TIMEOUTS.deploy + DEFAULT_TIMEOUTS.reconcile) },
  ],
});
