import { expect } from '@playwright/test';
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GuardRefusal } from '../../chaos/guard.ts';
import { Cluster } from '../../cluster/driver.ts';
import { formatRecoveryReport, recoverOrphanJournals } from '../../cluster/recover.ts';
import { runFaultsPhase } from '../../runner/faults-phase.ts';
import { runSuiteLoad } from '../../runner/load.ts';
import type { RunReporter } from '../../runner/reporter.ts';
import { loadSuite, type LoadedSuite } from '../../suites/loader.ts';
import type { TwinHandle } from '../../twin/launcher.ts';
import { seedTwinTest as test } from '../helpers/seed-twin.ts';

/** The worker's twin with the seed topology (shared with other files); tests run in order and leave it as they found it. */
test.describe.configure({ mode: 'serial', timeout: 240_000 });

const NAMESPACES = ['llm-d-vllm', 'llm-d-inference-scheduler'];
/** A tsx child that loads the cluster driver says "ready": seconds on a quiet box, over a minute on a busy 2-core one. */
const CHILD_READY_MS = 150_000;
let twin: TwinHandle;
let cluster: Cluster;

test.beforeAll(async ({ seedTwin }) => {
  twin = seedTwin;
  cluster = await Cluster.connect({ kubeconfigPath: twin.kubeconfigPath });
});

test.afterAll(async () => {
  await cluster?.teardown();
});

function quietReporter(): RunReporter & { attachments: Map<string, string>; lines: string[] } {
  const attachments = new Map<string, string>();
  const lines: string[] = [];
  return {
    attachments,
    lines,
    step: async (_t, body) => body(),
    attach: async (name, body) => void attachments.set(name, body),
    log: (l) => void lines.push(l),
  };
}

/** The decode-kill suite cut down: one fault, a short load. */
function decodeKillSuite(mutate: (s: LoadedSuite['suite']) => void = () => {}): LoadedSuite {
  const loaded = loadSuite('suites/chaos-decode-kill.suite.yaml');
  const s = loaded.suite;
  s.spec.faults = s.spec.faults.slice(0, 1);
  s.spec.load = { ...s.spec.load!, rate: 3, duration: 15_000 };
  mutate(s);
  return loaded;
}

/** resourceVersion of every object in the namespaces, by kind/name. */
async function resourceVersions(): Promise<Record<string, string>> {
  const kinds: [string, string][] = [
    ['v1', 'Pod'],
    ['v1', 'Service'],
    ['v1', 'ConfigMap'],
    ['apps/v1', 'Deployment'],
    ['apps/v1', 'ReplicaSet'],
    ['inference.networking.k8s.io/v1', 'InferencePool'],
    ['gateway.networking.k8s.io/v1', 'HTTPRoute'],
    ['sim.llm-d.io/v1alpha1', 'SchedulerInstall'],
  ];
  const out: Record<string, string> = {};
  for (const ns of NAMESPACES) {
    for (const [apiVersion, kind] of kinds) {
      for (const o of await cluster.list(apiVersion, kind, ns)) {
        const meta = o.metadata as { name: string; resourceVersion: string };
        out[`${ns}/${kind}/${meta.name}`] = meta.resourceVersion;
      }
    }
  }
  return out;
}

/** A ConfigMap in llm-d-vllm, or undefined when it is not there. */
function cm(name: string) {
  return cluster.tryRead<{ data?: Record<string, string> } & Record<string, unknown>>({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    name,
    namespace: 'llm-d-vllm',
  });
}

async function podUid(name: string): Promise<string | undefined> {
  return (await cluster.listPods('llm-d-vllm', undefined, `metadata.name=${name}`))[0]?.metadata?.uid;
}

test('a pod kill under load really kills (new uid), the bare pod comes back, recovery is measured', async () => {
  const before = await podUid('vllm-decode-p2p');
  expect(before).toBeTruthy();
  const loaded = decodeKillSuite();
  const rep = quietReporter();
  const run = await Cluster.connect({ kubeconfigPath: twin.kubeconfigPath });
  try {
    const result = await runFaultsPhase(
      { cluster: run, gatewayUrl: twin.gatewayUrl, loaded, rep, twin: true, allowRemote: false },
      (hooks) => runSuiteLoad(loaded.suite.spec.load!, { gatewayUrl: twin.gatewayUrl, ...hooks }),
    );
    expect(result.problems).toEqual([]);
    expect(result.events).toHaveLength(1);
    const target = result.events[0]!.targets[0]!;
    expect(target).toMatchObject({ pod: 'vllm-decode-p2p', uidBefore: before });
    const after = await podUid('vllm-decode-p2p');
    expect(after).toBeTruthy();
    expect(after).not.toBe(before);
    expect(target.uidAfter).toBe(after);
    expect(result.recovery.recoveryMs).not.toBeNull();
    expect(result.recovery.recoveryMs!).toBeGreaterThan(0);
    expect(result.recovery.recoveredAtMs!).toBeGreaterThan(result.events[0]!.t);
    expect(result.recovery.errorRate).toBeLessThan(1);
    // the killed pod shows in the timeline: gone, then back and Ready
    const changes = result.timeline.pods.filter((p) => p.pod === 'vllm-decode-p2p');
    expect(changes.some((c) => c.change === 'deleted' || c.uid !== before)).toBe(true);
    expect(rep.attachments.get('chaos timeline.svg')).toContain('<svg');
    // the recreate action is registered (a no-op now: the pod is back)
    expect(run.cleanup.pending.some((a) => a.type === 'recreate' && a.object.name === 'vllm-decode-p2p')).toBe(true);
  } finally {
    const outcomes = await run.teardown();
    expect(outcomes.every((o) => o.ok)).toBe(true);
  }
});

