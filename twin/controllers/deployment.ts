/**
 * Deployment controller: Deployment -> ReplicaSet `<name>-<pod-template-hash>` -> Pods. Rolling update
 * (maxSurge / maxUnavailable, defaults 25%) or Recreate, revision annotations, history limit, and the
 * status / conditions `kubectl rollout status` reads.
 */
import type { Api } from '../apiserver/api.ts';
import { nowTimestamp } from '../apiserver/api.ts';
import type { Obj } from '../apiserver/selectors.ts';
import type { Recorder } from './events.ts';
import { intOrPercent, isOwnedBy, isTerminating, key, ownerRefTo, sortKeys, templateHash } from './util.ts';

const REVISION = 'deployment.kubernetes.io/revision';
const HASH = 'pod-template-hash';

function templateWithoutHash(tpl: Obj | undefined): Obj {
  const t = structuredClone(tpl ?? {});
  if (t.metadata?.labels) delete t.metadata.labels[HASH];
  return t;
}

/** Canonical text of a stored template, once per stored version (stored objects are replaced, never changed). */
const canonicalTemplates = new WeakMap<Obj, string>();
function canonicalTemplate(tpl: Obj | undefined): string {
  if (!tpl) return JSON.stringify(sortKeys(templateWithoutHash(tpl)));
  let text = canonicalTemplates.get(tpl);
  if (text === undefined) canonicalTemplates.set(tpl, (text = JSON.stringify(sortKeys(templateWithoutHash(tpl)))));
  return text;
}

function sameTemplate(a: Obj | undefined, b: Obj | undefined): boolean {
  return canonicalTemplate(a) === canonicalTemplate(b);
}

const replicasOf = (rs: Obj) => Number(rs.spec?.replicas ?? 0);
const availableOf = (rs: Obj) => Number(rs.status?.availableReplicas ?? 0);

