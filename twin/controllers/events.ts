/** Records core/v1 Events for what the controllers do, aggregating repeats (count, lastTimestamp). */
import { randomBytes } from 'node:crypto';
import type { Api } from '../apiserver/api.ts';
import { nowTimestamp } from '../apiserver/api.ts';
import { typeKey } from '../apiserver/resources.ts';
import type { Obj } from '../apiserver/selectors.ts';

export type Recorder = (involved: Obj, type: 'Normal' | 'Warning', reason: string, message: string) => void;

export function eventRecorder(api: Api, component: string): Recorder {
  return (involved, type, reason, message) => {
    const ns = involved.metadata?.namespace ?? 'default';
    const evType = api.registry.get('', 'events');
    if (!evType) return;
    const now = nowTimestamp();
    const same = api.store
      .peek(typeKey('', 'events'), ns)
      .find(
        (e) =>
          e.involvedObject?.uid === involved.metadata?.uid &&
          e.reason === reason &&
          e.message === message &&
          e.source?.component === component,
      );
    try {
      if (same) {
        api.mutate(evType, ns, same.metadata.name, (e) => {
          e.count = (e.count ?? 1) + 1;
          e.lastTimestamp = now;
        });
        return;
      }
      api.create(evType, ns, {
        metadata: { name: `${involved.metadata?.name}.${randomBytes(8).toString('hex')}`, namespace: ns },
        involvedObject: {
          kind: involved.kind,
          namespace: involved.metadata?.namespace,
          name: involved.metadata?.name,
          uid: involved.metadata?.uid,
          apiVersion: involved.apiVersion,
          resourceVersion: involved.metadata?.resourceVersion,
        },
        reason,
        message,
        type,
        source: { component },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
        reportingComponent: component,
        reportingInstance: '',
      });
    } catch {
      // events are best effort (e.g. the namespace is terminating)
    }
  };
}
