/**
 * A repro bundle per crash, under `<out>/<campaign>/<cell-id>/`: bundle.json (cell, seed, suite, time, request
 * ids in flight, pod status and restartCount, the pod's events, EPP decisions around the crash), traceback.txt
 * (from `logs --previous`), decode-previous.log and replay.sh. Building the contents is pure; writing is one
 * function at the end.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CoreV1Event, V1Pod } from '#client-node';
import { countDecisions, type DecisionCounts } from '../../analysis/epp-decisions.ts';
import { parseJsonObject, peekJsonTs, splitPrefixes } from '../../analysis/log-line.ts';
import { writeFileAtomic } from '../../common/atomic-write.ts';
import { redact, redactText } from '../../core/redact.ts';
import type { DetectedCrash } from './detect.ts';
import type { ReproCell } from './matrix.ts';
import { replayCommand, replayScript, type ReplayTarget } from './replay.ts';

export const BUNDLE_FILES = {
  json: 'bundle.json',
  traceback: 'traceback.txt',
  previousLog: 'decode-previous.log',
  replay: 'replay.sh',
} as const;

/** EPP lines kept in a bundle at most. */
const MAX_EPP_LINES = 50;

export interface EppWindow {
  fromMs: number;
  toMs: number;
  counts: DecisionCounts;
  /** "Scoring decision" lines in the window (at most 50), as logged. */
  decisionLines: string[];
  /** Set when the EPP logs could not be read (no EPP in the target, ...). */
  unavailable?: string;
}

export interface PodSnapshot {
  namespace: string;
  name: string;
  uid: string;
  node?: string;
  podIP?: string;
  phase?: string;
  restartCountBefore: number;
  restartCount: number;
  containers: { name: string; ready: boolean; restartCount: number; state: unknown; lastState: unknown }[];
}

export interface EventSnapshot {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
}

export interface BundleJson {
  kind: 'pd-harness/repro-bundle';
  campaign: string;
  suiteFile: string;
  cell: ReproCell;
  /** The campaign seed, as given to `--seed`. */
  seed: number;
  cellSeed: number;
  target: string;
  /** What was set on the twin to seed the bug; null on a real cluster. */
  injected: unknown;
  detectedAt: string;
  crashedAt?: string;
  cellStartedAt: string;
  signature: {
    indexError: boolean;
    engineDead: boolean;
    exception?: string;
    frames: DetectedCrash['signature']['frames'];
  };
  traceback: { source: 'previous'; lines: number; file: string };
  /** Request ids the engine had in flight when it died (from its log; the twin logs them). */
  inFlightRequestIds: string[];
  requestCounter?: number;
  /** The harness's own requests in flight at the crash time (0-based load indexes). */
  clientRequestsInFlight: number[];
  pod: PodSnapshot;
  events: EventSnapshot[];
  eppDecisions: EppWindow;
  load: { requests: number; byStatus: Record<string, number>; errors: Record<string, number> };
  replay: string;
  files: typeof BUNDLE_FILES;
}

export function podSnapshot(pod: V1Pod, restartCountBefore: number): PodSnapshot {
  const containers = (pod.status?.containerStatuses ?? []).map((c) => ({
    name: c.name,
    ready: c.ready,
    restartCount: c.restartCount,
    state: c.state ?? {},
    lastState: c.lastState ?? {},
  }));
  return {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
    ...(pod.spec?.nodeName ? { node: pod.spec.nodeName } : {}),
    ...(pod.status?.podIP ? { podIP: pod.status.podIP } : {}),
    ...(pod.status?.phase ? { phase: pod.status.phase } : {}),
    restartCountBefore,
    restartCount: containers.reduce((n, c) => n + c.restartCount, 0),
    containers,
  };
}