test('a fault outside the guard is refused before anything happens', async () => {
  const before = await resourceVersions();
  const loaded = decodeKillSuite((s) => {
    s.spec.target.selectors = ['role=proxy'];
  });
  const run = await Cluster.connect({ kubeconfigPath: twin.kubeconfigPath });
  let loadStarted = false;
  const err = await runFaultsPhase(
    { cluster: run, gatewayUrl: twin.gatewayUrl, loaded, rep: quietReporter(), twin: true, allowRemote: false },
    async () => {
      loadStarted = true;
      throw new Error('the load must not start');
    },
  ).catch((e: Error) => e);
  expect(err).toBeInstanceOf(GuardRefusal);
  expect((err as Error).message).toMatch(
    /^refused by the target guard, nothing was touched: fault 1 \(podKill\) would act on pod\(s\) vllm-decode-p2p/,
  );
  expect((err as Error).message).not.toContain('\n');
  expect(loadStarted).toBe(false);
  expect(run.cleanup.pending).toEqual([]);
  expect(await resourceVersions()).toEqual(before);
});

test('pd-harness run --dry-run prints the plan with the pods now and changes nothing', async () => {
  const before = await resourceVersions();
  const uid = await podUid('vllm-decode-p2p');
  const res = await execa(
    process.execPath,
    ['bin/pd-harness.js', 'run', 'suites/chaos-decode-kill.suite.yaml', '--dry-run', '--kubeconfig', twin.kubeconfigPath],
    { reject: false },
  );
  expect(res.exitCode, res.stderr).toBe(0);
  expect(res.stdout).toContain('dry run of suite chaos-decode-kill');
  expect(res.stdout).toContain('1. podKill at 2s into the load, in llm-d-vllm');
  expect(res.stdout).toContain(`* vllm-decode-p2p uid ${uid}`);
  expect(res.stdout).toContain('2. podKill at 12s into the load');
  expect(res.stdout).toContain('guard: every write is inside spec.target');
  expect(await resourceVersions()).toEqual(before);

  // a suite whose guard excludes its fault: refused in one line, exit 4 (refused by the guard), still nothing changed
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-guard-'));
  try {
    const text = fs
      .readFileSync('suites/chaos-decode-kill.suite.yaml', 'utf8')
      .replace('selectors: [role=decode]', 'selectors: [role=proxy]')
      .replaceAll('../manifests/', `${path.resolve('manifests')}/`);
    const file = path.join(dir, 'guarded.suite.yaml');
    fs.writeFileSync(file, text);
    const refused = await execa(process.execPath, ['bin/pd-harness.js', 'run', file, '--dry-run', '--kubeconfig', twin.kubeconfigPath], {
      reject: false,
    });
    expect(refused.exitCode).toBe(4);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toContain(
      'refused by the target guard, nothing was touched: fault 1 (podKill) would act on pod(s) vllm-decode-p2p',
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  expect(await resourceVersions()).toEqual(before);
});

test('SIGKILL of a run: the next run finds its journal and puts back the patch and the created object', async () => {
  const ns = 'llm-d-vllm';
  const journalDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-journals-'));
  const setup = await Cluster.connect({ kubeconfigPath: twin.kubeconfigPath });
  await setup.apply([
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'chaos-journal-patched', namespace: ns }, data: { mode: 'original' } },
  ]);
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/chaos-journal-child.ts', twin.kubeconfigPath, journalDir, ns], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`child not ready within ${CHILD_READY_MS / 1000}s: ${stderr}`)), CHILD_READY_MS);
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) {
          clearTimeout(timer);
          ok();
        }
      });
      child.once('exit', (code) => fail(new Error(`child exited ${code}: ${stderr}`)));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect((await cm('chaos-journal-patched'))?.data?.mode).toBe('changed');
    expect(await cm('chaos-journal-created')).toBeTruthy();
    expect(fs.readdirSync(journalDir).filter((f) => f.endsWith('.journal.json'))).toHaveLength(1);

    const recoveries = await recoverOrphanJournals(journalDir);
    expect(recoveries).toHaveLength(1);
    expect(recoveries[0]!.outcomes.map((o) => [o.action.type, o.ok])).toEqual([
      ['delete', true],
      ['restore', true],
    ]);
    const report = formatRecoveryReport(recoveries);
    expect(report).toContain('delete ConfigMap/chaos-journal-created in llm-d-vllm');
    expect(report).toContain('restore ConfigMap/chaos-journal-patched in llm-d-vllm');
    expect((await cm('chaos-journal-patched'))?.data?.mode).toBe('original');
    await cluster.waitGone([{ apiVersion: 'v1', kind: 'ConfigMap', name: 'chaos-journal-created', namespace: ns }], 30_000);
    expect(fs.readdirSync(journalDir).filter((f) => f.endsWith('.journal.json'))).toEqual([]);
    expect(await recoverOrphanJournals(journalDir)).toEqual([]);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await setup.teardown();
    fs.rmSync(journalDir, { recursive: true, force: true });
  }
});

