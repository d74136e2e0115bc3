import { expect, test } from '@playwright/test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse, stringify } from '#yaml';
import { Cluster } from '../../cluster/driver.ts';
import { deployManifests } from '../../cluster/deploy.ts';
import { readManifests } from '../../cluster/manifests.ts';
import { waitCondition } from '../../cluster/observe.ts';
import { waitFor } from '../../cluster/waits.ts';
import { routeBackend } from '../../criteria/route-backend.ts';
import { consoleReporter } from '../../runner/reporter.ts';
import { eppRefServices } from '../../runner/observe.ts';
import { runSuite } from '../../runner/run-suite.ts';
import { loadSuite, type LoadedSuite } from '../../suites/loader.ts';
import { RANDOM_IP_PREFIX, startTwin, type TwinHandle } from '../../twin/launcher.ts';

/**
 * proxy-performance on the twin as the seed's cluster (instrumented EPP image) and as a stock cluster
 * (v0.4.0 image at -v=3, and at the chart's default -v=1), and the by-backend profile failing in each.
 */
test.describe.configure({ mode: 'serial', timeout: 300_000 });

let twin: TwinHandle;
let dir = '';
const quiet = { ...consoleReporter, step: <T>(_: string, body: () => Promise<T>) => body(), log: () => undefined };
const STOCK = 'ghcr.io/llm-d/llm-d-inference-scheduler:v0.4.0';

