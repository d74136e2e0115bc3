/**
 * Crash detection for the decode IndexError (facts.md §3). Pure over pod objects and log text:
 * a crash is a decode pod whose restartCount rose during the cell, and whose previous container log holds
 * `IndexError: index out of range in self` and/or `EngineDeadError`. The I/O wrapper at the bottom reads
 * pods and `logs --previous` through the cluster driver.
 */
import { DEFAULT_TIMEOUTS, formatTimeout } from '../../core/timeouts.ts';
import type { V1Pod } from '#client-node';
import type { Cluster } from '../../cluster/driver.ts';
import { podLogs } from '../../cluster/observe.ts';
import { restartCount } from '../../cluster/pods.ts';

export const INDEX_ERROR = 'IndexError: index out of range in self';
export const ENGINE_DEAD = 'EngineDeadError';

export interface PodRestarts {
  name: string;
  uid: string;
  restartCount: number;
}

export interface RestartRise {
  pod: string;
  uid: string;
  before: number;
  after: number;
}

export interface TracebackFrame {
  file: string;
  line: number;
  func: string;
}

export interface CrashSignature {
  indexError: boolean;
  engineDead: boolean;
  /** The exception line that ends the traceback, e.g. `IndexError: index out of range in self`. */
  exception?: string;
  /** The EngineCore traceback block as logged (prefixes kept), from `Traceback (most recent call last):` to the exception. */
  traceback: string[];
  frames: TracebackFrame[];
  /** From the twin's `in-flight request ids: ...` line (a real vLLM does not log it). */
  inFlightRequestIds: string[];
  requestCounter?: number;
}

export function snapshotRestarts(pods: readonly V1Pod[]): PodRestarts[] {
  return pods.map((p) => ({ name: p.metadata?.name ?? '?', uid: p.metadata?.uid ?? '', restartCount: restartCount(p) }));
}

/**
 * Pods whose restartCount went up between two snapshots. A pod with a new uid is a different pod (deleted and
 * recreated), not a restart in place, and is left out; so is a pod that was not there before.
 */
export function restartsRose(before: readonly PodRestarts[], after: readonly PodRestarts[]): RestartRise[] {
  const out: RestartRise[] = [];
  for (const a of after) {
    const b = before.find((x) => x.name === a.name && x.uid === a.uid);
    if (b && a.restartCount > b.restartCount) out.push({ pod: a.name, uid: a.uid, before: b.restartCount, after: a.restartCount });
  }
  return out;
}

/** When the previous container ended (lastState.terminated.finishedAt), epoch ms. */
export function lastTerminatedAt(pod: V1Pod): number | undefined {
  let latest: number | undefined;
  for (const cs of pod.status?.containerStatuses ?? []) {
    const t = cs.lastState?.terminated?.finishedAt;
    if (!t) continue;
    const ms = new Date(t as unknown as string).getTime();
    if (Number.isFinite(ms) && (latest === undefined || ms > latest)) latest = ms;
  }
  return latest;
}

// `(EngineCore_DP0 pid=109) ERROR 11-25 02:10:11 [core.py:866] ` and similar vLLM prefixes.
const VLLM_PREFIX =
  /^(?:\([A-Za-z0-9_]+ pid=\d+\)\s+)?(?:(?:DEBUG|INFO|WARNING|ERROR|CRITICAL)\s+\d{2}-\d{2} \d{2}:\d{2}:\d{2}\s+\[[^\]]*\]\s?)?/;
// kubectl --timestamps prefix.
const TS_PREFIX = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})\s/;

/** The message part of a vLLM log line. */
export function messageOf(line: string): string {
  return line.replace(TS_PREFIX, '').replace(VLLM_PREFIX, '');
}

const FRAME = /^\s*File "([^"]+)", line (\d+), in (\S+)/;
const IN_FLIGHT = /in-flight request ids:\s*(.*)$/;
const COUNTER = /request counter:\s*(\d+)/;

/**
 * Reads the crash signature out of a (previous container's) log. The traceback is the last
 * `Traceback (most recent call last):` block that ends in the IndexError; without one, the last block that
 * ends in an EngineDeadError. Undefined when the log holds neither signature.
 */
