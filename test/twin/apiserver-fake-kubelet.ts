/**
 * A stand-in kubelet for API server tests (the real one is another module): it binds pending pods to a
 * node, marks them Running + Ready with a loopback IP, and completes graceful deletions at once.
 * It works in-process on the object layer so the tests exercise only the API server and controllers.
 */
import type { Api } from '../../twin/apiserver/api.ts';
import { nowTimestamp } from '../../twin/apiserver/api.ts';
import type { Obj } from '../../twin/apiserver/selectors.ts';

export function startFakeKubelet(api: Api, opts: { ready?: (pod: Obj) => boolean } = {}): { stop(): void } {
  const podType = api.type('', 'pods');
  let ip = 10;
  let stopped = false;
  let scheduled = false;
  const pass = () => {
    scheduled = false;
    if (stopped) return;
    for (const p of api.store.peek('/pods')) {
      const ns = p.metadata.namespace;
      const name = p.metadata.name;
      if (p.metadata.deletionTimestamp) {
        try {
          api.delete(podType, ns, name, { gracePeriodSeconds: 0 });
        } catch {
          // gone
        }
        continue;
      }
      if (!p.spec?.nodeName) {
        api.mutate(podType, ns, name, (o) => {
          o.spec.nodeName = 'worker-a';
        });
      }
      if (p.status?.phase === 'Pending' && !p.status?.podIP) {
        const ready = opts.ready ? opts.ready(p) : true;
        const now = nowTimestamp();
        const addr = `127.0.1.${ip++ % 250}`;
        api.mutate(
          podType,
          ns,
          name,
          (o) => {
            o.status = {
              ...o.status,
              phase: 'Running',
              podIP: addr,
              podIPs: [{ ip: addr }],
              hostIP: '127.0.0.2',
              startTime: now,
              conditions: [
                { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
                { type: 'Initialized', status: 'True', lastTransitionTime: now },
                { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: now },
                { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now },
              ],
              containerStatuses: ((o.spec.containers ?? []) as Obj[]).map((c) => ({
                name: c.name,
                image: c.image,
                imageID: '',
                ready,
                started: true,
                restartCount: 0,
                state: { running: { startedAt: now } },
              })),
            };
          },
          'status',
        );
      }
    }
  };
  const unsubscribe = api.store.subscribe((e) => {
    if (e.key === '/pods' && !scheduled) {
      scheduled = true;
      setTimeout(pass, 10);
    }
  });
  const timer = setInterval(pass, 500);
  return {
    stop() {
      stopped = true;
      unsubscribe();
      clearInterval(timer);
    },
  };
}
