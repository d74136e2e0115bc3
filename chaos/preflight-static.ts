/**
 * The preflight checks that need neither a cluster nor a network: cheap to import, so `pd-harness run`
 * answers a missing k6 or script before it loads the cluster client.
 */
import { accessSync, constants as fsConstants, existsSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { UsageError } from '../core/errors.ts';
import { unsupportedForScript } from '../load/k6-script/generate.ts';
import { fromSuiteLoad, type LoadEngineName } from '../load/plan.ts';
import { formatDuration } from '../suites/durations.ts';
import type { LoadSpec, Suite } from '../suites/schema.ts';
import { triggerOf } from './schedule.ts';

/** What the preflight needs to know about the run. */
export interface PreflightInput {
  suite: Suite;
  engine: LoadEngineName;
  env?: NodeJS.ProcessEnv;
}

/** The first directory on PATH holding an executable `cmd`, or undefined. No process is started. */
export function findOnPath(cmd: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, cmd);
    try {
      accessSync(file, fsConstants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Requests a suite's load sends, when the suite says (undefined: a k6 script decides). */
export function plannedRequests(load: LoadSpec): number | undefined {
  if (load.rate !== undefined && load.duration !== undefined) {
    const arrivals = Math.floor((load.rate * load.duration) / 1000);
    return load.requests !== undefined ? Math.min(load.requests, arrivals) : arrivals;
  }
  return load.requests;
}

/**
 * Checks that need no cluster, each failure one line naming the cause and the fix (exit 2): the engine is
 * installed, the script it runs exists, and the load sends at least one request.
 */
export function staticPreflight(input: PreflightInput): void {
  const load = input.suite.spec.load;
  if (!load) return;
  const { engine } = input;
  if (engine !== 'builtin' && !load.script) {
    // no script of its own: the run compiles the suite's load into one (load/k6-script); refuse what cannot be
    const why = unsupportedForScript(fromSuiteLoad(load).plan);
    if (why) throw new UsageError(`engine ${engine}: ${why}`);
  }
  refuseUncountedFaults(input.suite, engine);
  if (input.suite.spec.repro && engine !== 'builtin') {
    // chaos/repro/campaign.ts drives every cell on the built-in engine: the cell's client timeout and aborts are
    // what it varies, and a k6 run would give them to a script it cannot stop per request
    throw new UsageError(
      `engine ${engine}: a repro campaign (spec.repro) runs each cell's load on the built-in engine, with the cell's client timeout and aborts; run it without --engine (the suite's load alone runs on ${engine})`,
    );
  }
  if (load.script && !existsSync(load.script)) throw new UsageError(`k6 script not found: ${load.script} (spec.load.script)`);
  if (engine === 'k6' && !findOnPath('k6', input.env)) {
    throw new UsageError(
      'engine k6: k6 not found on PATH: install it (https://grafana.com/docs/k6/latest/set-up/install-k6/) or use --engine builtin',
    );
  }
  const n = plannedRequests(load);
  if (n !== undefined && n < 1) {
    throw new UsageError(
      `the load sends no request: rate ${load.rate}/s for ${formatDuration(load.duration ?? 0)} is below one arrival; raise spec.load.rate or spec.load.duration`,
    );
  }
}

/**
 * An `afterRequests` fault fires from the completed-request count the load reports while it runs. Only the
 * built-in engine on a declarative load reports it (runner/load.ts passes onProgress there alone): k6,
 * k6-operator and a k6 script on the built-in runtime report at the end, so the fault would never fire.
 */
function refuseUncountedFaults(suite: Suite, engine: LoadEngineName): void {
  const script = suite.spec.load?.script !== undefined;
  if (engine === 'builtin' && !script) return;
  suite.spec.faults.forEach((fault, i) => {
    if (!('afterRequests' in triggerOf(fault))) return;
    const who = engine === 'builtin' ? 'the built-in k6 runtime (spec.load.script)' : `engine ${engine}`;
    throw new UsageError(
      `spec.faults[${i}].${Object.keys(fault)[0]}.afterRequests: ${who} does not report completed requests while the load runs, so the fault would never fire; use at: (time into the load)${engine === 'builtin' ? '' : ' or --engine builtin'}`,
    );
  });
}

/** The engine a run uses: --engine (the `engine` option fixture under Playwright), else the suite's. */
export function engineFor(suite: Suite, engine?: LoadEngineName): LoadEngineName {
  return engine ?? suite.spec.load?.engine ?? 'builtin';
}
