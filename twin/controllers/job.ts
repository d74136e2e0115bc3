/**
 * Job controller (batch/v1), the part k6-operator's Jobs use: pods from the template up to `parallelism`
 * (default 1) until `completions` (default 1) pods Succeeded; Failed once more than `backoffLimit` (default 6)
 * pods failed. Status `active` / `succeeded` / `failed`, `startTime`, `completionTime`, and the `Complete` /
 * `Failed` conditions, as kubernetes pkg/controller/job (v1.31) reports them. Pods get the Job's labels
 * `job-name`, `batch.kubernetes.io/job-name`, `controller-uid` and an owner reference (GC deletes them with the Job).
 *
 * Simplifications: no pod-replacement policy, no backoff delay between retries, no activeDeadlineSeconds,
 * no indexed completion mode, no suspend.
 */
import type { Api } from '../apiserver/api.ts';
import { nowTimestamp } from '../apiserver/api.ts';
import type { Obj } from '../apiserver/selectors.ts';
import { ApiError } from '../apiserver/status.ts';
import type { Recorder } from './events.ts';
import { isOwnedBy, isTerminating, key, ownerRefTo } from './util.ts';

function condition(type: 'Complete' | 'Failed', reason: string, message: string): Obj {
  const now = nowTimestamp();
  return { type, status: 'True', lastProbeTime: now, lastTransitionTime: now, reason, message };
}

export function syncJobs(api: Api, record: Recorder): void {
  const jobType = api.type('batch', 'jobs');
  const podType = api.type('', 'pods');
  for (const job of api.store.peek(key('batch', 'jobs'))) {
    if (isTerminating(job)) continue;
    const ns = job.metadata.namespace;
    const done = ((job.status?.conditions ?? []) as Obj[]).some(
      (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
    );
    const owned = api.store.peek(key('', 'pods'), ns).filter((p) => isOwnedBy(p, job));
    const succeeded = owned.filter((p) => p.status?.phase === 'Succeeded').length;
    const failed = owned.filter((p) => p.status?.phase === 'Failed').length;
    const active = owned.filter((p) => !isTerminating(p) && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
    const completions = Number(job.spec?.completions ?? 1);
    const parallelism = Number(job.spec?.parallelism ?? 1);
    const backoffLimit = Number(job.spec?.backoffLimit ?? 6);
    const complete = succeeded >= completions;
    const failedJob = failed > backoffLimit;
    if (!done && !complete && !failedJob) {
      const want = Math.min(parallelism, completions - succeeded) - active.length;
      const tpl = job.spec?.template ?? {};
      const labels = {
        ...(tpl.metadata?.labels ?? {}),
        'controller-uid': job.metadata.uid,
        'batch.kubernetes.io/controller-uid': job.metadata.uid,
        'job-name': job.metadata.name,
        'batch.kubernetes.io/job-name': job.metadata.name,
      };
      for (let i = 0; i < want; i++) {
        try {
          const pod = api.create(podType, ns, {
            metadata: {
              generateName: `${job.metadata.name}-`,
              namespace: ns,
              labels,
              ...(tpl.metadata?.annotations ? { annotations: { ...tpl.metadata.annotations } } : {}),
              ownerReferences: [ownerRefTo(job)],
            },
            spec: structuredClone(tpl.spec ?? {}),
          });
          record(job, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
        } catch (e) {
          record(job, 'Warning', 'FailedCreate', `Error creating: ${e instanceof ApiError ? e.message : String(e)}`);
          break;
        }
      }
    }
    const nowActive = api.store
      .peek(key('', 'pods'), ns)
      .filter((p) => isOwnedBy(p, job) && !isTerminating(p) && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed').length;
    api.mutate(
      jobType,
      ns,
      job.metadata.name,
      (o) => {
        const s = (o.status ??= {});
        s.startTime ??= nowTimestamp();
        s.active = done ? 0 : nowActive;
        s.succeeded = succeeded;
        s.failed = failed;
        s.ready = owned.filter((p) =>
          ((p.status?.conditions ?? []) as Obj[]).some((c) => c.type === 'Ready' && c.status === 'True'),
        ).length;
        if (done) return;
        if (complete) {
          s.completionTime = nowTimestamp();
          s.active = 0;
          s.conditions = [
            ...(s.conditions ?? []),
            condition('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods'),
          ];
          record(job, 'Normal', 'Completed', 'Job completed');
        } else if (failedJob) {
          s.conditions = [
            ...(s.conditions ?? []),
            condition('Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'),
          ];
          record(job, 'Warning', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit');
        }
      },
      'status',
    );
  }
}
