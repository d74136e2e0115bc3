import * as fs from 'node:fs';
import * as path from 'node:path';
import type { V1Pod } from '#client-node';
import { UserError } from '../../core/errors.ts';
import type { Cluster } from '../../cluster/driver.ts';
import { apiErrorInfo, isNotFound } from '../../cluster/errors.ts';
import { podLogs } from '../../cluster/observe.ts';
import type { ObjectKey } from '../../cluster/cleanup.ts';
import { podState } from '../../cluster/pods.ts';
import { waitFor } from '../../cluster/waits.ts';
import { assertLoadTarget } from '../loopback.ts';
import type { LoadResult } from '../result.ts';
import { buildArguments } from './args.ts';
import { combineRunnerOutputs, messageOfLogLine, splitRunnerLog, type RunnerOutput } from './logs.ts';
import {
  RUNNER_CONTAINER,
  TESTRUN_API_VERSION,
  TESTRUN_KIND,
  isTerminalStage,
  runnerSelector,
  scriptConfigMap,
  testRunManifest,
  testRunName,
} from './testrun.ts';

export const K6_OPERATOR_MISSING =
  'k6-operator: the cluster has no TestRun CRD (testruns.k6.io): install k6-operator (https://grafana.com/docs/k6/latest/set-up/set-up-distributed-k6/install-k6-operator/) or use engine: builtin';

const TESTRUN_CRD = 'testruns.k6.io';
const LAST_LINES = 3;

export interface K6OperatorRunOptions {
  cluster: Cluster;
  /** Local path of the k6 script (.js, or .ts for k6 v0.57+); it goes into a ConfigMap as is. */
  script: string;
  /** Passed as `-e K=V` in `spec.arguments`. */
  env?: Record<string, string>;
  /** The gateway as the runner pods reach it (in a cluster: the gateway Service's address); sets `-e GATEWAY`. */
  gatewayUrl?: string;
  allowRemote?: boolean;
  /** Namespace of the ConfigMap, TestRun and runner pods (default `default`). */
  namespace?: string;
  /** `spec.parallelism`: number of runner pods (default 1). */
  parallelism?: number;
  /** `spec.runner.image` (k6-operator's default is grafana/k6:latest). */
  runnerImage?: string;
  runnerEnv?: Record<string, string>;
  /** Named wait for stage finished / error. */
  timeoutMs?: number;
  namePrefix?: string;
  extraArgs?: string[];
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Called once when the TestRun reaches stage `started` (the runners unpaused): the load really begins. */
  onStarted?: () => void;
}

type TestRunObject = { status?: { stage?: string; conditions?: { type?: string; status?: string; reason?: string; message?: string }[] } };

/**
 * Runs a k6 script from inside the cluster through k6-operator: creates the script ConfigMap and a TestRun
 * (both through the cluster driver, so registered for cleanup), waits for stage `finished` or `error`, reads
 * the runner pods' logs (k6 writes its JSON points to stdout: `--out json=/dev/stdout`) into the result model,
 * and deletes what it created. Needs k6-operator on the cluster; the tests use a controller stand-in.
 *
 * Verdicts: stage `error` (or a runner that failed other than with exit 99) is a one-line UserError with the
 * runner's last log lines; crossed thresholds (exit 99) give a result whose `thresholds` say so.
 */
