import type { Cluster } from '../cluster/driver.ts';
import { podDiagnostics } from '../cluster/observe.ts';
import { TimeoutError } from '../core/errors.ts';
import { formatTimeout, type TimeoutName } from '../core/timeouts.ts';
import { compileTemplate } from '../load/builtin/template.ts';
import { assertLoadTarget } from '../load/loopback.ts';
import type { LoadSpec, SteadyStateCheck, Suite } from '../suites/schema.ts';
import { livePods } from './pods.ts';

export interface SteadyStateResult {
  ok: boolean;
  /** One line per check that failed. */
  problems: string[];
  /** A failure waiting cannot change (the EPP rejects every request: InferencePoolResourceExhausted). */
  hopeless?: string;
  /** The pods a podsReady check found not Ready: what a failed wait explains (their events and last log lines). */
  unready: { namespace: string; name: string }[];
}

/**
 * The EPP's rejection when its filters leave no endpoint: 429 `InferencePoolResourceExhausted` (kubernetes-sigs/
 * gateway-api-inference-extension v1.2.0 pkg/epp/requestcontrol/director.go: errutil.InferencePoolResourceExhausted
 * "failed to find target pod", mapped to 429 in pkg/epp/handlers/server.go; the twin's EPP: twin/sims/epp/service.ts). A profile that filters every pod out answers it to every request,
 * so a probe that expects another status will not succeed by waiting.
 */
export const RESOURCE_EXHAUSTED = 'InferencePoolResourceExhausted';

/** Consecutive hopeless rounds after which waiting stops (one could be a pod not yet in the EPP's datastore). */
export const HOPELESS_ROUNDS = 3;

export interface SteadyStateOptions {
  cluster: Cluster;
  gatewayUrl: string;
  allowRemote: boolean;
}

/** The suite's steady-state checks; a suite without any gets "all pods Ready" in each target namespace. */
export function steadyStateChecks(suite: Suite): SteadyStateCheck[] {
  if (suite.spec.steadyState.length) return suite.spec.steadyState;
  return suite.spec.target.namespaces.map((namespace) => ({ podsReady: { namespace } }));
}

export function describeCheck(check: SteadyStateCheck): string {
  if ('podsReady' in check) return `pods ${check.podsReady.selector ?? '(all)'} Ready in ${check.podsReady.namespace}`;
  const p = check.probe;
  return `probe ${p.method ?? 'POST'} ${p.path ?? '(load path)'} → ${p.status}`;
}

/** Runs every check once. */
export async function checkSteadyState(
  checks: readonly SteadyStateCheck[],
  load: LoadSpec | undefined,
  opts: SteadyStateOptions,
): Promise<SteadyStateResult> {
  const problems: string[] = [];
  const unready: SteadyStateResult['unready'] = [];
  let hopeless: string | undefined;
  for (const check of checks) {
    const problem = await runCheck(check, load, opts, unready).catch(
      (err: Error) => `${describeCheck(check)}: ${err.message.split('\n')[0]}`,
    );
    if (problem) problems.push(problem);
    if (
      problem &&
      'probe' in check &&
      check.probe.status !== 429 &&
      problem.includes(' answered 429') &&
      problem.includes(RESOURCE_EXHAUSTED)
    )
      hopeless ??= problem;
  }
  return { ok: problems.length === 0, problems, unready, ...(hopeless ? { hopeless } : {}) };
}

async function runCheck(
  check: SteadyStateCheck,
  load: LoadSpec | undefined,
  opts: SteadyStateOptions,
  unready: SteadyStateResult['unready'],
): Promise<string | undefined> {
  if ('podsReady' in check) {
    const { namespace, selector } = check.podsReady;
    // a pod that ran to completion (a Job's: k6-operator's initializer and starter in the load namespace) is done,
    // not unready: `kubectl get pods` shows it Completed, and no workload of the namespace waits on it
    const pods = (await livePods(opts.cluster, namespace, selector)).filter((p) => !p.completed);
    if (pods.length === 0) return `no pod ${selector ?? ''} in ${namespace}`.replace('  ', ' ');
    const notReady = pods.filter((p) => !p.ready);
    for (const p of notReady) unready.push({ namespace, name: p.name });
    return notReady.length ? `not Ready in ${namespace}: ${notReady.map((p) => p.name).join(', ')}` : undefined;
  }
  const probe = check.probe;
  const base = load?.request;
  const render = compileTemplate({
    method: probe.method ?? base?.method ?? 'POST',
    path: probe.path ?? base?.path ?? '/v1/chat/completions',
    headers: { ...(base?.headers ?? {}), ...(probe.headers ?? {}) },
    ...(probe.body !== undefined ? { body: probe.body } : base?.body !== undefined ? { body: base.body } : {}),
  });
  const req = render(0);
  const url = assertLoadTarget(opts.gatewayUrl, opts.allowRemote);
  const res = await fetch(new URL(req.path, url), {
    method: req.method,
    headers: req.headers,
    ...(req.body !== undefined ? { body: req.body } : {}),
    signal: AbortSignal.timeout(probe.timeout),
  });
  const text = await res.text();
  return res.status === probe.status
    ? undefined
    : `probe ${req.method} ${req.path} answered ${res.status}, expected ${probe.status}: ${text.slice(0, 160).replace(/\s+/g, ' ')}`;
}

