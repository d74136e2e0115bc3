import { expect } from '@playwright/test';
import { Cluster } from '../../cluster/driver.ts';
import { namespaceEvents } from '../../cluster/observe.ts';
import { waitFor } from '../../cluster/waits.ts';
import { twinTest as test } from '../../fixtures/twin.ts';
import { programPod } from '../helpers/program-pod.ts';

/*
 * The twin's kubelet probes pods from the twin host's event loop, here this Playwright worker's. A real kubelet is
 * a process of its own: a pod that answers its probes stays Ready however busy the test runner is. So a held-up
 * twin host must not turn answered probes into failures (twin/runtime/fair-deadline.ts). Before that, a loop held
 * past the probes' 1 s deadline made the kubelet time out answers already waiting in their sockets, and three in a
 * row made a serving pod not Ready: a suite then saw its Service refuse connections (ECONNREFUSED on the address of
 * a Service without ready pods) while the pod served.
 */
const NS = 'probe-host-stall';
const SERVER = `
import http from 'node:http';
// /health takes 0.3 s (well within the probe's 1 s), so that a probe is in flight most of the time
http.createServer((req, res) => (req.url === '/health' ? setTimeout(() => res.end('ok'), 300) : res.end('ok'))).listen(8000);
process.on('SIGTERM', () => process.exit(0));
`;

/** Holds this process's event loop (the twin host's) for `ms`, as a busy test runner on a saturated box would. */
function holdLoop(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    /* busy */
  }
}

test('a held-up twin host does not fail the probes of a pod that answered them', async ({ twin }) => {
  const cluster = await Cluster.connect({ kubeconfigPath: twin.kubeconfigPath });
  try {
    await cluster.apply(
      programPod(NS, 'serving', SERVER, {
        // probed every 0.2 s in the twin (periodSeconds 1 x PD_TWIN_PROBE_TIME_SCALE 0.2), 1 s deadline
        readinessProbe: { httpGet: { path: '/health', port: 'http' }, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 3 },
        livenessProbe: { tcpSocket: { port: 'http' }, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 3 },
      }),
    );
    const ready = async (): Promise<boolean> => {
      const pod = await cluster.core.readNamespacedPod({ name: 'serving', namespace: NS });
      return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
    };
    await waitFor({
      name: 'pod serving Ready',
      timeoutMs: 60_000,
      probe: async () => {
        const ok = await ready();
        return { done: ok, state: ok ? 'Ready' : 'not Ready' };
      },
    });
    const unhealthy = async (): Promise<string[]> =>
      (await namespaceEvents(cluster, NS)).filter((e) => e.reason === 'Unhealthy').map((e) => `${e.message ?? ''} (x${e.count ?? 1})`);
    // probes before the server listened were refused, as a kubelet records them too: only new failures count
    const before = await unhealthy();

    // Seven holds of 1.2 s with a moment between them for the timers and the sockets. A probe is in flight ~60% of
    // the time (0.3 s answer, 0.2 s period), so most holds begin with one in flight: its answer arrives during the
    // hold and its 1 s deadline passes during it. Without fair deadlines that made at least one failure in all but
    // ~0.4^7 of runs (and three in a row make the pod not Ready).
    for (let i = 0; i < 7; i++) {
      holdLoop(1200);
      await new Promise((r) => setTimeout(r, 30));
    }
    // let the probes that were in flight finish and the kubelet record what it saw
    await new Promise((r) => setTimeout(r, 2000));

    expect(await unhealthy()).toEqual(before);
    expect(await ready()).toBe(true);
    const pod = await cluster.core.readNamespacedPod({ name: 'serving', namespace: NS });
    expect(pod.status?.containerStatuses?.[0]?.restartCount).toBe(0);
  } finally {
    await cluster.teardown();
  }
});
