/**
 * k6-operator's TestRun controller (grafana/k6-operator v1.6.0, internal/controller/testrun_controller.go and
 * k6_initialize.go / k6_create.go / k6_start.go / k6_finish.go; Jobs from pkg/resources/jobs), in-process like
 * the twin's other controllers. `status.stage`:
 *
 *   "" -> initialization: the initializer Job `<name>-initializer` (runner image, `k6 inspect` of the script)
 *   initialization -> initialized: the initializer Job completed (failed: stage `error`, condition message)
 *   initialized -> created: one runner Job `<name>-<i>` per `spec.parallelism` (i from 1), pods labelled
 *      app=k6, k6_cr=<name>, runner=true, container `k6`, the script ConfigMap at /test, restartPolicy Never,
 *      backoffLimit 0, command `k6 run --quiet --execution-segment=... --execution-segment-sequence=...
 *      <spec.arguments> /test/<file> --address=0.0.0.0:6565 --paused --tag instance_id=<i> --tag testrun_name=<name>`
 *      (pkg/resources/jobs/runner.go, pkg/segmentation)
 *   created -> started: every runner pod Running and Ready (readiness GET /v1/status, standing for the operator's
 *      check that each runner's service answers, common.go hostnames / isServiceReady): the starter Job `<name>-starter` (image
 *      ghcr.io/grafana/k6-operator:latest-starter) PATCHes each runner's `/v1/status` to unpause it
 *      (pkg/resources/containers/curl_start.go); condition TestRunRunning True
 *   started -> stopped: every runner Job has no active pod (FinishJobs; failed runners count as finished);
 *      TestRunRunning False
 *   stopped -> finished; finished / error with `spec.cleanup: post`: the TestRun is deleted (GC removes its Jobs).
 *
 * The twin's image table runs grafana/k6 as pd-harness's built-in k6 runtime (load/k6/k6-cli.ts) and the
 * starter image as a program doing the starter's PATCH calls.
 *
 * Simplifications: the initializer runs `k6 inspect --execution-requirements` directly, not inside the
 * operator's `sh -c` script with `k6 archive`, and its output is not parsed (a failed inspect is the error);
 * no per-runner Service: the starter gets the runner pods' IPs; a runner pod that ended before Running counts
 * as past Running (the real operator would wait); no cloud output, PLZ, setup/teardown REST calls, stop Job,
 * or `spec.initializer` / `spec.starter` / `spec.separate` / istio (scuttle) options.
 */
import type { Api } from '../apiserver/api.ts';
import { nowTimestamp } from '../apiserver/api.ts';
import type { Obj } from '../apiserver/selectors.ts';
import type { Recorder } from './events.ts';
import { isOwnedBy, isTerminating, key, ownerRefTo } from './util.ts';

export const K6_DEFAULT_IMAGE = 'grafana/k6:latest';
export const K6_STARTER_IMAGE = 'ghcr.io/grafana/k6-operator:latest-starter';
const SCRIPT_MOUNT = '/test';
const RUNNER_PORT = 6565;

/** `--execution-segment` / `--execution-segment-sequence` of runner `index` (1-based) of `total` (pkg/segmentation). */
export function segmentArgs(index: number, total: number): string[] {
  const part = (i: number): string => (i === 0 ? '0' : i === total ? '1' : `${i}/${total}`);
  const sequence = ['0', ...Array.from({ length: total - 1 }, (_, i) => `${i + 1}/${total}`), '1'].join(',');
  return [`--execution-segment=${part(index - 1)}:${part(index)}`, `--execution-segment-sequence=${sequence}`];
}

/** The words of `spec.arguments` (the operator splits them on whitespace: TestRunSpec.Argv). */
function argv(spec: Obj): string[] {
  return String(spec.arguments ?? '')
    .split(/\s+/)
    .filter((w) => w !== '');
}

function labelsOf(name: string): Record<string, string> {
  return { app: 'k6', k6_cr: name };
}

function scriptOf(spec: Obj): { configMap?: string; file: string } {
  const cm = spec.script?.configMap;
  return { ...(cm?.name ? { configMap: String(cm.name) } : {}), file: String(cm?.file ?? 'test.js') };
}

function job(tr: Obj, name: string, labels: Record<string, string>, container: Obj, volumes: Obj[]): Obj {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: tr.metadata.namespace, labels, ownerReferences: [ownerRefTo(tr)] },
    spec: {
      backoffLimit: 0,
      template: {
        metadata: { labels },
        spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 2, containers: [container], volumes },
      },
    },
  };
}

function envOf(spec: Obj): Obj[] {
  return ((spec.runner?.env ?? []) as Obj[]).map((e) => ({ name: String(e.name), value: String(e.value ?? '') }));
}

