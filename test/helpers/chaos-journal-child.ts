/**
 * A harness run that gets SIGKILLed: patches a ConfigMap and creates another through the driver (both
 * journaled), prints "ready", then waits to be killed. Args: KUBECONFIG JOURNAL_DIR NAMESPACE.
 */
import { Cluster } from '../../cluster/driver.ts';
import { parseRef } from '../../cluster/refs.ts';

const [kubeconfigPath, journalDir, namespace] = process.argv.slice(2) as [string, string, string];
const cluster = await Cluster.connect({ kubeconfigPath, journalDir });
await cluster.mergePatch(parseRef('configmap/chaos-journal-patched', namespace), { data: { mode: 'changed' } });
await cluster.apply([
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'chaos-journal-created', namespace }, data: { by: 'child' } },
]);
process.stdout.write('ready\n');
setTimeout(() => process.exit(3), 60_000);
