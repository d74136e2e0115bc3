import { decodeIndexErrorSpec, errorRateSpec, latencySpec } from './schemas.ts';
import { defineFault } from './types.ts';
import { isLoopbackHost } from '../../load/loopback.ts';
import type { IndexErrorTrigger } from '../../suites/schema.ts';
import { formatDuration } from '../../suites/durations.ts';
import { httpPort, livePods } from '../pods.ts';
import type { PodInfo } from '../types.ts';
import { candidatesOf, faultAs, forHowLong } from './common.ts';
import type { FaultContext, FaultOutcome, FaultPlan, FaultPlanContext, FaultWriteContext } from './types.ts';

/**
 * Faults the twin's vLLM simulator injects itself: `POST /_twin/faults` on the pod's port 8000 replaces its
 * fault config. The previous config is read first and put back after the load.
 */

type FaultConfig = Record<string, unknown>;

async function faultsUrl(ctx: FaultContext, pod: PodInfo): Promise<string> {
  if (!pod.podIP) throw new Error(`pod ${pod.name} has no IP yet`);
  if (!isLoopbackHost(pod.podIP))
    throw new Error(`pod ${pod.name} is at ${pod.podIP}, not on loopback: twin fault endpoints are for the twin only`);
  const full = (await ctx.cluster.listPods(pod.namespace, undefined, `metadata.name=${pod.name}`))[0];
  return `http://${pod.podIP}:${full ? httpPort(full) : 8000}/_twin/faults`;
}

async function readConfig(url: string, timeoutMs: number): Promise<FaultConfig> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return (await res.json()) as FaultConfig;
}

async function writeConfig(url: string, config: FaultConfig, timeoutMs: number): Promise<FaultConfig> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(config),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) throw new Error(`POST ${url}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
  return readConfig(url, timeoutMs);
}

/** Sets `patch` on every pod; returns per-pod undo and what each pod read back. */
async function inject(
  ctx: FaultContext,
  patch: FaultConfig,
): Promise<{ undo: () => Promise<void>; readBack: { pod: PodInfo; config: FaultConfig }[] }> {
  const applied: { pod: PodInfo; url: string; before: FaultConfig }[] = [];
  const readBack: { pod: PodInfo; config: FaultConfig }[] = [];
  const callMs = ctx.cluster.timeouts.simFaultCall;
  for (const pod of ctx.pods) {
    const url = await faultsUrl(ctx, pod);
    const before = await readConfig(url, callMs);
    applied.push({ pod, url, before });
    readBack.push({ pod, config: await writeConfig(url, { ...before, ...patch }, callMs) });
  }
  let undone = false;
  return {
    readBack,
    undo: async () => {
      if (undone) return;
      undone = true;
      for (const a of applied) {
        // a pod that restarted or went away has lost the fault with its process
        await writeConfig(a.url, a.before, callMs).catch(() => undefined);
      }
    },
  };
}

function indexErrorConfig(trigger: IndexErrorTrigger): FaultConfig {
  if (trigger === 'abortedKv') return { onAbortedKv: true };
  if ('afterRequests' in trigger) return { afterRequests: trigger.afterRequests };
  return { probability: trigger.probability, seed: trigger.seed };
}

function baseEvent(ctx: FaultContext, detail: string) {
  return {
    t: Date.now(),
    fault: ctx.planned.index,
    kind: ctx.planned.kind,
    targets: ctx.pods.map((p) => ({ pod: p.name, uidBefore: p.uid }) as { pod: string; uidBefore?: string; uidAfter?: string }),
    detail,
  };
}

/** Twin: arm the IndexError trigger; verified by a restart of at least one pod. Real cluster: nothing injected. */
export async function decodeIndexError(ctx: FaultContext): Promise<FaultOutcome> {
  const f = faultAs(ctx.planned.fault, 'decodeIndexError');
  if (!ctx.twin) {
    return {
      event: baseEvent(ctx, 'real cluster: nothing injected; the load pattern is what may provoke the IndexError'),
      verify: async () => undefined,
      restored: async () => undefined,
    };
  }
  const restartsBefore = new Map(ctx.pods.map((p) => [p.uid, p.restartCount]));
  const { undo } = await inject(ctx, { indexError: indexErrorConfig(f.trigger) });
  const event = baseEvent(ctx, `armed the IndexError trigger ${JSON.stringify(indexErrorConfig(f.trigger))} on ${ctx.pods.length} pod(s)`);
  ctx.log(`decodeIndexError: ${event.detail}`);
  return {
    event,
    undo,
    async restored() {
      const now = await livePods(ctx.cluster, ctx.planned.namespace, ctx.planned.selector);
      const restarted = now.filter((p) => p.restartCount > (restartsBefore.get(p.uid) ?? Infinity));
      if (restarted.length === 0) return 'no decode pod has crashed and restarted yet';
      return now.every((p) => p.ready) ? undefined : 'a decode pod is not Ready again';
    },
    async verify() {
      const now = await livePods(ctx.cluster, ctx.planned.namespace, ctx.planned.selector);
      const restarted = now.filter((p) => p.restartCount > (restartsBefore.get(p.uid) ?? Infinity));
      for (const target of event.targets) target.uidAfter = now.find((p) => p.name === target.pod)?.uid ?? '';
      return restarted.length
        ? undefined
        : `decodeIndexError: no decode pod's restartCount rose: the IndexError did not fire (did enough requests reach it?)`;
    },
  };
}