function scriptVolume(spec: Obj): { volumes: Obj[]; mounts: Obj[] } {
  const { configMap } = scriptOf(spec);
  return {
    volumes: [{ name: 'k6-test-volume', configMap: { name: configMap } }],
    mounts: [{ name: 'k6-test-volume', mountPath: SCRIPT_MOUNT }],
  };
}

export function initializerJob(tr: Obj): Obj {
  const spec = tr.spec ?? {};
  const { file } = scriptOf(spec);
  const { volumes, mounts } = scriptVolume(spec);
  const container = {
    name: 'k6',
    image: spec.runner?.image ?? K6_DEFAULT_IMAGE,
    command: ['k6', 'inspect', '--execution-requirements', `${SCRIPT_MOUNT}/${file}`],
    env: envOf(spec),
    volumeMounts: mounts,
  };
  return job(tr, `${tr.metadata.name}-initializer`, labelsOf(tr.metadata.name), container, volumes);
}

export function runnerJob(tr: Obj, index: number): Obj {
  const spec = tr.spec ?? {};
  const name = tr.metadata.name;
  const total = Number(spec.parallelism ?? 1);
  const { file } = scriptOf(spec);
  const { volumes, mounts } = scriptVolume(spec);
  const quiet = spec.quiet === undefined ? true : String(spec.quiet) === 'true';
  const paused = spec.paused === undefined ? true : String(spec.paused) === 'true';
  const command = [
    'k6',
    'run',
    ...(quiet ? ['--quiet'] : []),
    ...(total > 1 ? segmentArgs(index, total) : []),
    ...argv(spec),
    `${SCRIPT_MOUNT}/${file}`,
    `--address=0.0.0.0:${RUNNER_PORT}`,
    ...(paused ? ['--paused'] : []),
    '--tag',
    `instance_id=${index}`,
    '--tag',
    `testrun_name=${name}`,
  ];
  // runner.go generateProbe: readiness (and liveness) GET /v1/status on 6565. Simplification: no liveness probe
  // (a runner on the built-in runtime takes seconds to load, which a liveness probe would count as dead).
  const readinessProbe = spec.runner?.readinessProbe ?? { httpGet: { path: '/v1/status', port: RUNNER_PORT, scheme: 'HTTP' } };
  const container = {
    name: 'k6',
    image: spec.runner?.image ?? K6_DEFAULT_IMAGE,
    command,
    env: envOf(spec),
    volumeMounts: mounts,
    ports: [{ containerPort: RUNNER_PORT }],
    readinessProbe,
  };
  return job(tr, `${name}-${index}`, { ...labelsOf(name), runner: 'true' }, container, volumes);
}

/** The starter's `sh -c` line: one curl PATCH per runner (containers/curl_start.go). */
export function starterJob(tr: Obj, hosts: readonly string[]): Obj {
  const body = JSON.stringify({ data: { attributes: { paused: false }, id: 'default', type: 'status' } });
  const line = hosts
    .map((h) => `curl --retry 3 -X PATCH -H 'Content-Type: application/json' http://${h}:${RUNNER_PORT}/v1/status -d '${body}'`)
    .join(';');
  const container = { name: 'k6-curl', image: tr.spec?.starter?.image ?? K6_STARTER_IMAGE, command: ['sh', '-c', line] };
  return job(tr, `${tr.metadata.name}-starter`, labelsOf(tr.metadata.name), container, []);
}

function jobState(j: Obj | undefined): 'missing' | 'active' | 'complete' | 'failed' {
  if (!j) return 'missing';
  const conds = (j.status?.conditions ?? []) as Obj[];
  if (conds.some((c) => c.type === 'Failed' && c.status === 'True')) return 'failed';
  if (conds.some((c) => c.type === 'Complete' && c.status === 'True')) return 'complete';
  return 'active';
}

function withCondition(status: Obj, type: string, value: 'True' | 'False' | 'Unknown', reason: string, message = ''): void {
  const conds = ((status.conditions ?? []) as Obj[]).filter((c) => c.type !== type);
  conds.push({ type, status: value, reason, message, lastTransitionTime: nowTimestamp() });
  status.conditions = conds;
}

