import { expect } from '@playwright/test';
import { requireSteadyState } from '../../chaos/steady-state.ts';
import { Cluster } from '../../cluster/driver.ts';
import { namespaceEvents } from '../../cluster/observe.ts';
import { waitFor } from '../../cluster/waits.ts';
import { TimeoutError } from '../../core/errors.ts';
import { twinTest as test } from '../../fixtures/twin.ts';
import { programPod } from '../helpers/program-pod.ts';

/*
 * A steady state that does not hold says why: for each pod a podsReady check found not Ready, its last events
 * (the kubelet's "Readiness probe failed: HTTP probe failed with statuscode: 503", reason Unhealthy, as
 * kubernetes/kubernetes pkg/kubelet/prober/prober.go records it) and its last log lines, the way a timed-out
 * rollout wait quotes them. Without them a chaos run that fails before its fault says only "not Ready: a, b".
 */
const NS = 'steady-diagnostics';
const SERVER = `
import http from 'node:http';
console.log('warming up: model weights not loaded');
http.createServer((req, res) => { res.statusCode = 503; res.end('loading'); }).listen(8000);
process.on('SIGTERM', () => process.exit(0));
`;

test('steady state that does not hold quotes the unready pods events and last log lines', async ({ twin }) => {
  const cluster = await Cluster.connect({ kubeconfigPath: twin.kubeconfigPath });
  try {
    await cluster.apply(
      programPod(NS, 'warming', SERVER, { name: 'vllm', readinessProbe: { httpGet: { path: '/health', port: 'http' }, periodSeconds: 1 } }),
    );
    // wait (not on a clock) until the kubelet has recorded the 503 (an earlier probe may have found the port closed)
    await waitFor({
      name: 'an Unhealthy event for warming with the 503',
      timeoutMs: 60_000,
      probe: async () => {
        const events = (await namespaceEvents(cluster, NS)).filter(
          (e) => e.involvedObject?.name === 'warming' && e.message?.includes('503'),
        );
        return { done: events.length > 0, state: `${events.length} Unhealthy event(s)` };
      },
    });

    const failure = await requireSteadyState([{ podsReady: { namespace: NS } }], undefined, {
      cluster,
      gatewayUrl: twin.gatewayUrl,
      allowRemote: false,
      within: 0,
      timeoutName: 'steadyStateBeforeFault',
      before: 'before the fault',
    }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(TimeoutError);
    const [first, ...details] = (failure as TimeoutError).message.split('\n');
    expect(first).toBe(
      `steady state did not hold before the fault within 0ms (timeout steadyStateBeforeFault): not Ready in ${NS}: warming`,
    );
    expect((failure as TimeoutError).timeoutName).toBe('steadyStateBeforeFault');
    expect(details).toContainEqual(
      expect.stringMatching(/^ {2}event Warning Unhealthy( \(x\d+\))?: Readiness probe failed: HTTP probe failed with statuscode: 503$/),
    );
    expect(details).toContain('    warming up: model weights not loaded');
    expect(details[0]).toMatch(/^--- warming /);
  } finally {
    expect((await cluster.teardown()).filter((o) => !o.ok)).toEqual([]);
  }
});