function isoOf(t: unknown): string | undefined {
  if (!t) return undefined;
  const d = t instanceof Date ? t : new Date(String(t));
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** The events about one pod, oldest first. */
export function podEvents(events: readonly CoreV1Event[], podName: string): EventSnapshot[] {
  return events
    .filter((e) => e.involvedObject?.name === podName)
    .map((e) => {
      const first = isoOf(e.firstTimestamp ?? e.eventTime);
      const last = isoOf(e.lastTimestamp ?? e.eventTime);
      return {
        ...(e.type ? { type: e.type } : {}),
        ...(e.reason ? { reason: e.reason } : {}),
        ...(e.message ? { message: e.message } : {}),
        ...(e.count !== undefined ? { count: e.count } : {}),
        ...(first ? { firstTimestamp: first } : {}),
        ...(last ? { lastTimestamp: last } : {}),
      };
    })
    .sort((a, b) => (a.lastTimestamp ?? '').localeCompare(b.lastTimestamp ?? ''));
}

function lineTimeMs(line: string): number | undefined {
  const { body, prefixTs } = splitPrefixes(line);
  const ts = prefixTs ?? peekJsonTs(body);
  return ts === undefined ? undefined : ts * 1000;
}

/** EPP "Scoring decision" counts and lines between two times (lines without a time are left out). */
export function eppDecisionsInWindow(lines: readonly string[], fromMs: number, toMs: number): EppWindow {
  const inWindow = lines.filter((l) => {
    const t = lineTimeMs(l);
    return t !== undefined && t >= fromMs && t <= toMs;
  });
  const decisionLines = inWindow.filter((l) => parseJsonObject(splitPrefixes(l).body)?.msg === 'Scoring decision');
  return { fromMs, toMs, counts: countDecisions(inWindow), decisionLines: decisionLines.slice(-MAX_EPP_LINES) };
}

/** traceback.txt: where it came from, then the block as logged. */
export function tracebackText(crash: DetectedCrash): string {
  const ns = crash.pod.metadata?.namespace ?? '';
  const name = crash.pod.metadata?.name ?? '';
  const head = `# kubectl logs -n ${ns} ${name} --previous (restartCount ${crash.rise.before} -> ${crash.rise.after})`;
  const body = crash.signature.traceback.length ? crash.signature.traceback : ['(no traceback block; the log has the signature line only)'];
  return `${head}\n${body.join('\n')}\n`;
}

export interface BundleInput {
  campaign: string;
  suiteFile: string;
  cell: ReproCell;
  seed: number;
  cellSeed: number;
  target: string;
  injected: unknown;
  cellStartedAtMs: number;
  detectedAtMs: number;
  crash: DetectedCrash;
  events: readonly CoreV1Event[];
  epp: EppWindow;
  load: { requests: number; byStatus: Record<string, number>; errors: Record<string, number> };
  clientRequestsInFlight: number[];
  /** Directory the replay script changes to (the checkout). */
  cwd: string;
}

export function buildBundle(i: BundleInput): BundleJson {
  const target: ReplayTarget = { suiteFile: i.suiteFile, cellId: i.cell.id, seed: i.seed };
  const sig = i.crash.signature;
  const crashedAt = i.crash.crashedAtMs !== undefined ? new Date(i.crash.crashedAtMs).toISOString() : undefined;
  return {
    kind: 'pd-harness/repro-bundle',
    campaign: i.campaign,
    suiteFile: i.suiteFile,
    cell: i.cell,
    seed: i.seed,
    cellSeed: i.cellSeed,
    target: i.target,
    injected: i.injected ?? null,
    detectedAt: new Date(i.detectedAtMs).toISOString(),
    ...(crashedAt ? { crashedAt } : {}),
    cellStartedAt: new Date(i.cellStartedAtMs).toISOString(),
    signature: {
      indexError: sig.indexError,
      engineDead: sig.engineDead,
      ...(sig.exception ? { exception: sig.exception } : {}),
      frames: sig.frames,
    },
    traceback: { source: i.crash.logSource, lines: sig.traceback.length, file: BUNDLE_FILES.traceback },
    inFlightRequestIds: sig.inFlightRequestIds,
    ...(sig.requestCounter !== undefined ? { requestCounter: sig.requestCounter } : {}),
    clientRequestsInFlight: i.clientRequestsInFlight,
    pod: podSnapshot(i.crash.pod, i.crash.rise.before),
    events: podEvents(i.events, i.crash.pod.metadata?.name ?? ''),
    eppDecisions: i.epp,
    load: i.load,
    replay: replayCommand(target),
    files: BUNDLE_FILES,
  };
}

/** The files of a bundle by name. */
export function bundleFiles(i: BundleInput): Record<string, string> {
  const bundle = buildBundle(i);
  return {
    [BUNDLE_FILES.json]: `${JSON.stringify(bundle, null, 2)}\n`,
    [BUNDLE_FILES.traceback]: tracebackText(i.crash),
    [BUNDLE_FILES.previousLog]: redact(i.crash.previousLog),
    [BUNDLE_FILES.replay]: replayScript({ suiteFile: i.suiteFile, cellId: i.cell.id, seed: i.seed }, { cwd: i.cwd, campaign: i.campaign }),
  };
}

/** The load requests that were in flight at `atMs`: started before it and not finished by it. */
export function requestsInFlightAt(records: readonly { index: number; startMs: number; latencyMs: number }[], atMs: number): number[] {
  return records
    .filter((r) => r.startMs <= atMs && r.startMs + r.latencyMs >= atMs)
    .map((r) => r.index)
    .sort((a, b) => a - b);
}

/**
 * Writes the files into `dir` (created), each redacted and atomically (temp file + rename: a killed run
 * leaves whole files or none); replay.sh is made executable. Returns the paths written.
 */
export function writeBundle(dir: string, files: Record<string, string>): string[] {
  mkdirSync(dir, { recursive: true });
  const paths: string[] = [];
  for (const [name, text] of Object.entries(files)) {
    const path = join(dir, name);
    writeFileAtomic(path, redactText(name, text), name === BUNDLE_FILES.replay ? 0o755 : 0o644);
    paths.push(path);
  }
  return paths;
}