export function syncTestRuns(api: Api, record: Recorder): void {
  const trType = api.registry.get('k6.io', 'testruns');
  if (!trType) return; // the CRD was removed
  const jobType = api.type('batch', 'jobs');
  for (const tr of api.store.peek(key('k6.io', 'testruns'))) {
    if (isTerminating(tr)) continue;
    const ns = tr.metadata.namespace;
    const name = tr.metadata.name;
    const spec = tr.spec ?? {};
    const stage = String(tr.status?.stage ?? '');
    const setStage = (next: string, change?: (s: Obj) => void): void => {
      api.mutate(
        trType,
        ns,
        name,
        (o) => {
          o.status ??= {};
          o.status.stage = next;
          change?.(o.status);
        },
        'status',
      );
      record(tr, next === 'error' ? 'Warning' : 'Normal', 'Stage', `stage ${next}`);
    };
    const fail = (reason: string, message: string): void =>
      setStage('error', (s) => withCondition(s, 'TestRunRunning', 'False', reason, message));
    const jobs = api.store.peek(key('batch', 'jobs'), ns).filter((j) => isOwnedBy(j, tr));
    const byName = new Map(jobs.map((j) => [j.metadata.name, j] as const));
    const ensure = (j: Obj): void => {
      if (!byName.has(j.metadata.name)) {
        api.create(jobType, ns, j);
        record(tr, 'Normal', 'JobCreated', `created Job ${j.metadata.name}`);
      }
    };
    const parallelism = Number(spec.parallelism ?? 1);
    // Simplification: an image that cannot be pulled ends the run (the operator keeps waiting and only logs
    // after 5 minutes, errMessageTooLong), so the harness gets one line instead of its own timeout.
    if (stage !== 'finished' && stage !== 'error' && stage !== '') {
      const pulling = api.store
        .peek(key('', 'pods'), ns)
        .filter((p) => p.metadata.labels?.k6_cr === name)
        .flatMap((p) => (p.status?.containerStatuses ?? []) as Obj[])
        .find((c) => /ErrImagePull|ImagePullBackOff/.test(String(c.state?.waiting?.reason ?? '')));
      if (pulling) {
        fail(String(pulling.state.waiting.reason), String(pulling.state.waiting.message ?? 'image cannot be pulled'));
        continue;
      }
    }
    try {
      switch (stage) {
        case '': {
          const { configMap } = scriptOf(spec);
          if (!configMap) {
            fail('InvalidSpec', 'spec.script.configMap.name is required (the twin supports ConfigMap scripts only)');
            break;
          }
          if (!Number.isInteger(parallelism) || parallelism < 1) {
            fail('InvalidSpec', `spec.parallelism must be >= 1, not ${String(spec.parallelism)}`);
            break;
          }
          setStage('initialization', (s) => withCondition(s, 'TestRunRunning', 'Unknown', 'TestRunPreparation'));
          ensure(initializerJob(tr));
          break;
        }
        case 'initialization': {
          const init = byName.get(`${name}-initializer`);
          const state = jobState(init);
          if (state === 'missing') ensure(initializerJob(tr));
          else if (state === 'complete') setStage('initialized');
          else if (state === 'failed')
            fail('InitializerFailed', `initializer Job ${name}-initializer failed: the script did not load (see its pod log)`);
          break;
        }
        case 'initialized':
          for (let i = 1; i <= parallelism; i++) ensure(runnerJob(tr, i));
          setStage('created');
          break;
        case 'created': {
          const pods = api.store
            .peek(key('', 'pods'), ns)
            .filter((p) => p.metadata.labels?.k6_cr === name && p.metadata.labels?.runner === 'true' && !isTerminating(p));
          // Running and its REST API answering (readiness probe on /v1/status: what the operator's service check waits for)
          const ready = (p: Obj): boolean => ((p.status?.conditions ?? []) as Obj[]).some((c) => c.type === 'Ready' && c.status === 'True');
          const past = (p: Obj): boolean =>
            (p.status?.phase === 'Running' && ready(p)) || ['Succeeded', 'Failed'].includes(String(p.status?.phase));
          if (pods.length < parallelism || !pods.every(past) || !pods.every((p) => p.status?.podIP)) break;
          ensure(
            starterJob(
              tr,
              pods.map((p) => String(p.status.podIP)),
            ),
          );
          setStage('started', (s) => withCondition(s, 'TestRunRunning', 'True', 'TestRunRunningTrue'));
          break;
        }
        case 'started': {
          const runners = jobs.filter((j) => j.metadata.labels?.runner === 'true');
          const finished = runners.filter((j) => Number(j.status?.active ?? 1) === 0 && jobState(j) !== 'active');
          if (runners.length >= parallelism && finished.length >= parallelism) {
            setStage('stopped', (s) => withCondition(s, 'TestRunRunning', 'False', 'TestRunRunningFalse'));
          }
          break;
        }
        case 'stopped':
          setStage('finished');
          break;
        case 'finished':
        case 'error':
          if (spec.cleanup === 'post') api.delete(trType, ns, name, { propagationPolicy: 'Background' });
          break;
      }
    } catch (e) {
      record(tr, 'Warning', 'ReconcileError', e instanceof Error ? e.message : String(e));
    }
  }
}
