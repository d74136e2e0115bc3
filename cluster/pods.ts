import type { V1Pod } from '#client-node';

/** Pure helpers over Pod objects: readiness, a one-line state, what a wait should give up on. */
export function isPodReady(pod: V1Pod): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

const HOPELESS = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError']);

export function podProblem(pod: V1Pod): string | undefined {
  for (const cs of pod.status?.containerStatuses ?? []) {
    const reason = cs.state?.waiting?.reason;
    if (reason && HOPELESS.has(reason))
      return `${pod.metadata?.name}: ${reason}${cs.state?.waiting?.message ? ` (${cs.state.waiting.message})` : ''}`;
  }
  return undefined;
}

export function podState(pod: V1Pod): string {
  const name = pod.metadata?.name ?? '?';
  if (pod.metadata?.deletionTimestamp) return `${name} Terminating`;
  const waiting = pod.status?.containerStatuses?.find((c) => c.state?.waiting)?.state?.waiting?.reason;
  const restarts = (pod.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
  const ready = isPodReady(pod) ? 'Ready' : 'not ready';
  return `${name} ${waiting ?? pod.status?.phase ?? 'Pending'} ${ready}${restarts ? ` restarts=${restarts}` : ''}`;
}

export function restartCount(pod: V1Pod): number {
  return (pod.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
}