test.beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pdh-stock-epp-'));
  twin = await startTwin({ stateDir: join(dir, 'twin'), gatewayPort: 0, ipPrefix: RANDOM_IP_PREFIX });
  // the cluster has the SchedulerInstall before the runs (as in suite-run.test.ts): each run patches it and puts
  // it back, instead of creating and deleting it (and racing the garbage collector of its rendered objects)
  const pre = await Cluster.connect({ kubeconfigPath: twin.kubeconfigPath });
  await pre.apply(
    readManifests([
      resolve('manifests/namespaces.yaml'),
      resolve('manifests/crds'),
      resolve('manifests/gateway-routing/schedulerinstall-proxy-performance.yaml'),
    ]),
  );
  await waitCondition(
    pre,
    { apiVersion: 'sim.llm-d.io/v1alpha1', kind: 'SchedulerInstall', name: 'llm-sched-install', namespace: 'llm-d-inference-scheduler' },
    'Ready',
    'True',
    60_000,
  );
});
test.afterAll(async () => {
  try {
    await twin?.stop();
  } finally {
    // after the twin has stopped: its state (dir/twin) holds the kubeconfig (a bearer token)
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
});

/** The suite with its SchedulerInstall manifest replaced by one carrying spec.epp.image / verbosity. */
function variant(suiteFile: string, epp: { image?: string; verbosity?: number }): LoadedSuite {
  const loaded = loadSuite(suiteFile);
  const siFile = resolve('manifests/gateway-routing/schedulerinstall-proxy-performance.yaml');
  const si = parse(readFileSync(siFile, 'utf8')) as { spec: { epp: Record<string, unknown> } };
  Object.assign(si.spec.epp, epp);
  const out = join(dir, `si-${epp.image?.replace(/\W+/g, '-') ?? 'default'}-v${epp.verbosity ?? 'd'}.yaml`);
  writeFileSync(out, stringify(si));
  loaded.suite.spec.deploy = loaded.suite.spec.deploy.map((p) => (p === siFile ? out : p));
  expect(loaded.suite.spec.deploy).toContain(out);
  return loaded;
}

async function run(loaded: LoadedSuite) {
  const cluster = await Cluster.connect({ kubeconfigPath: twin.kubeconfigPath });
  try {
    return await runSuite({ cluster, gatewayUrl: twin.gatewayUrl, loaded, rep: quiet });
  } finally {
    expect((await cluster.teardown()).filter((o) => !o.ok)).toEqual([]);
  }
}

const MODES = [
  { title: 'instrumented image', epp: {}, source: 'source: EPP decisions (instrumented)' },
  { title: 'stock image at -v=3', epp: { image: STOCK, verbosity: 3 }, source: 'source: EPP request log (-v=3)' },
  { title: 'stock image at -v=1', epp: { image: STOCK, verbosity: 1 }, source: 'source: proxy responses' },
] as const;

for (const mode of MODES) {
  test(`proxy-performance passes with the ${mode.title}, naming the pick source`, async () => {
    const outcome = await run(variant('suites/proxy-performance.suite.yaml', mode.epp));
    expect(outcome.verdicts.filter((v) => !v.ok).map((v) => `${v.name}: ${v.summary}`)).toEqual([]);
    const chosen = outcome.verdicts.find((v) => v.name === 'proxiesChosen')!;
    expect(chosen.summary).toContain(mode.source);
    // 60 load requests (the steady-state probe can fall into the log window's first second too)
    const picks = Number(/vllm-p2p-proxy \d+ \/ vllm-fs-proxy \d+ of (\d+) picks/.exec(chosen.summary)?.[1]);
    expect(picks).toBeGreaterThanOrEqual(60);
    // the start line is the real one in every mode: eppProfile read it
    expect(outcome.verdicts.find((v) => v.name === 'eppProfile')?.summary).toContain('EPP start log');
  });

  test(`the by-backend profile fails with the ${mode.title}, naming InferencePoolResourceExhausted`, async () => {
    const outcome = await run(variant('test/fixtures/suites/broken-by-backend.suite.yaml', mode.epp));
    const starts = (outcome.observations.eppLogLines ?? []).filter((l) => l.includes('parsed config')).map((l) => l.slice(0, 400));
    expect(outcome.passed, starts.join('\n')).toBe(false);
    expect(outcome.load?.summary.byStatus, JSON.stringify(outcome.load?.records.slice(0, 2))).toEqual({ '429': 12 });
    const chosen = outcome.verdicts.find((v) => v.name === 'proxiesChosen')!;
    expect(chosen.ok).toBe(false);
    expect(chosen.summary).toContain('InferencePoolResourceExhausted');
  });
}

test('the seed topology has no ExternalName Service; an ExternalName endpointPickerRef gets ResolvedRefs=False and routeBackend fails naming it', async () => {
  const cluster = await Cluster.connect({ kubeconfigPath: twin.kubeconfigPath });
  const seed = loadSuite('suites/proxy-performance.suite.yaml').suite.spec.deploy;
  await deployManifests(cluster, seed, 180_000);
  // the operator renders the pool-namespace EPP Service: a ClusterIP Service with the EPP pod in its Endpoints
  await waitFor({
    name: 'EPP Endpoints in llm-d-vllm',
    timeoutMs: 60_000,
    probe: async () => {
      const ep = await cluster.tryRead<{ subsets?: { addresses?: unknown[] }[] }>({
        apiVersion: 'v1',
        kind: 'Endpoints',
        name: 'gaie-inference-scheduling-epp',
        namespace: 'llm-d-vllm',
      });
      const n = ep?.subsets?.[0]?.addresses?.length ?? 0;
      return { done: n > 0, state: `${n} ready address(es)` };
    },
  });
  const services = await cluster.list<{ spec?: { type?: string } }>('v1', 'Service');
  expect(services.filter((s) => s.spec?.type === 'ExternalName')).toEqual([]);

  const ns = 'llm-d-vllm';
  await cluster.apply([
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'epp-external', namespace: ns },
      spec: {
        type: 'ExternalName',
        externalName: 'gaie-inference-scheduling-epp.llm-d-inference-scheduler.svc.cluster.local',
        ports: [{ name: 'grpc', port: 9002 }],
      },
    },
    {
      apiVersion: 'inference.networking.k8s.io/v1',
      kind: 'InferencePool',
      metadata: { name: 'ext-pool', namespace: ns },
      spec: {
        selector: { matchLabels: { role: 'proxy' } },
        targetPorts: [{ number: 8080 }],
        endpointPickerRef: { name: 'epp-external', port: { number: 9002 } },
      },
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'ext-route', namespace: 'llm-d-inference-scheduler' },
      spec: {
        parentRefs: [{ name: 'infra-inference-scheduling-inference-gateway' }],
        hostnames: ['ext.example'],
        rules: [
          { backendRefs: [{ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'ext-pool', namespace: ns, port: 8080 }] },
        ],
      },
    },
  ] as never);
  type Pool = { status?: { parents?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] }[] } };
  let pool: Pool | undefined;
  await waitFor({
    name: 'ext-pool ResolvedRefs condition',
    timeoutMs: 60_000,
    probe: async () => {
      pool = await cluster.tryRead<Pool>({
        apiVersion: 'inference.networking.k8s.io/v1',
        kind: 'InferencePool',
        name: 'ext-pool',
        namespace: ns,
      });
      const c = pool?.status?.parents?.[0]?.conditions?.find((x) => x.type === 'ResolvedRefs');
      return { done: !!c, state: c ? `${c.status} ${c.reason}` : 'no status' };
    },
  });
  const resolved = pool!.status!.parents![0]!.conditions!.find((x) => x.type === 'ResolvedRefs')!;
  expect(resolved).toMatchObject({ status: 'False', reason: 'InvalidExtensionRef' });
  expect(resolved.message).toContain('ExternalName');

  const route = await cluster.read({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    name: 'ext-route',
    namespace: 'llm-d-inference-scheduler',
  });
  const pools = [pool];
  const v = routeBackend(
    { kind: 'InferencePool', route: 'ext-route' },
    { httpRoutes: [route], inferencePools: pools as never, eppRefServices: await eppRefServices(cluster, pools as never) },
  );
  expect(v.ok).toBe(false);
  expect(v.summary).toContain('ExternalName');
  expect(v.summary).toContain('ext-pool');
  expect((await cluster.teardown()).filter((o) => !o.ok)).toEqual([]);
});
