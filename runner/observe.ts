import { Watch } from '#client-node';
import { parse as parseYaml } from '#yaml';
import { PodIpTimeline } from '../analysis/pod-ips.ts';
import type { Cluster } from '../cluster/driver.ts';
import { deploymentLogs, deploymentLogsAfter, markDeploymentLog, type LogMark } from '../cluster/observe.ts';
import { describeApiError, isNotFound } from '../cluster/errors.ts';
import { TargetError } from '../core/errors.ts';
import type { Observations } from '../criteria/observations.ts';
import type { LoadResult } from '../load/result.ts';
import type { Suite } from '../suites/schema.ts';
import { routesCarrying, type HTTPRouteLike } from '../k8s-rules/httproute.ts';
import { observeKvTransfer } from './kv-observe.ts';
import { readOrAbsent } from './read-or-absent.ts';
import { EPP } from './topology.ts';

export interface ObserveOptions {
  /** Epoch ms when the load started: EPP decisions before it belong to someone else. */
  since: number;
  /**
   * Where the EPP's log ended when the load started (markDeploymentLog): the decisions are the lines after it.
   * Without one, the window is `since` rounded out to whole seconds (the log API's granularity) and may hold
   * a few earlier decisions, e.g. the steady-state probes'.
   */
  eppLogMark?: LogMark;
  load?: LoadResult;
  /** Pod IPs seen during the run (startPodIpWatch); else the pods listed at observe time. */
  podIps?: PodIpTimeline;
}

/**
 * Marks where the EPP's log ends, right before the load: its decisions are then the lines after the mark, so
 * the steady-state probes' picks stay out of the count. None when the suite does not target the EPP's
 * namespace or its Deployment is not there (the window then falls back to whole seconds, see ObserveOptions).
 */
export async function markEppLog(cluster: Cluster, suite: Suite): Promise<LogMark | undefined> {
  if (!suite.spec.target.namespaces.includes(EPP.namespace)) return undefined;
  try {
    return await markDeploymentLog(cluster, EPP.namespace, EPP.deployment);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw new TargetError(`marking the EPP log before the load: ${describeApiError(err)}`, { cause: err });
  }
}

export interface PodIpWatch {
  timeline: PodIpTimeline;
  stop(): void;
}

/**
 * Watches the pods of the target namespaces from now on and records which pod held which IP when, so a
 * stock EPP's "Request handled" endpoint maps to the pod it meant even after chaos replaced that pod.
 * Best effort: a watch that cannot start leaves the pods listed at observe time.
 */
export async function startPodIpWatch(cluster: Cluster, namespaces: readonly string[]): Promise<PodIpWatch> {
  const timeline = new PodIpTimeline();
  const aborts: AbortController[] = [];
  const watch = new Watch(cluster.kc);
  for (const ns of namespaces) {
    try {
      for (const pod of await cluster.listPods(ns)) timeline.observe(pod as never, Date.now() / 1000);
      const ac = await watch.watch(
        `/api/v1/namespaces/${ns}/pods`,
        {},
        (phase, obj) => timeline.observe(obj as never, Date.now() / 1000, phase === 'DELETED'),
        () => undefined,
      );
      aborts.push(ac);
    } catch {
      // no watch for this namespace: observe time lists its pods
    }
  }
  return { timeline, stop: () => aborts.forEach((a) => a.abort()) };
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
  obs.eppRefServices = await eppRefServices(cluster, inferencePools);
  const timeline = opts.podIps ?? new PodIpTimeline();
  for (const ns of namespaces) {
    const pods = (await readOrAbsent(`the pods of ${ns}`, () => cluster.listPods(ns))) ?? [];
    for (const pod of pods) timeline.observe(pod as never, Date.now() / 1000);
  }
  obs.podIps = timeline.all();
  if (suite.spec.criteria.some((c) => 'kvTransfer' in c)) obs.kvTransfer = await observeKvTransfer(cluster, namespaces, opts.since);
  if (namespaces.includes(EPP.namespace)) {
    const cm = await readOrAbsent(`configmap/${EPP.configMap} in ${EPP.namespace}`, () =>
      cluster.core.readNamespacedConfigMap({ name: EPP.configMap, namespace: EPP.namespace }),
    );
    const yaml = cm?.data?.[EPP.configKey];
    if (yaml) obs.eppConfigYaml = yaml;
    const sinceSeconds = Math.max(1, Math.ceil((Date.now() - opts.since) / 1000) + 1);
    const eppLog = `the log of deploy/${EPP.deployment} in ${EPP.namespace}`;
    const mark = opts.eppLogMark;
    let all: string[];
    let recent: string[];
    if (mark) {
      // one read of each pod's whole log: the start lines and what came after the mark
      const read = await readOrAbsent(eppLog, () => deploymentLogsAfter(cluster, EPP.namespace, EPP.deployment, mark));
      all = read?.current ?? [];
      recent = read?.after ?? [];
    } else {
      all = (await readOrAbsent(eppLog, () => deploymentLogs(cluster, EPP.namespace, EPP.deployment))) ?? [];
      recent = (await readOrAbsent(eppLog, () => deploymentLogs(cluster, EPP.namespace, EPP.deployment, { sinceSeconds }))) ?? [];
    }
    // the start lines (the instrumented build's loaded profile, every build's "parsed config") come from the
    // whole log; picks and failures only from the load's window
    const isStart = (l: string) =>
      l.includes('Loaded scheduling profile') || (l.includes('parsed config') && l.includes('scheduler-config'));
    obs.eppLogLines = [...all.filter(isStart), ...recent.filter((l) => !isStart(l))];
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

/** The Service each pool's endpointPickerRef names, with its type (a conformant gateway refuses ExternalName). */
export async function eppRefServices(cluster: Cluster, pools: unknown[]): Promise<{ pool: string; service: string; type: string }[]> {
  const out: { pool: string; service: string; type: string }[] = [];
  for (const p of pools) {
    const pool = p as {
      metadata?: { name?: string; namespace?: string };
      spec?: { endpointPickerRef?: { name?: string }; extensionRef?: { name?: string } };
    };
    const ref = pool.spec?.endpointPickerRef ?? pool.spec?.extensionRef;
    const ns = pool.metadata?.namespace ?? 'default';
    if (!ref?.name) continue;
    const svc = await readOrAbsent(`service/${ref.name} in ${ns}`, () =>
      cluster.core.readNamespacedService({ name: ref.name!, namespace: ns }),
    );
    out.push({
      pool: `${ns}/${pool.metadata?.name ?? '?'}`,
      service: `${ns}/${ref.name}`,
      type: svc ? (svc.spec?.type ?? 'ClusterIP') : 'missing',
    });
  }
  return out;
}

/** The objects of a kind in a namespace; none when the server does not serve the kind (its CRD is not installed). */
async function listOrEmpty(cluster: Cluster, apiVersion: string, kind: string, ns: string): Promise<unknown[]> {
  const served = await readOrAbsent(`the discovery of ${apiVersion} ${kind}`, () => cluster.resourceOf(apiVersion, kind));
  if (!served) return [];
  return (await readOrAbsent(`${kind} objects in ${ns}`, () => cluster.list(apiVersion, kind, ns))) ?? [];
}

export function parseEppConfig(yaml: string | undefined): unknown {
  return yaml ? parseYaml(yaml) : undefined;
}
