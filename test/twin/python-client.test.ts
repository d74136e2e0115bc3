import { expect, test } from '@playwright/test';
import { execa } from 'execa';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { AppsV1Api } from '#client-node';
import { startApiAndKubelet, type ApiAndKubelet } from '../helpers/api-and-kubelet.ts';
import { until } from '../helpers/until.ts';

/**
 * The twin with a third real client: the official Kubernetes Python client (Debian's python3-kubernetes,
 * run by /usr/bin/python3). List with paging, watch (the client sends `watch=True`), patch, logs,
 * custom objects (with a CRD CEL refusal) and the scale subresource.
 */
test.describe.configure({ timeout: 180_000 });

const PYTHON = '/usr/bin/python3';
const NS = 'py';
const LOGGER = `let i = 0;
for (; i < 3; i++) console.log('line ' + i);
setInterval(() => {}, 1000);
`;

let t: ApiAndKubelet;

test.beforeAll(async () => {
  const probe = await execa(PYTHON, ['-c', 'import kubernetes'], { reject: false });
  if (probe.exitCode !== 0)
    throw new Error(`the Python client is missing: apt-get install python3-kubernetes (${probe.stderr.split('\n').at(-1)})`);
  t = await startApiAndKubelet('pdh-pyclient');
  await t.core.createNamespace({ body: { metadata: { name: NS } } });
  await t.core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'logger-src' }, data: { 'logger.mjs': LOGGER } } });
  await t.core.createNamespacedPod({
    namespace: NS,
    body: {
      metadata: { name: 'logger' },
      spec: {
        volumes: [{ name: 'src', configMap: { name: 'logger-src' } }],
        containers: [
          { name: 'app', image: 'node:20', command: ['node', '/app/logger.mjs'], volumeMounts: [{ name: 'src', mountPath: '/app' }] },
        ],
      },
    },
  });
  const apps = t.kc.makeApiClient(AppsV1Api);
  await apps.createNamespacedDeployment({
    namespace: NS,
    body: {
      metadata: { name: 'web' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'registry.k8s.io/pause:3.9' }] } },
      },
    },
  });
  await until(
    'logger has logged',
    async () => {
      const pod = await t.core.readNamespacedPod({ name: 'logger', namespace: NS });
      if (!pod.status?.containerStatuses?.[0]?.state?.running) return undefined;
      const logs = await t.core.readNamespacedPodLog({ name: 'logger', namespace: NS });
      return logs.includes('line 2') || undefined;
    },
    60_000,
  );
});

test.afterAll(async () => {
  await t?.stop();
});

test('the official Python client: list+paging, watch=True, patch, logs, custom objects, scale', async () => {
  const script = path.resolve('test/twin/python/k8s_client_checks.py');
  expect(existsSync(script)).toBe(true);
  const r = await execa(PYTHON, [script, t.api.kubeconfigPath, NS, 'logger'], { reject: false, timeout: 120_000 });
  expect(r.exitCode, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout);

  expect(out.list.page1).toEqual(['cm-0', 'cm-1']);
  expect(out.list.page2).toEqual(['cm-2']);
  expect(out.list.remaining).toBe(1);
  expect(out.list.continue_after_last).toBeNull();

  // watch=True is a watch stream, not a List: the events after the list's resourceVersion, in order
  expect(out.watch).toEqual([
    ['ADDED', 'watched'],
    ['DELETED', 'watched'],
  ]);

  expect(out.patch).toEqual({ data: { i: '0', j: 'x' }, labels: { set: 'py', patched: 'yes' } });

  expect(out.logs).toBe('line 1\nline 2\n');
  expect(out.logs_timestamps).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z line 2\n$/);

  expect(out.custom.defaulted).toEqual({ name: 'epp', port: { number: 9002 }, kind: 'Service', group: '', failureMode: 'FailClose' });
  expect(out.custom.ports).toEqual([8000, 8001]);
  expect(out.custom.names).toEqual(['pool']);
  expect(out.custom.refused).toEqual({
    status: 422,
    message: `InferencePool.inference.networking.k8s.io "bad" is invalid: spec.endpointPickerRef: Invalid value: "object": port is required when kind is 'Service' or unspecified (defaults to 'Service')`,
  });

  expect(out.scale).toEqual({ spec: 2, selector: 'app=web' });
});

test('query booleans as the real server decodes them: True / t / 1 are true, 0 / False are false', async () => {
  const base = `${t.api.url}/api/v1/namespaces/${NS}/configmaps`;
  const get = (q: string) =>
    execa(
      'curl',
      [
        '-sS',
        '--max-time',
        '3',
        '--cacert',
        path.join(t.stateDir, 'apiserver.crt'),
        '-H',
        `Authorization: Bearer ${t.api.token}`,
        `${base}?${q}`,
      ],
      { reject: false },
    );
  for (const v of ['True', 't', '1', 'TRUE']) {
    const r = await get(`watch=${v}&timeoutSeconds=1`);
    expect(r.stdout.split('\n')[0], `watch=${v}`).toContain('"type":"ADDED"');
  }
  for (const v of ['0', 'False', 'false']) {
    const r = await get(`watch=${v}`);
    expect(JSON.parse(r.stdout).kind, `watch=${v}`).toBe('ConfigMapList');
  }
  const bad = await get('watch=1&timeoutSeconds=soon');
  expect(JSON.parse(bad.stdout)).toMatchObject({ code: 400, message: 'strconv.ParseInt: parsing "soon": invalid syntax' });
});