export function syncDeployments(api: Api, record: Recorder): void {
  const dType = api.type('apps', 'deployments');
  const rsType = api.type('apps', 'replicasets');
  for (const d of api.store.peek(key('apps', 'deployments'))) {
    if (isTerminating(d)) continue;
    const ns = d.metadata.namespace;
    const name = d.metadata.name;
    const want = Number(d.spec?.replicas ?? 1);
    const all = () => api.store.peek(key('apps', 'replicasets'), ns).filter((rs) => isOwnedBy(rs, d) && !isTerminating(rs));
    let rsList = all();
    let newRs = rsList.find((rs) => sameTemplate(rs.spec?.template, d.spec?.template));
    const olds = () => all().filter((rs) => rs.metadata.uid !== newRs?.metadata.uid);
    const maxRevision = Math.max(0, ...rsList.filter((rs) => rs !== newRs).map((rs) => Number(rs.metadata.annotations?.[REVISION] ?? 0)));
    const scale = (rs: Obj, to: number) => {
      const from = replicasOf(rs);
      if (from === to) return;
      api.mutate(rsType, ns, rs.metadata.name, (o) => {
        o.spec.replicas = to;
        o.metadata.annotations = { ...(o.metadata.annotations ?? {}), 'deployment.kubernetes.io/desired-replicas': String(want) };
      });
      record(d, 'Normal', 'ScalingReplicaSet', `Scaled ${to > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${to}`);
    };

    if (d.spec?.paused) {
      writeStatus(api, dType, d, all(), newRs, want);
      continue;
    }
    const recreate = d.spec?.strategy?.type === 'Recreate';
    const maxSurge = recreate ? 0 : intOrPercent(d.spec?.strategy?.rollingUpdate?.maxSurge, want, true, '25%');
    let maxUnavailable = recreate ? want : intOrPercent(d.spec?.strategy?.rollingUpdate?.maxUnavailable, want, false, '25%');
    if (!recreate && maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;

    if (!newRs) {
      const tpl = structuredClone(d.spec?.template ?? {});
      const hash = templateHash(templateWithoutHash(tpl));
      tpl.metadata = { ...(tpl.metadata ?? {}), labels: { ...(tpl.metadata?.labels ?? {}), [HASH]: hash } };
      const existing = api.peek(rsType, ns, `${name}-${hash}`);
      if (existing) {
        newRs = existing; // name collision with a foreign RS: adopt nothing, just wait
      } else {
        const oldPods = olds().reduce((n, rs) => n + replicasOf(rs), 0);
        const initial = recreate ? 0 : rsList.length === 0 ? want : Math.max(0, Math.min(want, want + maxSurge - oldPods));
        newRs = api.create(rsType, ns, {
          metadata: {
            name: `${name}-${hash}`,
            namespace: ns,
            labels: { ...(tpl.metadata.labels ?? {}) },
            annotations: {
              [REVISION]: String(maxRevision + 1),
              'deployment.kubernetes.io/desired-replicas': String(want),
              'deployment.kubernetes.io/max-replicas': String(want + maxSurge),
            },
            ownerReferences: [ownerRefTo(d)],
          },
          spec: {
            replicas: initial,
            minReadySeconds: d.spec?.minReadySeconds ?? 0,
            selector: structuredClone({ ...d.spec.selector, matchLabels: { ...(d.spec.selector?.matchLabels ?? {}), [HASH]: hash } }),
            template: tpl,
          },
        });
        record(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${newRs.metadata.name} from 0 to ${initial}`);
        setProgressing(api, dType, d, 'NewReplicaSetCreated', `Created new replica set "${newRs.metadata.name}"`);
      }
    } else if (Number(newRs.metadata.annotations?.[REVISION] ?? 0) <= maxRevision) {
      // Rolling back to an older template: it becomes the newest revision.
      const rev = String(maxRevision + 1);
      newRs =
        api.mutate(rsType, ns, newRs.metadata.name, (o) => {
          o.metadata.annotations = { ...(o.metadata.annotations ?? {}), [REVISION]: rev };
        }) ?? newRs;
    }
    const nrs = newRs;

    if (recreate) {
      for (const rs of olds()) scale(rs, 0);
      const oldPodsLeft = api.store.peek(key('', 'pods'), ns).some((p) => olds().some((rs) => isOwnedBy(p, rs)));
      if (!oldPodsLeft) scale(nrs, want);
    } else {
      // Scale up the new RS within maxSurge.
      const cur = api.peek(rsType, ns, nrs.metadata.name) ?? nrs;
      const total = all().reduce((n, rs) => n + replicasOf(rs), 0);
      if (replicasOf(cur) > want) scale(cur, want);
      else if (replicasOf(cur) < want) {
        const room = want + maxSurge - total;
        if (room > 0) scale(cur, replicasOf(cur) + Math.min(room, want - replicasOf(cur)));
      }
      // Scale down old RSs without dropping below want - maxUnavailable available pods.
      const minAvailable = want - maxUnavailable;
      const newNow = api.peek(rsType, ns, nrs.metadata.name) ?? nrs;
      const oldSorted = () =>
        olds().sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)));
      const allPods = all().reduce((n, rs) => n + replicasOf(rs), 0);
      const newUnavailable = Math.max(0, replicasOf(newNow) - availableOf(newNow));
      let cleanup = allPods - minAvailable - newUnavailable;
      for (const rs of oldSorted()) {
        if (cleanup <= 0) break;
        const unhealthy = replicasOf(rs) - availableOf(rs);
        if (unhealthy <= 0) continue;
        const by = Math.min(cleanup, unhealthy);
        scale(rs, replicasOf(rs) - by);
        cleanup -= by;
      }
      const available = all().reduce((n, rs) => n + Math.min(availableOf(rs), replicasOf(rs)), 0);
      let down = available - minAvailable;
      for (const rs of oldSorted()) {
        if (down <= 0) break;
        if (replicasOf(rs) === 0) continue;
        const by = Math.min(down, replicasOf(rs));
        scale(rs, replicasOf(rs) - by);
        down -= by;
      }
    }

    // Revision history: drop the oldest empty old RSs beyond revisionHistoryLimit.
    const limit = Number(d.spec?.revisionHistoryLimit ?? 10);
    const emptyOld = olds()
      .filter((rs) => replicasOf(rs) === 0 && Number(rs.status?.replicas ?? 0) === 0)
      .sort((a, b) => Number(a.metadata.annotations?.[REVISION] ?? 0) - Number(b.metadata.annotations?.[REVISION] ?? 0));
    for (const rs of emptyOld.slice(0, Math.max(0, emptyOld.length - limit))) {
      try {
        api.delete(rsType, ns, rs.metadata.name);
      } catch {
        // gone already
      }
    }

    rsList = all();
    const latestNew = rsList.find((rs) => rs.metadata.uid === nrs.metadata.uid);
    const rev = latestNew?.metadata.annotations?.[REVISION];
    if (rev && d.metadata.annotations?.[REVISION] !== rev) {
      api.mutate(dType, ns, name, (o) => {
        o.metadata.annotations = { ...(o.metadata.annotations ?? {}), [REVISION]: rev };
      });
    }
    writeStatus(api, dType, api.peek(dType, ns, name) ?? d, rsList, latestNew, want, maxUnavailable);
  }
}

function setProgressing(api: Api, dType: ReturnType<Api['type']>, d: Obj, reason: string, message: string): void {
  api.mutate(
    dType,
    d.metadata.namespace,
    d.metadata.name,
    (o) => {
      o.status ??= {};
      o.status.conditions = upsertCondition(o.status.conditions, { type: 'Progressing', status: 'True', reason, message });
    },
    'status',
  );
}

function upsertCondition(list: Obj[] | undefined, c: { type: string; status: string; reason: string; message: string }): Obj[] {
  const now = nowTimestamp();
  const out = [...(list ?? [])];
  const i = out.findIndex((x) => x.type === c.type);
  const prev = i >= 0 ? out[i] : undefined;
  if (prev && prev.status === c.status && prev.reason === c.reason && prev.message === c.message) return out;
  const next = { ...c, lastUpdateTime: now, lastTransitionTime: prev && prev.status === c.status ? prev.lastTransitionTime : now };
  if (i >= 0) out[i] = next;
  else out.push(next);
  return out;
}

function writeStatus(
  api: Api,
  dType: ReturnType<Api['type']>,
  d: Obj,
  rsList: Obj[],
  newRs: Obj | undefined,
  want: number,
  maxUnavailable = 0,
): void {
  const sum = (f: (rs: Obj) => number) => rsList.reduce((n, rs) => n + f(rs), 0);
  const replicas = sum((rs) => Number(rs.status?.replicas ?? 0));
  const updated = Number(newRs?.status?.replicas ?? 0);
  const ready = sum((rs) => Number(rs.status?.readyReplicas ?? 0));
  const available = sum((rs) => Number(rs.status?.availableReplicas ?? 0));
  const newObserved = !newRs || Number(newRs.status?.observedGeneration ?? 0) >= Number(newRs.metadata.generation ?? 1);
  const complete =
    newObserved && updated === want && replicas === want && available === want && Number(newRs?.spec?.replicas ?? 0) === want;
  api.mutate(
    dType,
    d.metadata.namespace,
    d.metadata.name,
    (o) => {
      const conds = o.status?.conditions as Obj[] | undefined;
      let next = upsertCondition(
        conds,
        available >= want - maxUnavailable
          ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.' }
          : {
              type: 'Available',
              status: 'False',
              reason: 'MinimumReplicasUnavailable',
              message: 'Deployment does not have minimum availability.',
            },
      );
      const prog = next.find((c) => c.type === 'Progressing');
      if (newRs && complete) {
        next = upsertCondition(next, {
          type: 'Progressing',
          status: 'True',
          reason: 'NewReplicaSetAvailable',
          message: `ReplicaSet "${newRs.metadata.name}" has successfully progressed.`,
        });
      } else if (newRs && !d.spec?.paused) {
        const deadline = Number(d.spec?.progressDeadlineSeconds ?? 600) * 1000;
        const since = Date.parse(prog?.lastUpdateTime ?? '') || Date.now();
        if (prog?.reason === 'ProgressDeadlineExceeded') {
          // stays until progress resumes with a new template
        } else if (prog?.reason === 'ReplicaSetUpdated' && Date.now() - since > deadline) {
          next = upsertCondition(next, {
            type: 'Progressing',
            status: 'False',
            reason: 'ProgressDeadlineExceeded',
            message: `ReplicaSet "${newRs.metadata.name}" has timed out progressing.`,
          });
        } else if (prog?.reason !== 'NewReplicaSetCreated' || updated > 0) {
          const msg = `ReplicaSet "${newRs.metadata.name}" is progressing.`;
          if (prog?.reason !== 'ReplicaSetUpdated' || prog?.message !== msg)
            next = upsertCondition(next, { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: msg });
        }
      }
      o.status = {
        ...(o.status ?? {}),
        observedGeneration: o.metadata.generation ?? 1,
        replicas,
        updatedReplicas: updated,
        readyReplicas: ready,
        availableReplicas: available,
        unavailableReplicas: Math.max(0, want - available),
        conditions: next,
      };
      for (const k of ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas'] as const)
        if (o.status[k] === 0) delete o.status[k];
    },
    'status',
  );
}