test('Ctrl-C of pd-harness run during the load: the created object is deleted and the patch put back before it exits', async () => {
  // generous bounds: before its first write the run plans, guards and preflights twice (CLI, then runner)
  test.setTimeout(300_000);
  const ns = 'llm-d-vllm';
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-sigint-'));
  const setup = await Cluster.connect({ kubeconfigPath: twin.kubeconfigPath });
  await setup.apply([
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'sigint-patched', namespace: ns }, data: { mode: 'original' } },
  ]);
  fs.writeFileSync(
    path.join(dir, 'created.yaml'),
    `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: sigint-created, namespace: ${ns} }\ndata: { by: sigint-test }\n`,
  );
  fs.writeFileSync(
    path.join(dir, 'sigint.suite.yaml'),
    `apiVersion: pd-harness.dev/v1
kind: Suite
metadata: { name: sigint-restore, tags: [conformance] }
spec:
  target: { namespaces: [${ns}, llm-d-inference-scheduler] }
  setup:
    - apply: { file: created.yaml }
    - patch: { ref: configmap/sigint-patched, namespace: ${ns}, merge: { data: { mode: changed } } }
  load:
    rate: 2
    duration: 120s
    request: { body: { model: Qwen/Qwen3-Coder-30B-A3B-Instruct, messages: [{ role: user, content: "sigint-{{i}}" }], max_tokens: 4 } }
  criteria:
    - responses: { status: 200, atLeast: 1 }
`,
  );
  const child = spawn(
    process.execPath,
    [
      'bin/pd-harness.js',
      'run',
      path.join(dir, 'sigint.suite.yaml'),
      '--kubeconfig',
      twin.kubeconfigPath,
      '--gateway',
      twin.gatewayUrl,
      '--output',
      path.join(dir, 'out'),
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ALLURE_RESULTS_DIR: path.join(dir, 'allure'), PD_HARNESS_SUITE: '' },
    },
  );
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((ok) => child.once('exit', (code) => ok(code)));
  try {
    // The run has made both changes and is in its 120 s load when the user presses Ctrl-C.
    await expect
      .poll(async () => [(await cm('sigint-patched'))?.data?.mode, (await cm('sigint-created'))?.data?.by], { timeout: 180_000 })
      .toEqual(['changed', 'sigint-test']);
    child.kill('SIGINT');
    const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000))]);
    expect(code, output.slice(-2000)).not.toBe('hung');
    expect(code).not.toBe(0);
    // Restored before the process ended, not by a later run's journal recovery.
    expect((await cm('sigint-patched'))?.data?.mode, output.slice(-2000)).toBe('original');
    await cluster.waitGone([{ apiVersion: 'v1', kind: 'ConfigMap', name: 'sigint-created', namespace: ns }], 30_000);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await setup.teardown();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('pd-harness run SUITE runs Playwright on the cluster and exits non-zero when a criterion fails', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chaos-run-cli-'));
  try {
    const suite = (name: string, atLeast: number) => `apiVersion: pd-harness.dev/v1
kind: Suite
metadata: { name: ${name}, tags: [conformance] }
spec:
  target: { namespaces: [llm-d-vllm, llm-d-inference-scheduler] }
  load:
    requests: 6
    concurrency: 2
    request: { body: { model: Qwen/Qwen3-Coder-30B-A3B-Instruct, messages: [{ role: user, content: "run-{{i}}" }], max_tokens: 4 } }
  criteria:
    - responses: { status: 200, atLeast: ${atLeast} }
`;
    fs.writeFileSync(path.join(dir, 'ok.suite.yaml'), suite('run-cli-ok', 6));
    fs.writeFileSync(path.join(dir, 'fail.suite.yaml'), suite('run-cli-fail', 7));
    const run = (file: string) =>
      execa(
        process.execPath,
        [
          'bin/pd-harness.js',
          'run',
          path.join(dir, file),
          '--kubeconfig',
          twin.kubeconfigPath,
          '--gateway',
          twin.gatewayUrl,
          '--output',
          path.join(dir, 'out'),
        ],
        {
          reject: false,
          env: { ALLURE_RESULTS_DIR: path.join(dir, 'allure'), PD_HARNESS_SUITE: '' },
        },
      );
    const ok = await run('ok.suite.yaml');
    expect(ok.exitCode, `${ok.stdout}\n${ok.stderr}`).toBe(0);
    expect(ok.stdout).toContain('1 passed');
    const failed = await run('fail.suite.yaml');
    expect(failed.exitCode).not.toBe(0);
    expect(failed.stdout).toContain('responses: only 6 requests got 200, expected at least 7');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
