import { externalPrefixCacheTokens, fsReuseFromLog, kvConnectorOf, loadsKv } from '../analysis/kv-transfer.ts';
import type { Cluster } from '../cluster/driver.ts';
import { readPodLogOrNone } from '../cluster/observe.ts';
import { readOrAbsent } from './read-or-absent.ts';
import type { KvTransferObservation } from '../criteria/observations.ts';

/**
 * KV reuse on the decode pods (vLLM containers with a `--kv-transfer-config` that loads KV) of the target
 * namespaces, for the `kvTransfer` criterion:
 * - fs (ExampleConnector): the pod's log since the load started: `External Cache Hit!` lines per completion access line;
 * - p2p (P2pNcclConnector): the pod's `vllm:external_prefix_cache_*` counters (tokens, since the pod started), read
 *   from its /metrics only when its IP is loopback (the twin): the harness never sends traffic off this machine.
 * A pod that gives no number adds no row, so the criterion says there is no measurement rather than guessing.
 */
export async function observeKvTransfer(
  cluster: Cluster,
  namespaces: readonly string[],
  sinceMs: number,
): Promise<KvTransferObservation[]> {
  const out: KvTransferObservation[] = [];
  const sinceSeconds = Math.max(1, Math.ceil((Date.now() - sinceMs) / 1000) + 1);
  for (const namespace of namespaces) {
    const pods = (await readOrAbsent(`the pods of ${namespace}`, () => cluster.listPods(namespace))) ?? [];
    for (const pod of pods) {
      const name = pod.metadata?.name;
      if (!name || pod.metadata?.deletionTimestamp) continue;
      for (const c of pod.spec?.containers ?? []) {
        const args = [...(c.command ?? []), ...(c.args ?? [])];
        const kv = kvConnectorOf(args);
        if (!kv?.backend || !loadsKv(kv)) continue;
        if (kv.backend === 'fs') {
          // a pod gone since the list (404) or a container not started yet (400, e.g. restarting after a fault)
          // has no log to count; a read that fails otherwise (403) stops the run
          const log =
            (await readOrAbsent(`the log of ${name}/${c.name} in ${namespace}`, () =>
              readPodLogOrNone(cluster, namespace, name, { container: c.name, sinceSeconds }),
            )) ?? '';
          const r = fsReuseFromLog(log.split('\n'));
          if (r) out.push({ backend: 'fs', ...r, unit: 'requests', source: `${name} log ("External Cache Hit!" per completion)` });
        } else {
          const ip = pod.status?.podIP;
          if (!ip || !/^127\./.test(ip)) continue;
          const text = await fetchText(`http://${ip}:${portOf(args)}/metrics`, cluster.timeouts.metricsCall);
          const r = text === undefined ? undefined : externalPrefixCacheTokens(text);
          if (r)
            out.push({
              backend: 'p2p',
              ...r,
              unit: 'tokens',
              source: `${name} /metrics (vllm:external_prefix_cache_hits/queries, tokens since pod start)`,
            });
        }
      }
    }
  }
  return out;
}

function portOf(args: readonly string[]): number {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    const v = a === '--port' ? args[i + 1] : a.startsWith('--port=') ? a.slice(7) : undefined;
    if (v !== undefined && /^\d+$/.test(v)) return Number(v);
  }
  return 8000; // vLLM's default
}

async function fetchText(url: string, timeoutMs: number): Promise<string | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}
