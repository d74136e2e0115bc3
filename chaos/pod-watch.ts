import type { Cluster } from '../cluster/driver.ts';
import { podInfo } from './pods.ts';
import type { PodChange } from './types.ts';

interface Seen {
  uid: string;
  phase: string;
  ready: boolean;
  restartCount: number;
}

/** Compares two snapshots (pod name → state) and returns what changed. Pure. */
export function diffPods(
  before: ReadonlyMap<string, Seen & { namespace: string }>,
  after: ReadonlyMap<string, Seen & { namespace: string }>,
  t: number,
): PodChange[] {
  const out: PodChange[] = [];
  for (const [key, now] of after) {
    const was = before.get(key);
    const pod = key.split('/')[1] ?? key;
    if (!was || was.uid !== now.uid) out.push({ t, pod, ...now, change: 'created' });
    else if (was.phase !== now.phase || was.ready !== now.ready || was.restartCount !== now.restartCount)
      out.push({ t, pod, ...now, change: 'changed' });
  }
  for (const [key, was] of before) {
    if (!after.has(key)) out.push({ t, pod: key.split('/')[1] ?? key, ...was, change: 'deleted' });
  }
  return out;
}

/** Polls the pods of the namespaces while a chaos run goes on and records their changes for the timeline. */
export function watchPods(
  cluster: Cluster,
  namespaces: readonly string[],
  intervalMs = 500,
): { changes: PodChange[]; stop(): Promise<void> } {
  const changes: PodChange[] = [];
  let snapshot = new Map<string, Seen & { namespace: string }>();
  let first = true;
  let stopped = false;
  const poll = async (): Promise<void> => {
    const next = new Map<string, Seen & { namespace: string }>();
    for (const ns of namespaces) {
      for (const pod of await cluster.listPods(ns)) {
        const info = podInfo(pod);
        const phase = pod.metadata?.deletionTimestamp ? 'Terminating' : (pod.status?.phase ?? 'Pending');
        next.set(`${ns}/${info.name}`, { namespace: ns, uid: info.uid, phase, ready: info.ready, restartCount: info.restartCount });
      }
    }
    if (!first) changes.push(...diffPods(snapshot, next, Date.now()));
    first = false;
    snapshot = next;
  };
  const loop = (async () => {
    // bounded: at most an hour of polling
    for (let i = 0; i < 3_600_000 / intervalMs && !stopped; i++) {
      await poll().catch(() => undefined);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    changes,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}
