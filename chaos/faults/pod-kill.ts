import { podKillSpec } from './schemas.ts';
import { defineFault } from './types.ts';
import { stripServerFields } from '../../cluster/patches.ts';
import { keyOf } from '../../cluster/cleanup.ts';
import { formatDuration } from '../../suites/durations.ts';
import { candidatesOf, faultAs, manifestFor } from './common.ts';
import { livePods } from '../pods.ts';
import { choosePods, describeMode } from '../select.ts';
import type { FaultContext, FaultOutcome, FaultPlan, FaultPlanContext, FaultSettings, FaultWriteContext } from './types.ts';

/**
 * Deletes the chosen pods (grace 0 unless the suite gives one: on the twin the kubelet SIGKILLs the
 * process group). A bare pod is registered for re-creation from its manifest before it is deleted, and
 * re-created as soon as it is gone, so recovery can be measured; a Deployment's pods come back by themselves.
 */
export async function podKill(ctx: FaultContext): Promise<FaultOutcome> {
  const { cluster, planned } = ctx;
  const pk = faultAs(planned.fault, 'podKill');
  const victims = choosePods(ctx.pods, pk.mode, planned.seed ?? 0);
  const grace = pk.gracePeriod === undefined ? 0 : Math.ceil(pk.gracePeriod / 1000);
  const t = Date.now();
  const bare = victims.filter((p) => !p.ownerKind);
  for (const pod of bare) {
    const manifest = manifestFor(ctx.manifests, pod);
    if (!manifest) throw new Error(`bare pod ${pod.name} has no manifest to re-create it from`);
    cluster.cleanup.add({
      type: 'recreate',
      object: { ...(stripServerFields(manifest as never) as Record<string, unknown>), ...keyOf(manifest) },
    });
  }
  await Promise.all(victims.map((p) => cluster.deletePod(p.namespace, p.name, grace)));
  ctx.log(`podKill: deleted ${victims.map((p) => p.name).join(', ')} (grace ${grace}s)`);
  for (const pod of bare) {
    const manifest = manifestFor(ctx.manifests, pod)!;
    await cluster.waitGone([keyOf(manifest)], cluster.timeouts.podGone, 'podGone');
    await cluster.objects.create(stripServerFields(manifest as never) as never);
    ctx.log(`podKill: re-created bare pod ${pod.name} from its manifest`);
  }
  const event = {
    t,
    fault: planned.index,
    kind: 'podKill' as const,
    targets: victims.map((p) => ({ pod: p.name, uidBefore: p.uid }) as { pod: string; uidBefore?: string; uidAfter?: string }),
    detail: `${pk.gracePeriod === undefined ? 'SIGKILL (grace 0)' : `delete, grace ${formatDuration(pk.gracePeriod)}`} of ${victims.length}/${ctx.pods.length} pod(s)${bare.length ? `; re-created ${bare.map((p) => p.name).join(', ')}` : ''}`,
  };
  const expected = ctx.pods.length;
  return {
    event,
    async restored() {
      const now = await livePods(cluster, planned.namespace, planned.selector);
      const old = now.filter((p) => victims.some((v) => v.uid === p.uid));
      if (old.length) return `${old.map((p) => p.name).join(', ')} not yet gone`;
      if (now.length < expected) return `${now.length}/${expected} pods ${planned.selector} back`;
      const notReady = now.filter((p) => !p.ready);
      return notReady.length ? `${notReady.map((p) => p.name).join(', ')} not Ready` : undefined;
    },
    async verify() {
      const now = new Map<string, string>();
      for (const ns of new Set(victims.map((v) => v.namespace))) for (const p of await livePods(cluster, ns)) now.set(p.uid, p.name);
      const survivors: string[] = [];
      for (const target of event.targets) {
        if (now.has(target.uidBefore!)) survivors.push(`${target.pod} (uid ${target.uidBefore})`);
        const replacement = [...now.entries()].find(([, name]) => name === target.pod);
        if (replacement) target.uidAfter = replacement[0];
      }
      return survivors.length ? `podKill: ${survivors.join(', ')} still running with the same uid: the kill did not happen` : undefined;
    },
  };
}

/** The seeded pick among the matching pods; refused when a bare pod has no manifest to re-create it from. */
export async function planPodKill(pk: FaultSettings<'podKill'>, ctx: FaultPlanContext): Promise<FaultPlan> {
  const candidates = await candidatesOf(ctx.cluster, pk.namespace, pk.selector);
  const how = pk.gracePeriod === undefined ? 'SIGKILL (delete, grace 0)' : `delete with grace ${formatDuration(pk.gracePeriod)}`;
  const plan: FaultPlan = {
    selector: pk.selector,
    candidates,
    chosen: choosePods(candidates, pk.mode, ctx.seed),
    seed: ctx.seed,
    action: `${how}: mode ${describeMode(pk.mode)} of the pods ${pk.selector}`,
  };
  const bare = candidates.filter((p) => !p.ownerKind);
  const noManifest = bare.filter((p) => !manifestFor(ctx.manifests, p));
  if (noManifest.length) {
    plan.refusal = `bare pod(s) ${noManifest.map((p) => p.name).join(', ')} have no manifest in spec.deploy: a killed bare pod could not be re-created`;
  } else if (bare.length) {
    plan.note = `bare pods are re-created from the suite's manifests right after the kill`;
  }
  return plan;
}

function podKillWrites(pk: FaultSettings<'podKill'>, w: FaultWriteContext) {
  return [
    w.pods(`delete the pods ${pk.selector} the fault picks (bare pods are re-created from their manifest)`, ['list', 'delete', 'create']),
  ];
}

export const podKillFault = defineFault(podKillSpec, { plan: planPodKill, writes: podKillWrites, inject: podKill });
