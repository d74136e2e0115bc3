/**
 * Starts the in-process controllers against the API server's object layer. Level-triggered: any store
 * change schedules one pass of every controller (coalesced), and a periodic resync covers time-based
 * transitions (minReadySeconds, grace periods, progress deadlines). A pass only writes what differs,
 * so passes converge.
 */
import type { Api } from '../apiserver/api.ts';
import { syncDeployments } from './deployment.ts';
import { syncEndpoints } from './endpoints.ts';
import { eventRecorder } from './events.ts';
import { syncGarbage } from './gc.ts';
import { syncJobs } from './job.ts';
import { syncNamespaces } from './namespace.ts';
import { syncVolumes } from './pvc.ts';
import { syncReplicaSets } from './replicaset.ts';
import { syncTestRuns } from './testrun.ts';

const COALESCE_MS = 5;
const RESYNC_MS = 1000;
/** Passes in a row triggered by the controllers' own writes before yielding to the event loop. */
const MAX_PASSES_PER_RUN = 20;

export interface ControllerHandle {
  stop(): void;
}

export function startControllers(api: Api): ControllerHandle {
  const deployRecorder = eventRecorder(api, 'deployment-controller');
  const rsRecorder = eventRecorder(api, 'replicaset-controller');
  const jobRecorder = eventRecorder(api, 'job-controller');
  const testRunRecorder = eventRecorder(api, 'k6-operator');
  const steps: Array<[string, () => void]> = [
    ['namespace', () => syncNamespaces(api)],
    ['deployment', () => syncDeployments(api, deployRecorder)],
    ['replicaset', () => syncReplicaSets(api, rsRecorder)],
    ['testrun', () => syncTestRuns(api, testRunRecorder)],
    ['job', () => syncJobs(api, jobRecorder)],
    ['endpoints', () => syncEndpoints(api)],
    ['volumes', () => syncVolumes(api)],
    ['gc', () => syncGarbage(api)],
  ];
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let dirty = false;

  const runPass = () => {
    for (const [name, step] of steps) {
      try {
        step();
      } catch (e) {
        process.stderr.write(`twin controllers: ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
      }
    }
  };
  const run = () => {
    timer = undefined;
    if (stopped) return;
    running = true;
    try {
      for (let i = 0; i < MAX_PASSES_PER_RUN; i++) {
        dirty = false;
        runPass();
        if (!dirty || stopped) break;
      }
    } finally {
      running = false;
    }
    if (dirty) schedule();
  };
  const schedule = () => {
    if (running) {
      dirty = true;
      return;
    }
    if (!timer && !stopped) timer = setTimeout(run, COALESCE_MS);
  };
  // Events the controllers record must not wake them up again.
  const unsubscribe = api.store.subscribe((e) => {
    if (e.key !== '/events') schedule();
  });
  const resync = setInterval(schedule, RESYNC_MS);
  schedule();
  return {
    stop() {
      stopped = true;
      unsubscribe();
      clearInterval(resync);
      if (timer) clearTimeout(timer);
    },
  };
}
