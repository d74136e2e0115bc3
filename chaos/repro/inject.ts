/**
 * Seeding the decode IndexError on the twin: the suite's `decodeIndexError` trigger becomes the vLLM
 * simulator's fault config, POSTed to `http://<podIP>:8000/_twin/faults` of the cell's decode pods (twin only:
 * pods are reachable on loopback there). On a real cluster nothing is injected.
 */
import { DEFAULT_TIMEOUTS } from '../../core/timeouts.ts';
import type { V1Pod } from '#client-node';
import type { Cluster } from '../../cluster/driver.ts';
import { isLoopbackHost } from '../../load/loopback.ts';
import type { DecodeIndexErrorFault, IndexErrorTrigger, Suite } from '../../suites/schema.ts';

export const SIM_FAULTS_PORT = 8000;

export interface SimIndexErrorConfig {
  indexError: { onAbortedKv?: boolean; afterRequests?: number; probability?: number; seed?: number };
}

/** Mixes the trigger's own seed with the cell seed, so `--seed` changes (and replays) the crash point. */
export function mixSeed(triggerSeed: number, cellSeed: number): number {
  return (Math.imul(triggerSeed ^ 0x5bd1e995, 0x01000193) ^ cellSeed) & 0x7fffffff;
}

export function simFaultConfig(trigger: IndexErrorTrigger, cellSeed: number): SimIndexErrorConfig {
  if (trigger === 'abortedKv') return { indexError: { onAbortedKv: true } };
  if ('afterRequests' in trigger) return { indexError: { afterRequests: trigger.afterRequests } };
  return { indexError: { probability: trigger.probability, seed: mixSeed(trigger.seed, cellSeed) } };
}

export function decodeIndexErrorFaults(suite: Suite): DecodeIndexErrorFault[] {
  return suite.spec.faults.flatMap((f) => ('decodeIndexError' in f && f.decodeIndexError ? [f.decodeIndexError] : []));
}

export interface Injection {
  pod: string;
  podIP: string;
  config: SimIndexErrorConfig;
}

/** POSTs a fault config to one simulator pod; loopback addresses only. */
export async function postSimFaults(podIP: string, config: unknown, timeoutMs = DEFAULT_TIMEOUTS.simFaultCall): Promise<void> {
  if (!isLoopbackHost(podIP)) throw new Error(`refusing to send a twin fault to ${podIP}: twin pods live on 127.0.0.0/8`);
  const res = await fetch(`http://${podIP}:${SIM_FAULTS_PORT}/_twin/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(config),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new Error(`POST /_twin/faults on ${podIP} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
}

/**
 * Sets each decodeIndexError fault's trigger on the decode pods it selects among `cellPods` (the cell's
 * connector's decode pods). Setting the config resets the simulator's counters and PRNG, so every cell starts
 * from the same point.
 */
export async function injectForCell(cluster: Cluster, suite: Suite, cellPods: readonly V1Pod[], cellSeed: number): Promise<Injection[]> {
  const done: Injection[] = [];
  const cellNames = new Set(cellPods.map((p) => p.metadata?.name));
  for (const fault of decodeIndexErrorFaults(suite)) {
    const selected = await cluster.listPods(fault.namespace, fault.selector);
    for (const pod of selected.filter((p) => cellNames.has(p.metadata?.name) && p.status?.podIP)) {
      const config = simFaultConfig(fault.trigger, cellSeed);
      await postSimFaults(pod.status!.podIP!, config, cluster.timeouts.simFaultCall);
      done.push({ pod: pod.metadata!.name!, podIP: pod.status!.podIP!, config });
    }
  }
  return done;
}

/** Clears the fault config of pods set earlier (a pod that restarted has lost it already). Best effort. */
export async function clearInjections(cluster: Cluster, namespace: string, podNames: Iterable<string>): Promise<string[]> {
  const problems: string[] = [];
  for (const name of new Set(podNames)) {
    try {
      const pod = (await cluster.listPods(namespace, undefined, `metadata.name=${name}`))[0];
      if (pod?.status?.podIP) await postSimFaults(pod.status.podIP, {}, cluster.timeouts.simFaultCall);
    } catch (err) {
      problems.push(`${name}: ${(err as Error).message}`);
    }
  }
  return problems;
}
