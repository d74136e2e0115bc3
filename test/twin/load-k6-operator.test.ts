import { expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../../cli/errors.ts';
import { Cluster } from '../../cluster/driver.ts';
import { readManifests } from '../../cluster/manifests.ts';
import { K6_OPERATOR_MISSING, runK6Operator } from '../../load/k6-operator/runner.ts';
import { runnerSelector } from '../../load/k6-operator/testrun.ts';
import { waitFor } from '../../cluster/waits.ts';
import { RANDOM_IP_PREFIX, startTwin, type TwinHandle } from '../../twin/launcher.ts';

// k6-operator runner against the twin, whose TestRun controller (twin/controllers/testrun.ts) does what
// k6-operator does: initializer Job, runner Jobs with --execution-segment, starter Job, stages; the grafana/k6
// image runs pd-harness's built-in k6 runtime. The load goes to a small loopback server in this process.

const SCRIPT = path.resolve('k6/gateway-load.ts');
const NS = 'default';

test.describe('k6-operator runner on the twin', () => {
  test.describe.configure({ mode: 'serial', timeout: 120_000 });

  let dir: string;
  let twin: TwinHandle;
  let cluster: Cluster;
  let server: http.Server;
  let gateway: string;
  let answer = 200;
  let served = 0;

  test.beforeAll(async () => {
    test.setTimeout(120_000);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'load-k6op-'));
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        served++;
        res.writeHead(answer, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer === 200 ? { id: `chatcmpl-${served}`, object: 'chat.completion', choices: [] } : { error: 'nope' }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    gateway = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    twin = await startTwin({ stateDir: path.join(dir, 'twin'), port: 0, gatewayPort: 0, ipPrefix: RANDOM_IP_PREFIX });
    cluster = await Cluster.connect({ kubeconfigPath: twin.kubeconfigPath });
  });

  test.afterAll(async () => {
    await cluster?.teardown().catch(() => undefined);
    await twin?.stop();
    await new Promise((r) => server?.close(r));
    server?.closeAllConnections();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('without the TestRun CRD: one line saying k6-operator is missing', async () => {
    // the twin serves the CRD from the start; take it away as on a cluster without k6-operator
    const crd = { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'testruns.k6.io' } };
    await cluster.objects.delete(crd);
    await cluster.waitGone([{ apiVersion: crd.apiVersion, kind: crd.kind, name: crd.metadata.name }], 10_000);
    const err = await runK6Operator({ cluster, script: SCRIPT, gatewayUrl: gateway, env: { REQUESTS: '2', VUS: '1' } }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toBe(K6_OPERATOR_MISSING);
    // nothing was created
    expect(await cluster.list('v1', 'ConfigMap', NS, 'app.kubernetes.io/managed-by=pd-harness')).toHaveLength(0);
  });

  test('a TestRun goes through its stages; runner logs become the result; everything it made is deleted', async () => {
    await cluster.apply(readManifests([path.resolve('manifests/crds/k6.io_testruns.yaml')]));
    answer = 200;
    const before = served;
    const lines: string[] = [];
    const result = await runK6Operator({
      cluster,
      script: SCRIPT,
      gatewayUrl: gateway,
      env: { SCENARIO: 'seed', REQUESTS: '20', VUS: '4', TIMEOUT: '5s' },
      timeoutMs: 60_000,
      log: (l) => lines.push(l),
    });
    expect(result.engine).toBe('k6-operator');
    expect(result.records).toHaveLength(20);
    expect(served - before).toBe(20);
    expect(result.summary.byStatus).toEqual({ '200': 20 });
    expect(result.records.map((r) => r.index)).toEqual([...Array(20).keys()]);
    expect(result.records.every((r) => r.tags?.['name'] === 'chat-completions' && r.latencyMs > 0)).toBe(true);
    // the runner Job's `--tag instance_id=1` (k6-operator runner.go) is on every point
    expect(new Set(result.records.map((r) => r.tags?.['instance_id']))).toEqual(new Set(['1']));
    expect(result.thresholds?.length).toBeGreaterThan(0);
    expect(result.thresholds?.every((t) => t.ok)).toBe(true);
    const name = /TestRun default\/(\S+) created/.exec(lines[0] ?? '')?.[1] ?? '';
    expect(name).not.toBe('');
    // the controller's events on the TestRun: its stages and the Jobs it made, in order
    const events = (await cluster.list('v1', 'Event', NS)) as {
      metadata?: { resourceVersion?: string };
      involvedObject?: { name?: string; kind?: string };
      reason?: string;
      message?: string;
    }[];
    const mine = events
      .filter((e) => e.involvedObject?.kind === 'TestRun' && e.involvedObject.name === name)
      .sort((a, b) => Number(a.metadata?.resourceVersion) - Number(b.metadata?.resourceVersion));
    expect(mine.filter((e) => e.reason === 'Stage').map((e) => e.message)).toEqual(
      ['initialization', 'initialized', 'created', 'started', 'stopped', 'finished'].map((s) => `stage ${s}`),
    );
    expect(mine.filter((e) => e.reason === 'JobCreated').map((e) => e.message)).toEqual([
      `created Job ${name}-initializer`,
      `created Job ${name}-1`,
      `created Job ${name}-starter`,
    ]);
    // the runner deleted its ConfigMap and TestRun; the runner pods went with the TestRun (owner references)
    expect(await cluster.tryRead({ apiVersion: 'k6.io/v1alpha1', kind: 'TestRun', name, namespace: NS })).toBeUndefined();
    expect(await cluster.tryRead({ apiVersion: 'v1', kind: 'ConfigMap', name: `${name}-script`, namespace: NS })).toBeUndefined();
    expect(await cluster.listPods(NS, runnerSelector(name))).toHaveLength(0);
  });

  test('parallelism 2: two runner pods share the iterations and their points are merged', async () => {
    answer = 200;
    const before = served;
    const result = await runK6Operator({
      cluster,
      script: SCRIPT,
      gatewayUrl: gateway,
      parallelism: 2,
      env: { REQUESTS: '15', VUS: '4' },
      timeoutMs: 60_000,
    });
    expect(result.records).toHaveLength(15);
    expect(served - before).toBe(15);
    expect(result.summary.byStatus).toEqual({ '200': 15 });
    expect(result.thresholds?.every((t) => t.ok)).toBe(true);
    // --execution-segment 0:1/2 and 1/2:1: k6 stripes shared iterations 8 + 7
    const perRunner = new Map<string, number>();
    for (const r of result.records) perRunner.set(r.tags?.['instance_id'] ?? '?', (perRunner.get(r.tags?.['instance_id'] ?? '?') ?? 0) + 1);
    expect(Object.fromEntries(perRunner)).toEqual({ '1': 8, '2': 7 });
  });

  test('crossed thresholds (every response 500) are a result whose thresholds failed, not an error', async () => {
    answer = 500;
    try {
      const result = await runK6Operator({
        cluster,
        script: SCRIPT,
        gatewayUrl: gateway,
        env: { REQUESTS: '6', VUS: '2' },
        timeoutMs: 60_000,
      });
      expect(result.summary.byStatus).toEqual({ '500': 6 });
      const failed = (result.thresholds ?? []).filter((t) => !t.ok).map((t) => `${t.metric}: ${t.expression}`);
      expect(failed).toEqual(expect.arrayContaining(['http_req_failed: rate<0.01', 'checks: rate>0.99', 'gateway_ok: rate>0.99']));
    } finally {
      answer = 200;
    }
  });

  test('a runner whose script throws in its init code: one line with its exit code and the error', async () => {
    const script = path.join(dir, 'init-throws.js');
    fs.writeFileSync(
      script,
      "import http from 'k6/http';\nthrow new Error('boom in init');\nexport default function () { http.get('http://127.0.0.1:1/'); }\n",
    );
    const err = await runK6Operator({ cluster, script, gatewayUrl: gateway, timeoutMs: 60_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    const msg = (err as Error).message;
    expect(msg).not.toContain('\n');
    expect(msg).toMatch(/^k6-operator: runner pod \S+ of TestRun \S+ failed \(exit 107\): .*boom in init$/);
  });

  test('a script the initializer cannot load (unsupported import): stage error naming the initializer', async () => {
    const script = path.join(dir, 'bad-import.js');
    fs.writeFileSync(script, "import grpc from 'k6/net/grpc';\nexport default function () { new grpc.Client(); }\n");
    const err = await runK6Operator({ cluster, script, gatewayUrl: gateway, timeoutMs: 60_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as Error).message).toMatch(
      /^k6-operator: TestRun \S+ ended in stage error \(InitializerFailed: initializer Job \S+-initializer failed/,
    );
    expect(await cluster.list('k6.io/v1alpha1', 'TestRun', NS)).toHaveLength(0);
  });

  test('stage error (runner image the cluster cannot pull): one line with the reason', async () => {
    const err = await runK6Operator({
      cluster,
      script: SCRIPT,
      gatewayUrl: gateway,
      env: { REQUESTS: '2' },
      runnerImage: 'example.com/k6-custom:1',
      timeoutMs: 60_000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    const msg = (err as Error).message;
    expect(msg).not.toContain('\n');
    expect(msg).toMatch(/^k6-operator: TestRun \S+ ended in stage error \((ErrImagePull|ImagePullBackOff): /);
    expect(await cluster.list('k6.io/v1alpha1', 'TestRun', NS)).toHaveLength(0);
  });
  test('spec.cleanup: post: the controller deletes the finished TestRun itself, its Jobs and pods with it', async () => {
    answer = 200;
    const before = served;
    const name = 'cleanup-post';
    const script = `import http from 'k6/http';\nexport const options = { vus: 1, iterations: 3 };\nexport default function () { http.get('${gateway}/'); }\n`;
    await cluster.apply([
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${name}-script`, namespace: NS }, data: { 'test.js': script } },
      {
        apiVersion: 'k6.io/v1alpha1',
        kind: 'TestRun',
        metadata: { name, namespace: NS },
        spec: { parallelism: 1, cleanup: 'post', script: { configMap: { name: `${name}-script`, file: 'test.js' } } },
      },
    ]);
    const key = { apiVersion: 'k6.io/v1alpha1', kind: 'TestRun', name, namespace: NS };
    await waitFor({
      name: 'TestRun cleanup-post deleted by its controller',
      timeoutMs: 60_000,
      probe: async () => ({ done: !(await cluster.tryRead(key)), state: 'present' }),
    });
    expect(served - before).toBe(3);
    await waitFor({
      name: 'its Jobs gone',
      timeoutMs: 30_000,
      probe: async () => {
        const left = (await cluster.list('batch/v1', 'Job', NS)).filter((j) => j.metadata?.name?.startsWith(name));
        return { done: left.length === 0, state: `${left.length} left` };
      },
    });
    // the garbage collector deletes the Jobs' pods after the Jobs (Background propagation), and each pod takes its
    // graceful deletion (the kubelet stops it and tears its volumes down before the object goes)
    await waitFor({
      name: 'its runner pods gone',
      timeoutMs: 30_000,
      probe: async () => {
        const left = await cluster.listPods(NS, runnerSelector(name));
        return { done: left.length === 0, state: `${left.length} left: ${left.map((p) => p.metadata?.name).join(', ')}` };
      },
    });
  });
});
