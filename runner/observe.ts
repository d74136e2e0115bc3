import { parse as parseYaml } from 'yaml';
import type { Cluster } from '../cluster/driver.ts';
import { deploymentLogs } from '../cluster/observe.ts';
import type { Observations } from '../criteria/observations.ts';
import type { LoadResult } from '../load/result.ts';
import type { Suite } from '../suites/schema.ts';
import { routesCarrying, type HTTPRouteLike } from '../k8s-rules/httproute.ts';
import { observeKvTransfer } from './kv-observe.ts';
import { EPP } from './topology.ts';

export interface ObserveOptions {
  /** Epoch ms when the load started: EPP decisions before it belong to someone else. */
  since: number;
  load?: LoadResult;
}

/** Reads what criteria judge: routes, pools, the rendered EPP config and the EPP's log. */
export async function collectObservations(cluster: Cluster, suite: Suite, opts: ObserveOptions): Promise<Observations> {
  const namespaces = suite.spec.target.namespaces;
  const httpRoutes: unknown[] = [];
  const inferencePools: unknown[] = [];
  for (const ns of namespaces) {
    httpRoutes.push(...(await listOrEmpty(cluster, 'gateway.networking.k8s.io/v1', 'HTTPRoute', ns)));
    inferencePools.push(...(await listOrEmpty(cluster, 'inference.networking.k8s.io/v1', 'InferencePool', ns)));
  }
  const obs: Observations = { httpRoutes: routesOfLoad(httpRoutes, suite), inferencePools };
  if (opts.load) obs.load = opts.load;
  if (suite.spec.criteria.some((c) => 'kvTransfer' in c)) obs.kvTransfer = await observeKvTransfer(cluster, namespaces, opts.since);
  if (namespaces.includes(EPP.namespace)) {
    const cm = await cluster.core.readNamespacedConfigMap({ name: EPP.configMap, namespace: EPP.namespace }).catch(() => undefined);
    const yaml = cm?.data?.[EPP.configKey];
    if (yaml) obs.eppConfigYaml = yaml;
    const sinceSeconds = Math.max(1, Math.ceil((Date.now() - opts.since) / 1000) + 1);
    const all = await deploymentLogs(cluster, EPP.namespace, EPP.deployment).catch(() => [] as string[]);
    const recent = await deploymentLogs(cluster, EPP.namespace, EPP.deployment, { sinceSeconds }).catch(() => [] as string[]);
    // the start lines (loaded profile) come from the whole log; picks and failures only from the load's window
    obs.eppLogLines = [...all.filter((l) => l.includes('Loaded scheduling profile')), ...recent.filter((l) => !l.includes('Loaded scheduling profile'))];
  }
  return obs;
}

/**
 * The routes a suite's criteria judge: those that carry the load's requests (its path, its headers and
 * each variant's headers). An A/B route matched on x-kv-backend does not carry header-less requests.
 */
function routesOfLoad(routes: unknown[], suite: Suite): unknown[] {
  const load = suite.spec.load;
  if (!load) return routes;
  const base = { method: load.request.method, path: load.request.path, headers: load.request.headers };
  const requests = load.variants?.length
    ? load.variants.map((v) => ({ ...base, path: v.path ?? base.path, headers: { ...base.headers, ...(v.headers ?? {}) } }))
    : [base];
  return routesCarrying(routes as HTTPRouteLike[], requests);
}

async function listOrEmpty(cluster: Cluster, apiVersion: string, kind: string, ns: string): Promise<unknown[]> {
  try {
    return await cluster.list(apiVersion, kind, ns);
  } catch {
    return [];
  }
}

export function parseEppConfig(yaml: string | undefined): unknown {
  return yaml ? parseYaml(yaml) : undefined;
}
