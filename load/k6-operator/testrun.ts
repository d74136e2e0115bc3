import { UserError } from '../../core/errors.ts';
import type { ManifestObject } from '../../cluster/manifests.ts';

/**
 * The objects the k6-operator runner creates: the script ConfigMap and the TestRun, plus the names and labels
 * of what k6-operator makes from it. Pure.
 *
 * From k6-operator's source (pkg/resources/jobs, api/v1alpha1): runner Jobs are named `<testrun>-<i>`
 * (i from 1), their pods carry `app=k6`, `k6_cr=<testrun>`, `runner=true` (plus the Job's `job-name`), the
 * container is named `k6`, and a ConfigMap script is mounted at `/test/<file>`.
 */
export const TESTRUN_API_VERSION = 'k6.io/v1alpha1';
export const TESTRUN_KIND = 'TestRun';
export const SCRIPT_MOUNT = '/test';
export const RUNNER_CONTAINER = 'k6';

export const STAGES = ['initialization', 'initialized', 'created', 'started', 'stopped', 'finished', 'error'] as const;
export type Stage = (typeof STAGES)[number];

export function isTerminalStage(stage: string | undefined): stage is 'finished' | 'error' {
  return stage === 'finished' || stage === 'error';
}

export function runnerLabels(testRun: string): Record<string, string> {
  return { app: 'k6', k6_cr: testRun, runner: 'true' };
}

export function runnerSelector(testRun: string): string {
  return Object.entries(runnerLabels(testRun))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export function runnerJobName(testRun: string, index: number): string {
  return `${testRun}-${index}`;
}

/**
 * A fresh DNS-1123 name for one run. Short enough that `<name>-<i>-xxxxx` (the runner pod) stays within 63.
 */
export function testRunName(prefix: string, now = Date.now(), random = Math.random()): string {
  const clean =
    prefix
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 30) || 'k6';
  const suffix = `${now.toString(36).slice(-5)}${Math.floor(random * 36 ** 4)
    .toString(36)
    .padStart(4, '0')}`;
  return `${clean}-${suffix}`;
}

/** A ConfigMap holds at most 1 MiB in total. */
export const CONFIGMAP_MAX_BYTES = 1024 * 1024;

/** Relative imports a single-file ConfigMap cannot satisfy. */
export function localImports(source: string): string[] {
  const found: string[] = [];
  const re =
    /(?:^|[\n;])\s*(?:import|export)\b[^'"`;]*?\bfrom\s*['"](\.{1,2}\/[^'"]+)['"]|(?:^|[\n;])\s*import\s*['"](\.{1,2}\/[^'"]+)['"]/g;
  for (const m of source.matchAll(re)) {
    const spec = m[1] ?? m[2];
    if (spec) found.push(spec);
  }
  return found;
}

export interface ScriptConfigMapInput {
  name: string;
  namespace: string;
  /** The key, i.e. the file name k6 runs (`gateway-load.ts`): k6 v0.57+ runs .ts itself, so .ts stays .ts. */
  file: string;
  content: string;
  labels?: Record<string, string>;
}

export function scriptConfigMap(input: ScriptConfigMapInput): ManifestObject {
  if (!/^[-._a-zA-Z0-9]+$/.test(input.file))
    throw new UserError(`k6-operator: script file name ${JSON.stringify(input.file)} is not a valid ConfigMap key`);
  const bytes = Buffer.byteLength(input.content);
  if (bytes > CONFIGMAP_MAX_BYTES - 4096) {
    throw new UserError(`k6-operator: script ${input.file} is ${bytes} bytes; a ConfigMap holds at most 1 MiB`);
  }
  const imports = localImports(input.content);
  if (imports.length > 0) {
    throw new UserError(
      `k6-operator: script ${input.file} imports ${imports[0]}; a TestRun's ConfigMap carries one file: bundle the script first (e.g. esbuild --bundle)`,
    );
  }
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: input.name, namespace: input.namespace, labels: { ...(input.labels ?? {}) } },
    data: { [input.file]: input.content },
  };
}

export interface TestRunInput {
  name: string;
  namespace: string;
  configMap: string;
  file: string;
  parallelism: number;
  /** `spec.arguments` (see args.ts). */
  arguments: string;
  /** `spec.runner.image`; k6-operator defaults to grafana/k6:latest. */
  runnerImage?: string;
  /** `spec.runner.env`. */
  runnerEnv?: Record<string, string>;
  labels?: Record<string, string>;
}

export function testRunManifest(input: TestRunInput): ManifestObject {
  if (!Number.isInteger(input.parallelism) || input.parallelism < 1) {
    throw new UserError(`k6-operator: parallelism must be a whole number >= 1, not ${input.parallelism}`);
  }
  const runner: Record<string, unknown> = {};
  if (input.runnerImage) runner['image'] = input.runnerImage;
  if (input.runnerEnv && Object.keys(input.runnerEnv).length > 0) {
    runner['env'] = Object.entries(input.runnerEnv).map(([name, value]) => ({ name, value }));
  }
  return {
    apiVersion: TESTRUN_API_VERSION,
    kind: TESTRUN_KIND,
    metadata: { name: input.name, namespace: input.namespace, labels: { ...(input.labels ?? {}) } },
    spec: {
      parallelism: input.parallelism,
      script: { configMap: { name: input.configMap, file: input.file } },
      arguments: input.arguments,
      // Keep the runner pods after the run: their logs are the results. The runner deletes the TestRun itself.
      ...(Object.keys(runner).length > 0 ? { runner } : {}),
    },
  };
}
