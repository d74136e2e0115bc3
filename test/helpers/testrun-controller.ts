/**
 * A TEST DOUBLE for k6-operator (k6-operator and the grafana/k6 image cannot run here). It is an ordinary
 * Kubernetes client of the twin's API server, like the real operator is of a cluster: it watches TestRuns
 * (k6.io/v1alpha1), moves `status.stage` through initialization -> initialized -> created -> started ->
 * finished (or error), and creates one runner pod per `spec.parallelism` with the real operator's labels
 * (app=k6, k6_cr=<testrun>, runner=true, job-name=<testrun>-<i>), container `k6`, the script ConfigMap
 * mounted at /test, restartPolicy Never, and an owner reference to the TestRun (so deleting it removes them).
 *
 * Where it differs from the real operator, on purpose:
 * - bare pods instead of Jobs (the twin has no Job controller); no initializer (`k6 inspect`) or starter pod:
 *   the initializer's checks are done here (ConfigMap and file present), runners start unpaused;
 * - the runner runs the k6 stand-in (test/bin/k6) with `node` in a `node:*` image, not grafana/k6, through a
 *   small entry program (ConfigMap `<testrun>-standin-entry`, mounted at /k6-standin) that gives the stand-in
 *   what it lacks of k6: `--out json=-` (points to stdout) becomes a temp file copied to stdout at exit;
 * - the stand-in has no `--execution-segment`: with parallelism N, the runners' `-e REQUESTS/VUS/RATE` are
 *   divided among them instead (what k6's execution segments do to shared-iterations / arrival rate).
 */
import { CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, Watch, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { fileURLToPath } from 'node:url';
import { splitArguments } from '../../load/k6-operator/args.ts';
import { RUNNER_CONTAINER, SCRIPT_MOUNT, runnerJobName, runnerLabels, runnerSelector, type Stage } from '../../load/k6-operator/testrun.ts';

export const K6_STANDIN = fileURLToPath(new URL('../bin/k6', import.meta.url));

export interface TestRunControllerOptions {
  kubeconfigPath: string;
  /** The k6 program the runner pods run with node (default: the stand-in test/bin/k6). */
  k6Program?: string;
  image?: string;
  /** Extra env of every runner pod (e.g. K6_STANDIN_FAULT for fault tests). */
  runnerEnv?: Record<string, string>;
  log?: (line: string) => void;
}

export interface TestRunController {
  /** Stages each TestRun went through, in order (`ns/name` -> stages). */
  readonly stages: ReadonlyMap<string, Stage[]>;
  stop(): Promise<void>;
}

interface TestRun {
  metadata: { name: string; namespace: string; uid: string; deletionTimestamp?: string };
  spec?: {
    parallelism?: number;
    runner?: { image?: string; env?: { name: string; value?: string }[] };
    arguments?: string;
    script?: { configMap?: { name?: string; file?: string } };
  };
  status?: { stage?: Stage };
}

const GROUP = 'k6.io';
const ENTRY_MOUNT = '/k6-standin';
const ENTRY_FILE = 'k6-entry.mjs';

/** Runs `node K6 ARGS...` with `--out json=-` / `--out json` sent to a file, then copies the file to stdout. */
export const ENTRY_PROGRAM = `import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
const [k6, ...args] = process.argv.slice(2);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'k6-runner-'));
const file = path.join(dir, 'points.json');
const mapped = [];
for (let i = 0; i < args.length; i++) {
  const next = args[i + 1];
  if ((args[i] === '--out' || args[i] === '-o') && (next === 'json' || next === 'json=-')) { mapped.push('--out', 'json=' + file); i++; }
  else mapped.push(args[i]);
}
const child = spawn(process.execPath, [k6, ...mapped], { stdio: ['ignore', 'inherit', 'inherit'] });
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => {
  let points = '';
  try { points = fs.readFileSync(file, 'utf8'); } catch {}
  fs.rmSync(dir, { recursive: true, force: true });
  const status = code ?? (signal ? 128 + (os.constants.signals[signal] ?? 1) : 1);
  if (points === '') process.exit(status);
  else process.stdout.write(points, () => process.exit(status));
});
`;
const VERSION = 'v1alpha1';
const PLURAL = 'testruns';

/** `-e` values divided among N runners, as execution segments divide iterations, VUs and rate. */
export function segmentArguments(words: readonly string[], index: number, parallelism: number): string[] {
  if (parallelism <= 1) return [...words];
  const share = (total: number): number => Math.floor(total / parallelism) + (index <= total % parallelism ? 1 : 0);
  const out = [...words];
  for (let i = 0; i < out.length - 1; i++) {
    if (out[i] !== '-e' && out[i] !== '--env') continue;
    const m = /^(REQUESTS|VUS|RATE)=(\d+)$/.exec(out[i + 1] ?? '');
    if (m) out[i + 1] = `${m[1]}=${Math.max(1, share(Number(m[2])))}`;
  }
  return out;
}

export async function startTestRunController(opts: TestRunControllerOptions): Promise<TestRunController> {
  const kc = new KubeConfig();
  kc.loadFromFile(opts.kubeconfigPath);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const log = opts.log ?? (() => undefined);
  const k6Program = opts.k6Program ?? K6_STANDIN;
  const image = opts.image ?? 'node:20';
  const stages = new Map<string, Stage[]>();
  const busy = new Set<string>();
  const dirty = new Set<string>();
  let stopped = false;

  async function setStage(tr: TestRun, stage: Stage, message?: string): Promise<void> {
    const key = `${tr.metadata.namespace}/${tr.metadata.name}`;
    const conditions = message
      ? [{ type: 'TestRunRunning', status: 'False', reason: 'StandInError', message, lastTransitionTime: new Date().toISOString() }]
      : undefined;
    await custom.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, namespace: tr.metadata.namespace, plural: PLURAL, name: tr.metadata.name, body: { status: { stage, ...(conditions ? { conditions } : {}) } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    tr.status = { ...(tr.status ?? {}), stage };
    stages.set(key, [...(stages.get(key) ?? []), stage]);
    log(`testrun-controller: ${key} -> ${stage}${message ? ` (${message})` : ''}`);
  }

  function runnerPod(tr: TestRun, index: number, parallelism: number, file: string, configMap: string): V1Pod {
    const job = runnerJobName(tr.metadata.name, index);
    const suffix = Math.random().toString(36).slice(2, 7).padEnd(5, '0');
    const words = segmentArguments(splitArguments(tr.spec?.arguments), index, parallelism);
    const env = [...(tr.spec?.runner?.env ?? []), ...Object.entries(opts.runnerEnv ?? {}).map(([name, value]) => ({ name, value }))];
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${job}-${suffix}`,
        namespace: tr.metadata.namespace,
        labels: { ...runnerLabels(tr.metadata.name), 'job-name': job },
        ownerReferences: [{ apiVersion: `${GROUP}/${VERSION}`, kind: 'TestRun', name: tr.metadata.name, uid: tr.metadata.uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: {
        restartPolicy: 'Never',
        terminationGracePeriodSeconds: 2,
        containers: [
          {
            name: RUNNER_CONTAINER,
            image: tr.spec?.runner?.image ?? image,
            command: ['node', `${ENTRY_MOUNT}/${ENTRY_FILE}`, k6Program, 'run', '--quiet', ...words, `${SCRIPT_MOUNT}/${file}`],
            env: env.map((e) => ({ name: e.name, value: e.value ?? '' })),
            volumeMounts: [
              { name: 'k6-test-volume', mountPath: SCRIPT_MOUNT },
              { name: 'k6-standin-entry', mountPath: ENTRY_MOUNT },
            ],
          },
        ],
        volumes: [
          { name: 'k6-test-volume', configMap: { name: configMap } },
          { name: 'k6-standin-entry', configMap: { name: entryConfigMapName(tr) } },
        ],
      },
    };
  }

  function entryConfigMapName(tr: TestRun): string {
    return `${tr.metadata.name}-standin-entry`;
  }

  async function ensureEntryConfigMap(tr: TestRun): Promise<void> {
    const name = entryConfigMapName(tr);
    const exists = await core.readNamespacedConfigMap({ name, namespace: tr.metadata.namespace }).catch(() => undefined);
    if (exists) return;
    await core.createNamespacedConfigMap({
      namespace: tr.metadata.namespace,
      body: {
        metadata: {
          name,
          ownerReferences: [{ apiVersion: `${GROUP}/${VERSION}`, kind: 'TestRun', name: tr.metadata.name, uid: tr.metadata.uid, controller: true, blockOwnerDeletion: true }],
        },
        data: { [ENTRY_FILE]: ENTRY_PROGRAM },
      },
    });
  }

  async function reconcile(tr: TestRun): Promise<void> {
    if (tr.metadata.deletionTimestamp) return;
    const ns = tr.metadata.namespace;
    const name = tr.metadata.name;
    const stage = tr.status?.stage;
    const parallelism = Math.max(1, tr.spec?.parallelism ?? 1);
    const cmName = tr.spec?.script?.configMap?.name;
    const file = tr.spec?.script?.configMap?.file ?? 'test.js';
    if (stage === undefined) {
      await setStage(tr, 'initialization');
      const cm = cmName ? await core.readNamespacedConfigMap({ name: cmName, namespace: ns }).catch(() => undefined) : undefined;
      if (!cm) return setStage(tr, 'error', `script ConfigMap ${cmName ?? '(none)'} not found in ${ns}`);
      if (cm.data?.[file] === undefined) return setStage(tr, 'error', `ConfigMap ${cmName} has no key ${file}`);
      await setStage(tr, 'initialized');
    }
    if (tr.status?.stage === 'initialized') {
      const existing = await core.listNamespacedPod({ namespace: ns, labelSelector: runnerSelector(name) });
      await ensureEntryConfigMap(tr);
      const have = new Set(existing.items.map((p) => p.metadata?.labels?.['job-name']));
      for (let i = 1; i <= parallelism; i++) {
        if (have.has(runnerJobName(name, i))) continue;
        await core.createNamespacedPod({ namespace: ns, body: runnerPod(tr, i, parallelism, file, cmName ?? '') });
      }
      await setStage(tr, 'created');
    }
    if (tr.status?.stage !== 'created' && tr.status?.stage !== 'started') return;
    const pods = (await core.listNamespacedPod({ namespace: ns, labelSelector: runnerSelector(name) })).items;
    const pullError = pods
      .flatMap((p) => p.status?.containerStatuses ?? [])
      .find((s) => /ErrImagePull|ImagePullBackOff|CreateContainerConfigError/.test(s.state?.waiting?.reason ?? ''));
    if (pullError) return setStage(tr, 'error', `runner ${pullError.state?.waiting?.reason}: ${pullError.state?.waiting?.message ?? ''}`);
    const phases = pods.map((p) => p.status?.phase ?? 'Pending');
    const done = phases.filter((p) => p === 'Succeeded' || p === 'Failed').length;
    if (tr.status?.stage === 'created' && pods.length === parallelism && phases.every((p) => p !== 'Pending')) await setStage(tr, 'started');
    if (tr.status?.stage === 'started' && done === parallelism) await setStage(tr, 'finished');
  }

  async function reconcileByKey(namespace: string, name: string): Promise<void> {
    const key = `${namespace}/${name}`;
    if (busy.has(key)) {
      dirty.add(key);
      return;
    }
    busy.add(key);
    try {
      do {
        dirty.delete(key);
        const tr = (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURAL, name }).catch(() => undefined)) as TestRun | undefined;
        if (tr && !stopped) await reconcile(tr);
      } while (dirty.has(key) && !stopped);
    } catch (err) {
      log(`testrun-controller: ${key}: ${(err as Error).message.split('\n')[0]}`);
    } finally {
      busy.delete(key);
    }
  }

  async function resync(): Promise<void> {
    const list = (await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL }).catch(() => ({ items: [] }))) as { items: TestRun[] };
    for (const tr of list.items) {
      if (tr.status?.stage !== 'finished' && tr.status?.stage !== 'error') void reconcileByKey(tr.metadata.namespace, tr.metadata.name);
    }
  }

  // The watch makes it prompt; the resync moves runs along as their pods finish (pods are not watched here).
  const watch = new Watch(kc);
  let controller: AbortController | undefined;
  const startWatch = (): void => {
    if (stopped) return;
    watch
      .watch(
        `/apis/${GROUP}/${VERSION}/${PLURAL}`,
        {},
        (phase, obj: TestRun) => {
          if (phase === 'ADDED' || phase === 'MODIFIED') void reconcileByKey(obj.metadata.namespace, obj.metadata.name);
        },
        () => {
          if (!stopped) setTimeout(startWatch, 500).unref();
        },
      )
      .then((ac) => {
        if (stopped) ac.abort();
        else controller = ac;
      })
      .catch(() => {
        if (!stopped) setTimeout(startWatch, 500).unref();
      });
  };
  startWatch();
  const timer = setInterval(() => void resync(), 300);

  return {
    stages,
    async stop() {
      stopped = true;
      clearInterval(timer);
      controller?.abort();
      for (let i = 0; i < 50 && busy.size > 0; i++) await new Promise((r) => setTimeout(r, 100));
    },
  };
}
