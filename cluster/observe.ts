import type { CoreV1Event, V1Pod } from '#client-node';
import type { Cluster } from './driver.ts';
import type { ObjectKey } from './cleanup.ts';
import { linesAfterMark } from './log-mark.ts';
import { judgeDeploymentRollout } from './rollout.ts';
import { isPodReady, podProblem, podState, restartCount } from './pods.ts';
import { statusCodeOf } from './errors.ts';
import { waitFor } from './waits.ts';

/** Waits and reads that need the cluster: pods Ready, rollouts, conditions, logs and events. */

export interface LogOptions {
  container?: string;
  previous?: boolean;
  sinceSeconds?: number;
  tailLines?: number;
  timestamps?: boolean;
}

export async function podLogs(cluster: Cluster, namespace: string, name: string, opts: LogOptions = {}): Promise<string> {
  return cluster.core.readNamespacedPodLog({ name, namespace, ...opts });
}

/** Where each pod's log of a Deployment ends now: pod name → its last line with the runtime's timestamp. */
export type LogMark = ReadonlyMap<string, string>;

/**
 * Marks where each pod's log ends now (`kubectl logs --timestamps --tail=1` per pod). Lines after the mark are
 * told apart by position, not by comparing clocks: the nodes' clocks need not agree with the harness's.
 */
export async function markDeploymentLog(cluster: Cluster, namespace: string, deployment: string): Promise<LogMark> {
  const mark = new Map<string, string>();
  for (const pod of await deploymentPods(cluster, namespace, deployment)) {
    const name = pod.metadata!.name!;
    const text = await readPodLogOrNone(cluster, namespace, name, { timestamps: true, tailLines: 1 });
    const last = text.split('\n').filter(Boolean).at(-1);
    if (last) mark.set(name, last);
  }
  return mark;
}

/**
 * The lines every pod of a Deployment logged after `mark` (`after`; all of a pod's lines when the mark has none for
 * it: a pod created since), and the whole current log they were read from (`current`), both without the
 * timestamps. After a container restart the previous one's log is read too; when a pod's mark is in neither (the
 * kubelet rotated its log file away: `kubectl logs` serves only the current file), this throws: counting what is
 * left would be silently wrong.
 */
export async function deploymentLogsAfter(
  cluster: Cluster,
  namespace: string,
  deployment: string,
  mark: LogMark,
): Promise<{ after: string[]; current: string[] }> {
  const out = { after: [] as string[], current: [] as string[] };
  const text = (line: string) => line.slice(line.indexOf(' ') + 1);
  const read = async (name: string, previous: boolean) =>
    (await readPodLogOrNone(cluster, namespace, name, { timestamps: true, ...(previous ? { previous } : {}) })).split('\n').filter(Boolean);
  for (const pod of await deploymentPods(cluster, namespace, deployment)) {
    const name = pod.metadata!.name!;
    const marked = mark.get(name);
    const current = await read(name, false);
    let after = linesAfterMark(marked, current, []);
    if ('lost' in after) after = linesAfterMark(marked, current, await read(name, true));
    if ('lost' in after) {
      throw new Error(
        `pod ${name}: its log no longer holds the line it ended with when the load started (${marked!.slice(0, 35)}): ` +
          'lines logged since are gone (the kubelet rotates a container log past containerLogMaxSize, 10Mi by default, ' +
          'and kubectl logs serves only the current file; or the container restarted more than once), so its decisions ' +
          "cannot be counted: lower the EPP's log verbosity, raise containerLogMaxSize, or run fewer requests",
      );
    }
    for (const line of after.lines) out.after.push(text(line));
    for (const line of current) out.current.push(text(line));
  }
  return out;
}

/** A pod's log; '' for a pod gone since it was listed (404) or a container not started yet (400). */
export async function readPodLogOrNone(cluster: Cluster, namespace: string, name: string, opts: LogOptions): Promise<string> {
  try {
    return await podLogs(cluster, namespace, name, opts);
  } catch (err) {
    const code = statusCodeOf(err);
    if (code !== 404 && code !== 400) throw err;
    return '';
  }
}

/** The logs of every pod of a Deployment (kubectl logs deploy/x shows one; a harness wants them all). */
export async function deploymentLogs(cluster: Cluster, namespace: string, deployment: string, opts: LogOptions = {}): Promise<string[]> {
  const pods = await deploymentPods(cluster, namespace, deployment);
  const lines: string[] = [];
  for (const pod of pods) {
    // a pod that went away between list and read: its log is gone with it; a container that has not started
    // (e.g. a replacement pod still creating) has no log yet; any other failure is the caller's
    const text = await readPodLogOrNone(cluster, namespace, pod.metadata!.name!, opts);
    for (const line of text.split('\n')) if (line) lines.push(line);
  }
  return lines;
}