export async function runK6Operator(opts: K6OperatorRunOptions): Promise<LoadResult> {
  const { cluster } = opts;
  const namespace = opts.namespace ?? 'default';
  const log = opts.log ?? (() => undefined);
  const env: Record<string, string> = { ...(opts.env ?? {}) };
  if (opts.gatewayUrl !== undefined) {
    assertLoadTarget(opts.gatewayUrl, opts.allowRemote);
    env['GATEWAY'] = opts.gatewayUrl;
  }
  let content: string;
  try {
    content = fs.readFileSync(opts.script, 'utf8');
  } catch {
    throw new UserError(`k6 script not found: ${opts.script}`);
  }
  const file = path.basename(opts.script);
  const name = testRunName(opts.namePrefix ?? 'pd-harness-k6');
  const labels = { 'app.kubernetes.io/managed-by': 'pd-harness' };
  const configMap = scriptConfigMap({ name: `${name}-script`, namespace, file, content, labels });
  const testRun = testRunManifest({
    name,
    namespace,
    configMap: configMap.metadata.name,
    file,
    parallelism: opts.parallelism ?? 1,
    arguments: buildArguments(env, opts.extraArgs),
    ...(opts.runnerImage ? { runnerImage: opts.runnerImage } : {}),
    ...(opts.runnerEnv ? { runnerEnv: opts.runnerEnv } : {}),
    labels,
  });
  await assertTestRunCrd(cluster);

  const testRunKey: ObjectKey = { apiVersion: TESTRUN_API_VERSION, kind: TESTRUN_KIND, name, namespace };
  const configMapKey: ObjectKey = { apiVersion: 'v1', kind: 'ConfigMap', name: configMap.metadata.name, namespace };
  const startedAt = new Date().toISOString();
  try {
    await cluster.apply([configMap, testRun]);
    log(`k6-operator: TestRun ${namespace}/${name} created (parallelism ${opts.parallelism ?? 1}, script ${file})`);
    const stage = await waitStage(cluster, testRunKey, opts.timeoutMs ?? cluster.timeouts.k6OperatorRun, opts.signal, opts.onStarted);
    const pods = await cluster.listPods(namespace, runnerSelector(name));
    const outputs = await Promise.all(pods.map((pod) => readRunner(cluster, pod)));
    const status = (await cluster.tryRead<TestRunObject & Record<string, never>>(testRunKey))?.status;
    judgeRun(name, stage, outputs, status);
    log(`k6-operator: TestRun ${name} ${stage}; ${outputs.length} runner pod(s) read`);
    return combineRunnerOutputs(outputs, startedAt);
  } finally {
    await deleteCreated(cluster, [testRunKey, configMapKey], name, namespace);
  }
}

async function assertTestRunCrd(cluster: Cluster): Promise<void> {
  try {
    await cluster.read({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: TESTRUN_CRD });
  } catch (err) {
    if (isNotFound(err)) throw new UserError(K6_OPERATOR_MISSING);
    // no right to read CRDs (403) and the like: let the apply say what is wrong
  }
}

async function waitStage(
  cluster: Cluster,
  key: ObjectKey,
  timeoutMs: number,
  signal?: AbortSignal,
  onStarted?: () => void,
): Promise<'finished' | 'error'> {
  let seenStage = false;
  let started = false;
  const stage = await waitFor<'finished' | 'error'>({
    name: `TestRun ${key.namespace}/${key.name} stage finished or error`,
    timeoutMs,
    intervalMs: 500,
    ...(signal ? { signal } : {}),
    probe: async () => {
      const tr = await cluster.tryRead<TestRunObject & Record<string, never>>(key);
      if (!tr) return { done: false, failed: true, state: 'the TestRun was deleted' };
      const s = tr.status?.stage;
      if (s) seenStage = true;
      // k6-operator's stages after the starter unpaused the runners (api/v1alpha1/k6conditions.go)
      if (!started && (s === 'started' || s === 'stopped' || s === 'finished')) {
        started = true;
        onStarted?.();
      }
      if (isTerminalStage(s)) return { done: true, state: `stage ${s}`, value: s };
      return { done: false, state: s ? `stage ${s}` : 'no status.stage yet (is k6-operator installed and running?)' };
    },
    diagnostics: async () => {
      if (!seenStage) return '';
      const pods = await cluster.listPods(key.namespace ?? 'default', runnerSelector(key.name));
      return pods.map((p) => `runner ${podState(p)}`).join('\n');
    },
  });
  return stage ?? 'error';
}

function k6ContainerOf(pod: V1Pod): string | undefined {
  const names = (pod.spec?.containers ?? []).map((c) => c.name);
  return names.length > 1 && names.includes(RUNNER_CONTAINER) ? RUNNER_CONTAINER : undefined;
}

