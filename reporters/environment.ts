import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../common/build.mjs';
import { redact } from '../core/redact.ts';
import { COMMAND_TIMEOUTS } from '../core/timeouts.ts';

/**
 * The Allure "Environment" widget: what ran against what. Workers record entries at runtime as small
 * fragment files in the results dir (several workers, no shared memory); at the end of the run the
 * conformance reporter (or `pd-harness report`) merges them into `environment.properties`, after
 * allure-playwright has written its own static entries, and removes the fragments.
 */

export type EnvEntries = Record<string, string>;

const FRAGMENT_PREFIX = 'pd-harness-env-';
const FRAGMENT_SUFFIX = '.fragment';

export function defaultResultsDir(): string {
  return resolve(process.env.ALLURE_RESULTS_DIR ?? 'allure-results');
}

const ROOT = pathToFileURL(`${packageRoot(import.meta.url)}/`);

export function harnessVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The checkout's commit (CI's GITHUB_SHA when set), `unknown` outside git. */
export function gitCommit(): string {
  if (process.env.GITHUB_SHA) return process.env.GITHUB_SHA;
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: new URL('.', ROOT).pathname,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: COMMAND_TIMEOUTS.gitCommit,
    }).trim();
  } catch {
    return 'unknown';
  }
}

export function harnessEnvironment(): EnvEntries {
  return { 'pd-harness.version': harnessVersion(), 'git.commit': gitCommit(), 'node.version': process.version };
}

/** The fields of the `target` fixture the report shows. */
export interface TargetLike {
  kind: 'twin' | 'cluster';
  gatewayUrl: string;
  info: { server: string; serverVersion?: string | undefined; context?: string };
}

export function targetEnvironment(t: TargetLike): EnvEntries {
  return {
    'target.kind': t.kind,
    'target.apiServer': t.info.server,
    'target.serverVersion': t.info.serverVersion ?? 'unknown',
    ...(t.info.context ? { 'target.context': t.info.context } : {}),
    'gateway.url': t.gatewayUrl,
  };
}

/** What the EPP ran: its image, and the SchedulerInstall's configProfile (the seed's names). */
export interface ObjectReader {
  tryRead<T>(ref: { apiVersion: string; kind: string; name: string; namespace?: string }): Promise<T | undefined>;
}

export async function readEppEnvironment(cluster: ObjectReader): Promise<EnvEntries> {
  const ns = 'llm-d-inference-scheduler';
  const out: EnvEntries = {};
  const deploy = await cluster
    .tryRead<{ spec?: { template?: { spec?: { containers?: { image?: string }[] } } } }>({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'gaie-inference-scheduling-epp',
      namespace: ns,
    })
    .catch(() => undefined);
  const image = deploy?.spec?.template?.spec?.containers?.[0]?.image;
  if (image) out['epp.image'] = image;
  const install = await cluster
    .tryRead<{ spec?: { epp?: { configProfile?: string; image?: string } } }>({
      apiVersion: 'sim.llm-d.io/v1alpha1',
      kind: 'SchedulerInstall',
      name: 'llm-sched-install',
      namespace: ns,
    })
    .catch(() => undefined);
  if (install?.spec?.epp?.configProfile) out['epp.profile'] = install.spec.epp.configProfile;
  if (!out['epp.image'] && install?.spec?.epp?.image) out['epp.image'] = install.spec.epp.image;
  return out;
}

/** The EPP's loaded scheduling profile as one line: `default: filters by-label-selector; scorers active-request-scorer; picker max-score-picker`. */
export function describeLoadedProfiles(
  profiles: readonly { profile: string; filters: string[]; scorers: string[]; picker?: string | undefined }[],
): string {
  return profiles
    .map((p) =>
      [
        `${p.profile}:`,
        p.filters.length ? `filters ${p.filters.join(', ')};` : '',
        `scorers ${p.scorers.join(', ') || '(none)'}`,
        p.picker ? `; picker ${p.picker}` : '',
      ]
        .filter(Boolean)
        .join(' ')
        .replace(' ;', ';'),
    )
    .join(' + ');
}

/**
 * Records entries for this run's environment. Never throws: the environment is evidence, not a test step.
 * Values are redacted (an API server URL with credentials must not reach the report).
 */
let fragmentSeq = 0;

