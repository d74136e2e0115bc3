import { expect } from '@playwright/test';
import { checkSteadyState } from '../../chaos/steady-state.ts';
import { Cluster } from '../../cluster/driver.ts';
import { waitFor } from '../../cluster/waits.ts';
import { twinTest as test } from '../../fixtures/twin.ts';

/*
 * Steady state "pods Ready in a namespace" leaves out pods that ran to completion (phase Succeeded, `kubectl get
 * pods` shows Completed): k6-operator's initializer and starter Job pods in the load namespace are done, not
 * unready, so a chaos suite on --engine k6-operator can recover. A pod that failed still counts as not Ready.
 */
const NS = 'steady-completed';
const pod = (name: string, code: number) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: NS },
  spec: {
    restartPolicy: 'Never',
    containers: [
      {
        name: 'c',
        image: 'node:20',
        command: ['node', '/programs/exit.mjs', String(code)],
        volumeMounts: [{ name: 'programs', mountPath: '/programs' }],
      },
    ],
    volumes: [{ name: 'programs', configMap: { name: 'programs' } }],
  },
});

test('podsReady ignores Completed pods and still counts Failed ones', async ({ twin }) => {
  const cluster = await Cluster.connect({ kubeconfigPath: twin.kubeconfigPath });
  try {
    await cluster.apply([
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'programs', namespace: NS },
        data: { 'exit.mjs': 'process.exit(Number(process.argv[2]));' },
      },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'serving', namespace: NS },
        spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.9' }] },
      },
      pod('initializer', 0),
    ]);
    const phase = async (name: string) => (await cluster.listPods(NS)).find((p) => p.metadata?.name === name)?.status?.phase;
    await waitFor({
      name: 'initializer Succeeded',
      timeoutMs: 60_000,
      probe: async () => ({ done: (await phase('initializer')) === 'Succeeded', state: String(await phase('initializer')) }),
    });
    const check = [{ podsReady: { namespace: NS } }];
    const opts = { cluster, gatewayUrl: twin.gatewayUrl, allowRemote: false };
    await expect.poll(async () => (await checkSteadyState(check, undefined, opts)).problems, { timeout: 60_000 }).toEqual([]);

    await cluster.apply([pod('broken', 1)]);
    await waitFor({
      name: 'broken Failed',
      timeoutMs: 60_000,
      probe: async () => ({ done: (await phase('broken')) === 'Failed', state: String(await phase('broken')) }),
    });
    expect((await checkSteadyState(check, undefined, opts)).problems).toEqual([`not Ready in ${NS}: broken`]);
  } finally {
    await cluster.teardown();
  }
});
