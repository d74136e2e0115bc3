import { randomBytes } from 'node:crypto';
import { PatchStrategy, setHeaderOptions, type CoreV1Api } from '#client-node';
import { rfc3339 } from './status.ts';

export interface InvolvedPod {
  name: string;
  namespace: string;
  uid: string;
  resourceVersion?: string;
  fieldPath?: string;
}

interface Series {
  name: string;
  namespace: string;
  count: number;
  created: Promise<boolean>;
  flushTimer?: NodeJS.Timeout;
}

/** How often a repeated event's count is written back (repeats in between are only counted). */
const REPEAT_FLUSH_MS = 1000;
const MAX_SERIES = 5000;

/**
 * Records core/v1 Events the way the kubelet's recorder does: one Event per (object, reason, message),
 * repeats bump `count` and `lastTimestamp`. Failures to write events never break the kubelet.
 */
export class EventRecorder {
  private readonly series = new Map<string, Series>();
  private closed = false;

  constructor(
    private readonly core: CoreV1Api,
    private readonly component: string,
    private readonly host?: string,
  ) {}

  record(
    pod: InvolvedPod,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    options: { component?: string; host?: string } = {},
  ): void {
    if (this.closed) return;
    const key = `${pod.uid}\u0000${pod.fieldPath ?? ''}\u0000${reason}\u0000${message}`;
    const existing = this.series.get(key);
    if (existing) {
      existing.count++;
      existing.flushTimer ??= setTimeout(() => void this.flush(existing), REPEAT_FLUSH_MS);
      existing.flushTimer.unref?.();
      return;
    }
    const now = rfc3339(new Date());
    const name = `${pod.name}.${randomBytes(8).toString('hex')}`;
    const component = options.component ?? this.component;
    const host = options.host ?? this.host;
    const body = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: pod.namespace },
      involvedObject: {
        apiVersion: 'v1',
        kind: 'Pod',
        name: pod.name,
        namespace: pod.namespace,
        uid: pod.uid,
        ...(pod.resourceVersion ? { resourceVersion: pod.resourceVersion } : {}),
        ...(pod.fieldPath ? { fieldPath: pod.fieldPath } : {}),
      },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: now,
      lastTimestamp: now,
      source: { component, ...(host ? { host } : {}) },
      reportingComponent: component,
      reportingInstance: host ?? '',
    };
    const series: Series = {
      name,
      namespace: pod.namespace,
      count: 1,
      created: this.core
        .createNamespacedEvent({ namespace: pod.namespace, body: body as never })
        .then(() => true)
        .catch(() => false),
    };
    this.series.set(key, series);
    // Forget the oldest series so a long run does not grow without bound (a repeat then starts a new Event).
    if (this.series.size > MAX_SERIES) {
      const oldest = this.series.keys().next().value;
      if (oldest !== undefined) this.series.delete(oldest);
    }
  }

  private async flush(s: Series): Promise<void> {
    s.flushTimer = undefined;
    if (this.closed || !(await s.created)) return;
    await this.core
      .patchNamespacedEvent(
        { name: s.name, namespace: s.namespace, body: { count: s.count, lastTimestamp: rfc3339(new Date()) } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      )
      .catch(() => undefined);
  }

  /** Stops writing; pending count updates are dropped. */
  close(): void {
    this.closed = true;
    for (const s of this.series.values()) if (s.flushTimer) clearTimeout(s.flushTimer);
  }
}