export async function deploymentPods(cluster: Cluster, namespace: string, deployment: string): Promise<V1Pod[]> {
  const d = await cluster.apps.readNamespacedDeployment({ name: deployment, namespace });
  const selector = Object.entries(d.spec?.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return cluster.listPods(namespace, selector);
}

export async function namespaceEvents(cluster: Cluster, namespace: string): Promise<CoreV1Event[]> {
  const res = await cluster.core.listNamespacedEvent({ namespace });
  return res.items;
}

/**
 * The last `n` events about one object, oldest first, by when each last happened (`kubectl describe` orders
 * them so; the API lists them by name). `lastTimestamp` has whole seconds, so events of one second are ordered by
 * the version the API server stored them at (a repeat bumps it). An aggregated event counts once.
 */
export function lastEventsOf(events: readonly CoreV1Event[], kind: string, name: string, n: number): CoreV1Event[] {
  const when = (e: CoreV1Event) => {
    const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
    return t === undefined ? 0 : new Date(t as Date | string).getTime();
  };
  const stored = (e: CoreV1Event) => {
    const v = Number(e.metadata?.resourceVersion);
    return Number.isFinite(v) ? v : 0;
  };
  return events
    .filter((e) => e.involvedObject?.name === name && e.involvedObject?.kind === kind)
    .sort((a, b) => when(a) - when(b) || stored(a) - stored(b))
    .slice(-n);
}

/** One event as `kubectl describe` shows it: type, reason, how often (when repeated), message. */
export function formatEvent(e: CoreV1Event): string {
  return `event ${e.type} ${e.reason}${(e.count ?? 1) > 1 ? ` (x${e.count})` : ''}: ${e.message}`;
}

/** The last log lines and events of the pods that are not Ready: what a timed-out wait quotes. */
export async function podDiagnostics(cluster: Cluster, pods: V1Pod[], lines = 10): Promise<string> {
  const out: string[] = [];
  for (const pod of pods.filter((p) => !isPodReady(p)).slice(0, 4)) {
    const ns = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    out.push(`--- ${podState(pod)}`);
    for (const previous of restartCount(pod) > 0 ? [true, false] : [false]) {
      try {
        const text = await podLogs(cluster, ns, name, { tailLines: lines, previous });
        const tail = text.trimEnd().split('\n').slice(-lines);
        if (tail.join('')) out.push(`  last log lines${previous ? ' (previous container)' : ''}:`, ...tail.map((l) => `    ${l}`));
      } catch {
        // no log yet
      }
    }
    try {
      for (const e of lastEventsOf(await namespaceEvents(cluster, ns), 'Pod', name, 5)) out.push(`  ${formatEvent(e)}`);
    } catch {
      // events are best effort
    }
  }
  return out.join('\n');
}

export async function waitPodsReady(
  cluster: Cluster,
  opts: { namespace: string; selector?: string; fieldSelector?: string; min?: number; timeoutMs: number; name?: string },
): Promise<V1Pod[]> {
  const min = opts.min ?? 1;
  let last: V1Pod[] = [];
  const what = opts.name ?? `pods ${opts.selector ?? '(all)'} in ${opts.namespace} Ready`;
  const pods = await waitFor({
    name: what,
    timeoutMs: opts.timeoutMs,
    probe: async () => {
      last = (await cluster.listPods(opts.namespace, opts.selector, opts.fieldSelector)).filter((p) => !p.metadata?.deletionTimestamp);
      const ready = last.filter(isPodReady);
      const problem = last.map(podProblem).find(Boolean);
      return {
        done: ready.length >= min && ready.length === last.length,
        failed: !!problem,
        state: problem ?? `${ready.length}/${last.length} ready${last.length ? `: ${last.map(podState).join('; ')}` : ''}`,
        value: last,
      };
    },
    diagnostics: () => podDiagnostics(cluster, last),
  });
  return pods ?? [];
}

/**
 * Waits until an object exists. A controller renders what it owns after its owner's change (the SchedulerInstall
 * operator creates the EPP Deployment when it first reconciles): acting on it before then would be a 404.
 */
export async function waitExists(cluster: Cluster, ref: ObjectKey, timeoutMs: number): Promise<void> {
  await waitFor({
    name: `${ref.kind}/${ref.name} in ${ref.namespace ?? '(cluster)'} to exist`,
    timeoutMs,
    probe: async () => ((await cluster.tryRead(ref)) ? { done: true, state: 'exists' } : { done: false, state: 'not found' }),
  });
}

export async function waitRollout(cluster: Cluster, namespace: string, name: string, timeoutMs: number): Promise<void> {
  await waitFor({
    name: `rollout of deploy/${name} in ${namespace}`,
    timeoutMs,
    probe: async () => {
      const d = await cluster.apps.readNamespacedDeployment({ name, namespace });
      const verdict = judgeDeploymentRollout(d as Parameters<typeof judgeDeploymentRollout>[0]);
      return { done: verdict.done, failed: verdict.failed, state: verdict.message };
    },
    diagnostics: async () => podDiagnostics(cluster, await deploymentPods(cluster, namespace, name)),
  });
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
}

/** Conditions of an object, including Gateway API style `status.parents[].conditions`. */
export function conditionsOf(obj: { status?: unknown }): Condition[] {
  const st = (obj.status ?? {}) as { conditions?: Condition[]; parents?: { conditions?: Condition[] }[] };
  return [...(st.conditions ?? []), ...(st.parents ?? []).flatMap((p) => p.conditions ?? [])];
}

export async function waitCondition(
  cluster: Cluster,
  ref: { apiVersion: string; kind: string; name: string; namespace?: string },
  type: string,
  status: string,
  timeoutMs: number,
): Promise<void> {
  await waitFor({
    name: `${ref.kind}/${ref.name} condition ${type}=${status}`,
    timeoutMs,
    probe: async () => {
      const obj = await cluster.tryRead(ref);
      if (!obj) return { done: false, state: 'absent' };
      const conds = conditionsOf(obj as { status?: unknown });
      return {
        done: conds.some((c) => c.type === type && c.status === status),
        state: conds.map((c) => `${c.type}=${c.status}${c.reason ? `(${c.reason})` : ''}`).join(', ') || 'no conditions',
      };
    },
  });
}