export function recordEnvironment(entries: EnvEntries, resultsDir = defaultResultsDir()): void {
  try {
    mkdirSync(resultsDir, { recursive: true });
    // names sort in recording order: time, then a per-process sequence for the same millisecond
    const file = join(
      resultsDir,
      `${FRAGMENT_PREFIX}${String(Date.now()).padStart(15, '0')}-${String(++fragmentSeq).padStart(6, '0')}-${process.pid}${FRAGMENT_SUFFIX}`,
    );
    writeFileSync(file, JSON.stringify(Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, redact(v)]))));
  } catch {
    // a read-only results dir must not fail the test
  }
}

/** Java-properties text (Allure reads `key = value` lines; `\`, `=`, `:` escaped in keys). */
export function formatProperties(env: EnvEntries): string {
  const escValue = (s: string) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  const escKey = (s: string) => escValue(s).replace(/([=: ])/g, '\\$1');
  return (
    Object.keys(env)
      .sort()
      .map((k) => `${escKey(k)} = ${escValue(env[k]!)}`)
      .join('\n') + '\n'
  );
}

export function parseProperties(text: string): EnvEntries {
  const out: EnvEntries = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('!')) continue;
    const m = /^((?:\\.|[^=:\s\\])+)\s*[=:]?\s*(.*)$/.exec(line);
    if (!m) continue;
    const unesc = (s: string) => s.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    out[unesc(m[1]!)] = unesc(m[2]!);
  }
  return out;
}

/** Between the values of a key seen with several (values themselves may hold commas). */
export const LIST_SEPARATOR = ' | ';

/** Merges entries: a key seen with different values lists them all (e.g. two EPP profiles in one run). */
export function mergeEnvironment(...sets: EnvEntries[]): EnvEntries {
  const values = new Map<string, string[]>();
  for (const set of sets) {
    for (const [k, v] of Object.entries(set)) {
      const parts = v.split(LIST_SEPARATOR);
      const list = values.get(k) ?? [];
      for (const p of parts) if (p && !list.includes(p)) list.push(p);
      values.set(k, list);
    }
  }
  return Object.fromEntries([...values].map(([k, list]) => [k, list.join(LIST_SEPARATOR)]));
}

/** Folds the fragments into environment.properties (keeping what is there) and deletes them. */
export function finalizeEnvironment(resultsDir = defaultResultsDir()): EnvEntries | undefined {
  if (!existsSync(resultsDir)) return undefined;
  const fragments = readdirSync(resultsDir)
    .filter((f) => f.startsWith(FRAGMENT_PREFIX) && f.endsWith(FRAGMENT_SUFFIX))
    .sort();
  const propsFile = join(resultsDir, 'environment.properties');
  const existing = existsSync(propsFile) ? parseProperties(readFileSync(propsFile, 'utf8')) : {};
  if (fragments.length === 0) return existing;
  const sets: EnvEntries[] = [];
  for (const f of fragments) {
    try {
      sets.push(JSON.parse(readFileSync(join(resultsDir, f), 'utf8')) as EnvEntries);
    } catch {
      // a fragment cut short by a killed worker: skip it
    }
  }
  const merged = mergeEnvironment(existing, ...sets);
  writeFileSync(propsFile, redact(formatProperties(merged)));
  for (const f of fragments) rmSync(join(resultsDir, f), { force: true });
  return merged;
}

/** Drops fragments left by an earlier, interrupted run (called when a run begins). */
export function clearEnvironmentFragments(resultsDir = defaultResultsDir()): void {
  if (!existsSync(resultsDir)) return;
  for (const f of readdirSync(resultsDir))
    if (f.startsWith(FRAGMENT_PREFIX) && f.endsWith(FRAGMENT_SUFFIX)) rmSync(join(resultsDir, f), { force: true });
}

/** An ObjectReader over a kubeconfig (no cluster driver needed: used once per worker, read-only). */
export async function kubeconfigReader(kc: import('#client-node').KubeConfig): Promise<ObjectReader> {
  const { KubernetesObjectApi } = await import('#client-node');
  const api = KubernetesObjectApi.makeApiClient(kc);
  return {
    async tryRead<T>(ref: { apiVersion: string; kind: string; name: string; namespace?: string }): Promise<T | undefined> {
      try {
        return (await api.read({
          apiVersion: ref.apiVersion,
          kind: ref.kind,
          metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
        })) as T;
      } catch {
        return undefined;
      }
    },
  };
}

/** What the target fixture records once per worker: harness, target and (when already installed) the EPP. */
export async function recordTargetEnvironment(target: TargetLike, reader?: ObjectReader): Promise<void> {
  const epp = reader ? await readEppEnvironment(reader).catch(() => ({})) : {};
  recordEnvironment({ ...harnessEnvironment(), ...targetEnvironment(target), ...epp });
}
