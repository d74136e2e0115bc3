/**
 * Child process that hosts one twin for a benchmark, so the twin's API server, kubelet and gateway do not
 * share an event loop (or an RSS figure) with the load generator:
 *
 *   node dist/<build>/bench/twin-host.mjs CONFIG.json   (bundled by hosted-twin.ts; tsx works too)
 *
 * CONFIG: { stateDir, ipPrefix, objectsFile, timeoutMs }. Starts the twin, applies the objects, waits until
 * every workload is Ready, the EPP rolled out and the scheduler route Accepted, then prints one JSON line
 * `HostReady` and runs until SIGTERM or until stdin closes (the bench died), then stops the twin.
 */
import { readFileSync } from 'node:fs';
import { waitWorkloads } from '../cluster/deploy.ts';
import { Cluster } from '../cluster/driver.ts';
import type { ManifestObject } from '../cluster/manifests.ts';
import { waitCondition, waitRollout } from '../cluster/observe.ts';
import { waitFor } from '../cluster/waits.ts';
import { EPP_DEPLOYMENT, SCHEDULER_NS } from '../runner/seed-topology.ts';
import { startTwin } from '../twin/launcher.ts';

export interface HostConfig {
  stateDir: string;
  ipPrefix: string;
  objectsFile: string;
  timeoutMs: number;
}

export interface HostReady {
  ok: true;
  pid: number;
  upMs: number;
  /** Milliseconds from the start at the end of each step: twin started, objects applied, workloads Ready, ... */
  phases: Record<string, number>;
  kubeconfigPath: string;
  gatewayUrl: string;
  stateDir: string;
}

async function main(): Promise<void> {
  const config = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8')) as HostConfig;
  const objects = JSON.parse(readFileSync(config.objectsFile, 'utf8')) as ManifestObject[];
  const t0 = performance.now();
  const phases: Record<string, number> = {};
  const mark = (name: string) => (phases[name] = Math.round(performance.now() - t0));
  const twin = await startTwin({ stateDir: config.stateDir, port: 0, gatewayPort: 0, ipPrefix: config.ipPrefix });
  let stopping: Promise<void> | undefined;
  const stop = (code: number) => {
    stopping ??= twin.stop().finally(() => process.exit(code));
  };
  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(0));
  process.stdin.on('end', () => stop(0));
  process.stdin.resume();
  try {
    const deadline = Date.now() + config.timeoutMs;
    const left = () => Math.max(1000, deadline - Date.now());
    mark('twin started');
    const cluster = await Cluster.connect({ kubeconfigPath: twin.kubeconfigPath });
    await cluster.apply(objects);
    mark('objects applied');
    await waitWorkloads(cluster, objects, left());
    mark('workloads Ready');
    await waitFor({
      name: `deploy/${EPP_DEPLOYMENT} rendered by the SchedulerInstall operator`,
      timeoutMs: left(),
      probe: async () => {
        const d = await cluster.tryRead({ apiVersion: 'apps/v1', kind: 'Deployment', name: EPP_DEPLOYMENT, namespace: SCHEDULER_NS });
        return { done: !!d, state: d ? 'present' : 'absent' };
      },
    });
    await waitRollout(cluster, SCHEDULER_NS, EPP_DEPLOYMENT, left());
    mark('EPP rolled out');
    await waitCondition(
      cluster,
      { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', name: 'llm-d-inference-scheduling', namespace: SCHEDULER_NS },
      'Accepted',
      'True',
      left(),
    );
    const ready: HostReady = {
      ok: true,
      pid: process.pid,
      upMs: performance.now() - t0,
      phases,
      kubeconfigPath: twin.kubeconfigPath,
      gatewayUrl: twin.gatewayUrl,
      stateDir: twin.stateDir,
    };
    process.stdout.write(`${JSON.stringify(ready)}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ ok: false, error: (err as Error).message.split('\n')[0] })}\n`);
    stop(1);
  }
}

main().catch((err: unknown) => {
  process.stdout.write(`${JSON.stringify({ ok: false, error: err instanceof Error ? err.message.split('\n')[0] : String(err) })}\n`);
  process.exit(1);
});
