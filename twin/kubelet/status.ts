import { constants } from 'node:os';

/** RFC 3339 at second precision, as the API server stores timestamps. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface TerminatedState {
  exitCode: number;
  signal?: number;
  reason: string;
  message?: string;
  startedAt: string;
  finishedAt: string;
  containerID?: string;
}

export interface ContainerState {
  running?: { startedAt: string };
  waiting?: { reason: string; message?: string };
  terminated?: TerminatedState;
}

/** What the kubelet knows about one container, enough to render its containerStatus. */
export interface ContainerView {
  name: string;
  image: string;
  imageID: string;
  containerID?: string;
  ready: boolean;
  started: boolean;
  restartCount: number;
  state: ContainerState;
  lastState: ContainerState;
  /** False once the container has ended for good (restart policy says no more restarts). */
  willRestart: boolean;
}

export interface Condition {
  type: string;
  status: 'True' | 'False';
  reason?: string;
  message?: string;
  lastProbeTime: null;
  lastTransitionTime: string;
}

/** Exit code and reason of a process that ended: a signal counts as 128+N, like a container runtime reports. */
export function terminatedFromExit(
  exit: { code: number | null; signal: NodeJS.Signals | null },
  times: { startedAt: Date; finishedAt: Date },
  containerID?: string,
): TerminatedState {
  const signum = exit.signal ? (constants.signals[exit.signal] ?? 0) : undefined;
  const exitCode = exit.code ?? (signum !== undefined ? 128 + signum : 1);
  return {
    exitCode,
    ...(signum !== undefined ? { signal: signum } : {}),
    reason: exitCode === 0 ? 'Completed' : 'Error',
    startedAt: rfc3339(times.startedAt),
    finishedAt: rfc3339(times.finishedAt),
    ...(containerID ? { containerID } : {}),
  };
}

/** Where a pod's init containers are: all done, still running (names not done), or failed for good. */
export interface InitProgress {
  done: boolean;
  failed: boolean;
  incomplete: string[];
}

export const NO_INIT: InitProgress = { done: true, failed: false, incomplete: [] };

export function podPhase(
  containers: readonly ContainerView[],
  init: InitProgress = NO_INIT,
): 'Pending' | 'Running' | 'Succeeded' | 'Failed' {
  if (init.failed) return 'Failed';
  if (!init.done || containers.length === 0) return 'Pending';
  const done = containers.every((c) => c.state.terminated && !c.willRestart);
  if (done) return containers.every((c) => c.state.terminated?.exitCode === 0) ? 'Succeeded' : 'Failed';
  const everStarted = containers.some((c) => c.state.running || c.state.terminated || c.restartCount > 0 || c.lastState.terminated);
  return everStarted ? 'Running' : 'Pending';
}

/**
 * The pod conditions; each keeps its lastTransitionTime while its status does not change.
 * `since` holds the previous conditions (by type).
 */
export function podConditions(
  containers: readonly ContainerView[],
  phase: string,
  since: ReadonlyMap<string, Condition>,
  now: Date,
  init: InitProgress = NO_INIT,
): Condition[] {
  const make = (type: string, ok: boolean, reason?: string, message?: string): Condition => {
    const status = ok ? 'True' : 'False';
    const prev = since.get(type);
    return {
      type,
      status,
      ...(reason ? { reason } : {}),
      ...(message ? { message } : {}),
      lastProbeTime: null,
      lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : rfc3339(now),
    };
  };
  const unready = containers.filter((c) => !c.ready).map((c) => c.name);
  const completed = phase === 'Succeeded' || phase === 'Failed';
  const ready = unready.length === 0 && containers.length > 0 && !completed;
  const why = completed ? 'PodCompleted' : 'ContainersNotReady';
  const msg = completed ? undefined : `containers with unready status: [${unready.join(' ')}]`;
  return [
    make('PodReadyToStartContainers', true),
    init.done
      ? make('Initialized', true, completed ? 'PodCompleted' : undefined)
      : make('Initialized', false, 'ContainersNotInitialized', `containers with incomplete status: [${init.incomplete.join(' ')}]`),
    make('Ready', ready, ready ? undefined : why, ready ? undefined : msg),
    make('ContainersReady', ready, ready ? undefined : why, ready ? undefined : msg),
    make('PodScheduled', true),
  ];
}

export function containerStatus(c: ContainerView): Record<string, unknown> {
  return {
    name: c.name,
    image: c.image,
    imageID: c.imageID,
    ...(c.containerID ? { containerID: c.containerID } : {}),
    ready: c.ready,
    started: c.started,
    restartCount: c.restartCount,
    state: c.state,
    lastState: c.lastState,
  };
}
