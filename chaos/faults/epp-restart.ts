import { eppRestartSpec } from './schemas.ts';
import { defineFault } from './types.ts';
import { parseRef } from '../../cluster/refs.ts';
import { livePods } from '../pods.ts';
import { deploymentSelector } from '../pods.ts';
import { candidatesOf, faultAs } from './common.ts';
import type { FaultContext, FaultOutcome, FaultPlan, FaultPlanContext, FaultSettings, FaultWriteContext } from './types.ts';

/** Rollout restart of the EPP Deployment, or a kill (delete, grace 0) of its pods. Verified: every old pod replaced. */
export async function eppRestart(ctx: FaultContext): Promise<FaultOutcome> {
  const { cluster, planned } = ctx;
  const er = faultAs(planned.fault, 'eppRestart');
  const ref = parseRef(er.ref, er.namespace);
  const before = ctx.pods;
  const t = Date.now();
  if (er.how === 'rollout') await cluster.rolloutRestart(er.namespace, ref.name);
  else await Promise.all(before.map((p) => cluster.deletePod(p.namespace, p.name, 0)));
  ctx.log(`eppRestart: ${er.how === 'rollout' ? `rollout restart of ${er.ref}` : `killed ${before.map((p) => p.name).join(', ')}`}`);
  const event = {
    t,
    fault: planned.index,
    kind: 'eppRestart' as const,
    targets: before.map((p) => ({ pod: p.name, uidBefore: p.uid }) as { pod: string; uidBefore?: string; uidAfter?: string }),
    detail: er.how === 'rollout' ? `rollout restart ${er.ref}` : `kill (grace 0) of ${before.length} EPP pod(s)`,
  };
  return {
    event,
    async restored() {
      const now = planned.selector ? await livePods(cluster, er.namespace, planned.selector) : [];
      if (now.some((p) => before.some((b) => b.uid === p.uid))) return 'old EPP pod still running';
      if (now.length < before.length) return `${now.length}/${before.length} EPP pods back`;
      return now.every((p) => p.ready) ? undefined : 'new EPP pod not Ready';
    },
    async verify() {
      const now = planned.selector ? await livePods(cluster, er.namespace, planned.selector) : [];
      const old = now.filter((p) => before.some((b) => b.uid === p.uid));
      const fresh = now.filter((p) => !before.some((b) => b.uid === p.uid));
      event.targets.forEach((target, i) => {
        const after = fresh[i];
        if (after) target.uidAfter = after.uid;
      });
      if (old.length) return `eppRestart: ${old.map((p) => p.name).join(', ')} still running: the EPP pod was not replaced`;
      if (fresh.length === 0) return `eppRestart: no EPP pod running after the restart`;
      return undefined;
    },
  };
}

/** The pods of the EPP Deployment (its selector read from the cluster); a note when it is not there. */
export async function planEppRestart(er: FaultSettings<'eppRestart'>, ctx: FaultPlanContext): Promise<FaultPlan> {
  const ref = parseRef(er.ref, er.namespace);
  const selector = ctx.cluster ? await deploymentSelector(ctx.cluster, er.namespace, ref.name) : undefined;
  const candidates = await candidatesOf(ctx.cluster, er.namespace, selector);
  return {
    ...(selector !== undefined ? { selector } : {}),
    candidates,
    chosen: candidates,
    action: er.how === 'rollout' ? `rollout restart ${er.ref}` : `kill the pod(s) of ${er.ref} (delete, grace 0)`,
    ...(ctx.cluster && selector === undefined ? { note: `${er.ref} not found in ${er.namespace}` } : {}),
  };
}

function eppRestartWrites(er: FaultSettings<'eppRestart'>, w: FaultWriteContext) {
  return er.how === 'rollout'
    ? [w.ref(er.ref, ['get', 'patch'], 'rollout restart (a pod-template annotation)')]
    : [w.pods(`delete the pods of ${er.ref}`, ['list', 'delete'])];
}

export const eppRestartFault = defineFault(eppRestartSpec, { plan: planEppRestart, writes: eppRestartWrites, inject: eppRestart });