/**
 * Polls the checks until they all hold (returns the epoch ms when they did) or the deadline passes
 * (returns undefined, with the last problems in `last`), or stops at once (`stoppedBecause`) when the EPP
 * answers a probe with 429 InferencePoolResourceExhausted HOPELESS_ROUNDS times in a row.
 */
export async function waitSteadyState(
  checks: readonly SteadyStateCheck[],
  load: LoadSpec | undefined,
  opts: SteadyStateOptions & { deadlineMs: number; intervalMs?: number; signal?: AbortSignal },
): Promise<{ heldAtMs?: number; last: SteadyStateResult; stoppedBecause?: string }> {
  let last: SteadyStateResult = { ok: false, problems: ['not checked yet'], unready: [] };
  let hopelessRounds = 0;
  for (let i = 0; i < 100_000; i++) {
    if (opts.signal?.aborted) break;
    last = await checkSteadyState(checks, load, opts);
    if (last.ok) return { heldAtMs: Date.now(), last };
    hopelessRounds = last.hopeless ? hopelessRounds + 1 : 0;
    if (last.hopeless && hopelessRounds >= HOPELESS_ROUNDS) {
      return {
        last,
        stoppedBecause: `the EPP rejects every request with 429 ${RESOURCE_EXHAUSTED} (its profile filters out every pod): waiting cannot change it: ${last.hopeless}`,
      };
    }
    if (Date.now() >= opts.deadlineMs) break;
    await new Promise((r) => setTimeout(r, Math.min(opts.intervalMs ?? 500, Math.max(0, opts.deadlineMs - Date.now()))));
  }
  return { last };
}

/**
 * Steady state must hold within `within` ms (`before`: "before the load", "before the fault"): returns the epoch ms
 * when it held. Else it fails with what it last saw and, for pods that were not Ready, why (`kubectl describe`'s
 * last events, e.g. "Readiness probe failed: ...", and their last log lines), quoted from the cluster: a wait that
 * timed out says what to look at. Stops at once when waiting cannot help (InferencePoolResourceExhausted).
 */
export async function requireSteadyState(
  checks: readonly SteadyStateCheck[],
  load: LoadSpec | undefined,
  opts: SteadyStateOptions & { within: number; timeoutName: TimeoutName; before: string },
): Promise<number> {
  const r = await waitSteadyState(checks, load, { ...opts, deadlineMs: Date.now() + opts.within });
  if (r.stoppedBecause) throw new Error(`steady state cannot hold ${opts.before}: ${r.stoppedBecause}`);
  if (r.heldAtMs !== undefined) return r.heldAtMs;
  const why = await unreadyDiagnostics(opts.cluster, r.last.unready).catch((err: Error) => `(diagnostics failed: ${err.message})`);
  throw new TimeoutError(
    `steady state did not hold ${opts.before} within ${formatTimeout(opts.within)} (timeout ${opts.timeoutName}): ${r.last.problems.join('; ')}` +
      (why ? `\n${why}` : ''),
    { timeoutName: opts.timeoutName },
  );
}

/** The events and last log lines of pods found not Ready (as the cluster shows them now), per namespace. */
async function unreadyDiagnostics(cluster: Cluster, unready: SteadyStateResult['unready']): Promise<string> {
  const out: string[] = [];
  for (const namespace of new Set(unready.map((u) => u.namespace))) {
    const names = new Set(unready.filter((u) => u.namespace === namespace).map((u) => u.name));
    const pods = (await cluster.listPods(namespace)).filter((p) => names.has(p.metadata?.name ?? ''));
    const text = await podDiagnostics(cluster, pods);
    if (text) out.push(text);
  }
  return out.join('\n');
}