async function timedInjection(
  ctx: FaultContext,
  patch: FaultConfig,
  durationMs: number | undefined,
  detail: string,
): Promise<FaultOutcome> {
  const { undo, readBack } = await inject(ctx, patch);
  const timer = durationMs !== undefined ? setTimeout(() => void undo(), durationMs) : undefined;
  const missing = readBack.filter((r) => Object.entries(patch).some(([k, v]) => JSON.stringify(r.config[k]) !== JSON.stringify(v)));
  ctx.log(`${ctx.planned.kind}: ${detail}`);
  return {
    event: baseEvent(ctx, detail),
    undo: async () => {
      if (timer) clearTimeout(timer);
      await undo();
    },
    restored: async () => undefined,
    verify: async () =>
      missing.length ? `${ctx.planned.kind}: ${missing.map((m) => m.pod.name).join(', ')} did not take the fault config` : undefined,
  };
}

export async function latency(ctx: FaultContext): Promise<FaultOutcome> {
  const f = faultAs(ctx.planned.fault, 'latency');
  if (!ctx.twin) throw new Error(ctx.planned.refusal ?? 'latency needs the twin');
  return timedInjection(
    ctx,
    { addLatencyMs: f.add },
    f.duration,
    `+${formatDuration(f.add)} latency on ${ctx.pods.map((p) => p.name).join(', ')}`,
  );
}

export async function errorRate(ctx: FaultContext): Promise<FaultOutcome> {
  const f = faultAs(ctx.planned.fault, 'errorRate');
  if (!ctx.twin) throw new Error(ctx.planned.refusal ?? 'errorRate needs the twin');
  return timedInjection(
    ctx,
    { errorRate: { status: f.status, rate: f.rate } },
    f.duration,
    `${Math.round(f.rate * 100)}% ${f.status} on ${ctx.pods.map((p) => p.name).join(', ')}`,
  );
}

export { livePods };

/**
 * Every matching pod gets the fault. `onTwin` / `offTwin` say what a reader should know on each target; a fault
 * that only the twin's endpoint can inject is refused elsewhere (`offTwin.refusal`).
 */
async function planTwinFault(
  f: { namespace: string; selector: string },
  ctx: FaultPlanContext,
  action: string,
  on: { onTwin?: string; offTwin: { note: string } | { refusal: string } },
): Promise<FaultPlan> {
  const candidates = await candidatesOf(ctx.cluster, f.namespace, f.selector);
  const plan: FaultPlan = { selector: f.selector, candidates, chosen: candidates, action };
  if (!ctx.twin) Object.assign(plan, on.offTwin);
  else if (on.onTwin) plan.note = on.onTwin;
  return plan;
}

function describeIndexErrorTrigger(trig: IndexErrorTrigger): string {
  if (trig === 'abortedKv') return 'when a KV block arrives for an aborted request';
  return 'afterRequests' in trig ? `after ${trig.afterRequests} requests` : `with probability ${trig.probability} (seed ${trig.seed})`;
}

const MESH_INSTEAD = "use the twin simulators' fault endpoint; on a real cluster use a service mesh fault instead";

/** No API write: the twin simulators' fault endpoint of the matching pods. */
function endpointWrites(f: { selector: string }, w: FaultWriteContext) {
  return [w.pods(`fault endpoint of the pods ${f.selector} (twin simulators; no API write)`, ['list'])];
}

export const decodeIndexErrorFault = defineFault(decodeIndexErrorSpec, {
  plan: (f, ctx) =>
    planTwinFault(f, ctx, `decode IndexError ${describeIndexErrorTrigger(f.trigger)}`, {
      onTwin: "twin: POST the trigger to each pod's /_twin/faults",
      offTwin: {
        note: 'real cluster: nothing is injected; the load pattern (concurrency, prompt length, client timeout) is what may provoke the IndexError',
      },
    }),
  writes: endpointWrites,
  inject: decodeIndexError,
});
export const latencyFault = defineFault(latencySpec, {
  plan: (f, ctx) =>
    planTwinFault(f, ctx, `add ${formatDuration(f.add)} latency${forHowLong(f.duration)}`, {
      offTwin: { refusal: `latency faults ${MESH_INSTEAD}` },
    }),
  writes: endpointWrites,
  inject: latency,
});
export const errorRateFault = defineFault(errorRateSpec, {
  plan: (f, ctx) =>
    planTwinFault(f, ctx, `answer ${Math.round(f.rate * 100)}% of requests with ${f.status}${forHowLong(f.duration)}`, {
      offTwin: { refusal: `errorRate faults ${MESH_INSTEAD}` },
    }),
  writes: endpointWrites,
  inject: errorRate,
});
