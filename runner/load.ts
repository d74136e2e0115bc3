import { formatDuration } from '../suites/durations.ts';
import { runLoad } from '../load/builtin/engine.ts';
import { consoleProgress } from '../load/progress.ts';
import { fromSuiteLoad } from '../load/plan.ts';
import type { LoadResult } from '../load/result.ts';
import type { Suite } from '../suites/schema.ts';

export interface SuiteLoadOptions {
  gatewayUrl: string;
  signal?: AbortSignal;
  /** A real cluster's gateway is not on loopback: the target decides whether that is allowed. */
  allowRemote?: boolean;
}

type LoadSpec = NonNullable<Suite['spec']['load']>;

/** Runs a suite's load with the engine it names; every engine returns the same result model. */
export async function runSuiteLoad(load: LoadSpec, opts: SuiteLoadOptions): Promise<LoadResult> {
  const { engine, plan } = fromSuiteLoad(load);
  if (engine !== 'builtin') {
    throw new Error(`load engine ${engine} is not wired into suite runs yet: use engine: builtin`);
  }
  return runLoad(plan, {
    baseUrl: opts.gatewayUrl,
    ...(opts.signal ? { signal: opts.signal } : {}),
    allowRemote: !!opts.allowRemote,
    onProgress: consoleProgress(),
  });
}

export function describeLoad(load: LoadSpec): string {
  const shape =
    load.requests !== undefined
      ? `${load.requests} requests at concurrency ${load.concurrency ?? 1}`
      : load.rate !== undefined
        ? `${load.rate}/s for ${load.duration}ms`
        : `k6 script ${load.script}`;
  return `${shape} (${load.engine}) ${load.request.method} ${load.request.path}`;
}