export function parseCrashLog(text: string): CrashSignature | undefined {
  const lines = text.split(/\r?\n/);
  const messages = lines.map(messageOf);
  const indexError = messages.some((m) => m.includes(INDEX_ERROR));
  const engineDead = messages.some((m) => m.includes(ENGINE_DEAD));
  if (!indexError && !engineDead) return undefined;

  const endAt = lastIndex(messages, (m) => m.includes(INDEX_ERROR)) ?? lastIndex(messages, (m) => m.includes(ENGINE_DEAD));
  let traceback: string[] = [];
  let exception: string | undefined;
  if (endAt !== undefined) {
    exception = messages[endAt]!.trim();
    const startAt = lastIndex(messages.slice(0, endAt + 1), (m) => m.trim() === 'Traceback (most recent call last):');
    traceback = lines.slice(startAt ?? endAt, endAt + 1);
  }
  const frames: TracebackFrame[] = [];
  for (const line of traceback) {
    const m = FRAME.exec(messageOf(line));
    if (m) frames.push({ file: m[1]!, line: Number(m[2]), func: m[3]! });
  }

  let inFlightRequestIds: string[] = [];
  let requestCounter: number | undefined;
  const summaryAt = lastIndex(messages, (m) => IN_FLIGHT.test(m));
  if (summaryAt !== undefined) {
    const m = messages[summaryAt]!;
    inFlightRequestIds = (IN_FLIGHT.exec(m)?.[1] ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const c = COUNTER.exec(m);
    if (c) requestCounter = Number(c[1]);
  }
  return {
    indexError,
    engineDead,
    ...(exception ? { exception } : {}),
    traceback,
    frames,
    inFlightRequestIds,
    ...(requestCounter !== undefined ? { requestCounter } : {}),
  };
}

function lastIndex<T>(items: readonly T[], pred: (t: T) => boolean): number | undefined {
  for (let i = items.length - 1; i >= 0; i--) if (pred(items[i]!)) return i;
  return undefined;
}

export interface DetectedCrash {
  rise: RestartRise;
  pod: V1Pod;
  /** The previous container's log, as `kubectl logs --previous` gives it. */
  previousLog: string;
  /** Where the log came from: always the previous container for a crash the harness reports. */
  logSource: 'previous';
  signature: CrashSignature;
  /** When the crashed container ended (epoch ms), if the pod says. */
  crashedAtMs?: number;
}

/** A restart that is not the IndexError (OOM, probe failure, ...): reported, but not a reproduction. */
export interface OtherRestart {
  rise: RestartRise;
  reason: string;
}

/** Sorts restarts into crashes with the signature and other restarts. Pure. */
export function classifyRestarts(
  rises: readonly RestartRise[],
  pods: readonly V1Pod[],
  previousLogs: ReadonlyMap<string, string>,
): { crashes: DetectedCrash[]; others: OtherRestart[] } {
  const crashes: DetectedCrash[] = [];
  const others: OtherRestart[] = [];
  for (const rise of rises) {
    const pod = pods.find((p) => p.metadata?.name === rise.pod);
    const log = previousLogs.get(rise.pod);
    if (!pod || log === undefined) {
      others.push({ rise, reason: 'previous container log unavailable' });
      continue;
    }
    const signature = parseCrashLog(log);
    if (!signature) {
      const term = pod.status?.containerStatuses?.find((c) => c.lastState?.terminated)?.lastState?.terminated;
      others.push({
        rise,
        reason: `no IndexError/EngineDeadError in the previous log${term ? ` (exit ${term.exitCode}, ${term.reason ?? 'no reason'})` : ''}`,
      });
      continue;
    }
    const crashedAtMs = lastTerminatedAt(pod);
    crashes.push({ rise, pod, previousLog: log, logSource: 'previous', signature, ...(crashedAtMs !== undefined ? { crashedAtMs } : {}) });
  }
  return { crashes, others };
}

// ---------------------------------------------------------------------------------------------
// I/O

export async function readRestarts(
  cluster: Cluster,
  namespace: string,
  selector: string,
): Promise<{ pods: V1Pod[]; restarts: PodRestarts[] }> {
  const pods = (await cluster.listPods(namespace, selector)).filter((p) => !p.metadata?.deletionTimestamp);
  return { pods, restarts: snapshotRestarts(pods) };
}

/**
 * Signs that a pod's container ended since `sinceMs`: its last termination is that recent, or it is not
 * running now (CrashLoopBackOff back-off, terminated). The restartCount rises only when the kubelet starts the
 * container again, which after a few crashes is up to the back-off cap (10 s on the twin, 5 min on Kubernetes)
 * later. `finishedAt` has second precision, so the comparison is on whole seconds.
 */
export function endedSince(pod: V1Pod, sinceMs: number): boolean {
  const finished = lastTerminatedAt(pod);
  if (finished !== undefined && finished >= Math.floor(sinceMs / 1000) * 1000) return true;
  return (pod.status?.containerStatuses ?? []).some((c) => !!c.state?.terminated || !!c.state?.waiting);
}

/**
 * Polls the decode pods for `settleMs` for a sign of a crash; when a container ended, waits (up to
 * `restartWaitMs`) for its restart, so `logs --previous` holds the crashed container. Then reads the previous
 * log of every restarted pod and classifies it.
 */
export async function detectCrashes(
  cluster: Cluster,
  opts: {
    namespace: string;
    selector: string;
    before: readonly PodRestarts[];
    sinceMs: number;
    settleMs: number;
    restartWaitMs?: number;
    intervalMs?: number;
  },
): Promise<{ crashes: DetectedCrash[]; others: OtherRestart[] }> {
  const interval = opts.intervalMs ?? 250;
  const settleDeadline = Date.now() + opts.settleMs;
  let restartDeadline: number | undefined;
  let pods: V1Pod[] = [];
  let rises: RestartRise[] = [];
  let pending: string[] = [];
  for (let i = 0; i < 100_000; i++) {
    const now = await readRestarts(cluster, opts.namespace, opts.selector);
    pods = now.pods;
    rises = restartsRose(opts.before, now.restarts);
    const risen = new Set(rises.map((r) => r.pod));
    pending = pods.filter((p) => endedSince(p, opts.sinceMs) && !risen.has(p.metadata?.name ?? '')).map((p) => p.metadata?.name ?? '?');
    if (pending.length > 0) {
      restartDeadline ??= Date.now() + (opts.restartWaitMs ?? DEFAULT_TIMEOUTS.reproRestart);
      if (Date.now() >= restartDeadline) break;
    } else if (rises.length > 0 || Date.now() >= settleDeadline) {
      break;
    }
    await new Promise((r) => setTimeout(r, interval));
  }
  const logs = new Map<string, string>();
  for (const rise of rises) {
    try {
      logs.set(rise.pod, await podLogs(cluster, opts.namespace, rise.pod, { previous: true }));
    } catch {
      // no previous log (the pod was replaced meanwhile): classified as another restart
    }
  }
  const result = classifyRestarts(rises, pods, logs);
  for (const name of pending) {
    result.others.push({
      rise: { pod: name, uid: '', before: -1, after: -1 },
      reason: `container ended but was not restarted within ${formatTimeout(opts.restartWaitMs ?? DEFAULT_TIMEOUTS.reproRestart)} (timeout reproRestart)`,
    });
  }
  return result;
}