async function readRunner(cluster: Cluster, pod: V1Pod): Promise<RunnerOutput> {
  const name = pod.metadata?.name ?? '';
  const namespace = pod.metadata?.namespace ?? 'default';
  const container = k6ContainerOf(pod);
  let text = '';
  try {
    text = await podLogs(cluster, namespace, name, container ? { container } : {});
  } catch (err) {
    // 404: the pod went away; 400: its container never started (e.g. image pull failed), so it has no log
    const code = apiErrorInfo(err).code;
    if (code !== 404 && code !== 400)
      throw new UserError(`k6-operator: cannot read the log of runner pod ${name}: ${(err as Error).message.split('\n')[0]}`);
  }
  const statuses = pod.status?.containerStatuses ?? [];
  const k6 = statuses.find((s) => s.name === RUNNER_CONTAINER) ?? statuses[0];
  const exitCode = k6?.state?.terminated?.exitCode;
  return { pod: name, log: text, ...(exitCode !== undefined ? { exitCode } : {}) };
}

function lastLines(out: RunnerOutput): string {
  const { otherLines } = splitRunnerLog(out.log);
  const tail = otherLines.slice(-LAST_LINES).map(messageOfLogLine);
  return tail.length > 0 ? tail.join(' | ') : '(no log lines)';
}

/** Throws the one-line error a failed run deserves; returns for a run whose points can be judged. */
export function judgeRun(
  name: string,
  stage: 'finished' | 'error',
  outputs: readonly RunnerOutput[],
  status?: TestRunObject['status'],
): void {
  const broken = outputs.filter((o) => o.exitCode !== undefined && o.exitCode !== 0 && o.exitCode !== 99);
  const first = broken[0];
  if (first) {
    throw new UserError(`k6-operator: runner pod ${first.pod} of TestRun ${name} failed (exit ${first.exitCode}): ${lastLines(first)}`);
  }
  if (stage === 'error') {
    // A runner whose thresholds were crossed exits 99, and some operator versions mark that as stage error:
    // that is a verdict, not a broken run.
    const crossed =
      outputs.length > 0 && outputs.some((o) => o.exitCode === 99) && outputs.every((o) => o.exitCode === 0 || o.exitCode === 99);
    if (crossed) return;
    const cond = status?.conditions?.find((c) => c.status === 'False' && c.message) ?? status?.conditions?.find((c) => c.message);
    const why = cond?.message ? `${cond.reason ? `${cond.reason}: ` : ''}${cond.message}` : undefined;
    const runner = outputs[0];
    const tail = runner ? `; runner ${runner.pod}: ${lastLines(runner)}` : '; no runner pods';
    throw new UserError(`k6-operator: TestRun ${name} ended in stage error${why ? ` (${why})` : ''}${tail}`);
  }
  if (outputs.length === 0)
    throw new UserError(`k6-operator: TestRun ${name} finished but no runner pods (labels ${runnerSelector(name)}) were found`);
}

async function deleteCreated(cluster: Cluster, keys: ObjectKey[], name: string, namespace: string): Promise<void> {
  for (const key of keys) {
    try {
      await cluster.objects.delete(
        { apiVersion: key.apiVersion, kind: key.kind, metadata: { name: key.name, namespace } },
        undefined,
        undefined,
        undefined,
        undefined,
        'Background',
      );
    } catch (err) {
      if (!isNotFound(err)) throw new Error(`k6-operator: deleting ${key.kind}/${key.name}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  await cluster.waitGone(keys, cluster.timeouts.objectGone).catch(() => undefined);
  // The runner Jobs / pods belong to the TestRun (owner references): garbage collection removes them.
  await waitFor({
    name: `runner pods of TestRun ${name} gone`,
    timeoutMs: cluster.timeouts.objectGone,
    probe: async () => {
      const left = await cluster.listPods(namespace, runnerSelector(name));
      return { done: left.length === 0, state: `${left.length} left` };
    },
  }).catch(() => undefined);
}
