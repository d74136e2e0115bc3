/**
 * `pd-harness run SUITE`: validates the suite, undoes what killed runs left behind (orphan journals), then
 * either prints the plan (--dry-run, read-only) or runs Playwright's project for the suite with
 * PD_HARNESS_SUITE / PD_HARNESS_KUBECONFIG / PD_HARNESS_GATEWAY / PD_HARNESS_ENGINE. Ctrl-C and SIGTERM are
 * passed to Playwright as SIGINT, so its fixtures' teardown restores what the run changed.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { packageRoot } from '../common/build.mjs';
import type { Cluster } from '../cluster/driver.ts';
import { loadSuite, SuiteValidationError, type LoadedSuite } from '../suites/loader.ts';
import type { Suite } from '../suites/schema.ts';
import type { RunOptions } from './commands/run.ts';
import { checkOutputDir, markOutputDir, OutputDirRefused } from '../reporters/output-dir.ts';
import { UserError } from './errors.ts';
import { runPlaywright } from './playwright-child.ts';

const ROOT = packageRoot(import.meta.url);
export const JOURNAL_DIR = resolve(ROOT, '.pd-harness/journals');

export function loadSuiteOrExplain(file: string): LoadedSuite {
  if (!existsSync(file)) throw new UserError(`suite file not found: ${file}`);
  try {
    return loadSuite(file);
  } catch (err) {
    if (err instanceof SuiteValidationError) {
      const more = err.problems.length > 1 ? ` (and ${err.problems.length - 1} more: pd-harness validate ${file})` : '';
      throw new UserError(`invalid suite: ${err.message.split('\n')[0]}${more}`);
    }
    throw err;
  }
}

/** The Playwright project a suite belongs to: repro, chaos (faults or the tag), else conformance. */
export function projectFor(suite: Suite): 'conformance' | 'chaos' | 'repro' {
  const tags = suite.metadata.tags;
  if (tags.includes('repro') || suite.spec.repro) return 'repro';
  if (tags.includes('chaos') || suite.spec.faults.length > 0) return 'chaos';
  return 'conformance';
}

/** The target the options name: a kubeconfig (flag, or PD_HARNESS_KUBECONFIG) or the twin. */
export function resolveTarget(opts: RunOptions, env: NodeJS.ProcessEnv = process.env): { kind: 'twin' } | { kind: 'kubeconfig'; kubeconfig: string; gateway?: string } {
  const kubeconfig = opts.kubeconfig ?? env.PD_HARNESS_KUBECONFIG;
  const kind = opts.target ?? (kubeconfig ? 'kubeconfig' : 'twin');
  if (kind === 'twin') {
    if (opts.kubeconfig) throw new UserError('--kubeconfig goes with --target kubeconfig, not --target twin');
    return { kind };
  }
  if (!kubeconfig) throw new UserError('--target kubeconfig needs --kubeconfig FILE (or PD_HARNESS_KUBECONFIG)');
  const path = resolve(kubeconfig);
  if (!existsSync(path)) throw new UserError(`kubeconfig not found: ${kubeconfig}`);
  const gateway = opts.gateway ?? env.PD_HARNESS_GATEWAY;
  return { kind, kubeconfig: path, ...(gateway ? { gateway } : {}) };
}

/** The environment the Playwright specs read. */
export function runEnv(suiteFile: string, opts: RunOptions, target: ReturnType<typeof resolveTarget>): Record<string, string> {
  return {
    PD_HARNESS_SUITE: resolve(suiteFile),
    ...(target.kind === 'kubeconfig' ? { PD_HARNESS_KUBECONFIG: target.kubeconfig, ...(target.gateway ? { PD_HARNESS_GATEWAY: target.gateway } : {}) } : {}),
    ...(opts.engine ? { PD_HARNESS_ENGINE: opts.engine } : {}),
  };
}

function checkOutputDirOrExplain(dir: string, flag: string, force?: boolean): void {
  try {
    checkOutputDir(dir, flag, { force: !!force });
  } catch (err) {
    if (err instanceof OutputDirRefused) throw new UserError(err.message);
    throw err;
  }
}

export async function runSuiteCommand(suiteFile: string, opts: RunOptions): Promise<number> {
  const loaded = loadSuiteOrExplain(suiteFile);
  const target = resolveTarget(opts);
  if (opts.dryRun) return dryRun(loaded, target);
  // Playwright empties its output directory first: only one that is new, empty or pd-harness's own
  if (opts.output) checkOutputDirOrExplain(opts.output, '--output', opts.force);
  const { formatRecoveryReport, recoverOrphanJournals } = await import('../cluster/recover.ts');
  const report = formatRecoveryReport(await recoverOrphanJournals(JOURNAL_DIR));
  if (report) process.stderr.write(report);
  const project = projectFor(loaded.suite);
  process.stderr.write(`pd-harness: running suite ${loaded.suite.metadata.name} (project ${project}, target ${target.kind})\n`);
  const output = opts.output ? ['--output', resolve(opts.output)] : [];
  const code = await runPlaywright(['--project', project, '--workers', '1', ...output], runEnv(suiteFile, opts, target), ROOT);
  if (opts.output) markOutputDir(resolve(opts.output));
  return code;
}

async function connectForDryRun(target: ReturnType<typeof resolveTarget>): Promise<{ cluster?: Cluster; where: string; twin: boolean }> {
  const { Cluster } = await import('../cluster/driver.ts');
  if (target.kind === 'kubeconfig') {
    try {
      return { cluster: await Cluster.connect({ kubeconfigPath: target.kubeconfig }), where: `cluster of ${target.kubeconfig}`, twin: false };
    } catch (err) {
      throw new UserError(`cannot reach the cluster of ${target.kubeconfig}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  const { DEFAULT_STATE_DIR, readTwinState } = await import('../twin/launcher.ts');
  const state = readTwinState(resolve(DEFAULT_STATE_DIR));
  if (state && existsSync(state.kubeconfigPath)) {
    try {
      return { cluster: await Cluster.connect({ kubeconfigPath: state.kubeconfigPath }), where: `the running twin (${state.apiUrl})`, twin: true };
    } catch {
      // a stale state file: fall through
    }
  }
  return { where: 'no running twin: a run starts a fresh one, so pods are chosen when the faults fire', twin: true };
}

/** Prints what a run would do; reads only (lists and gets), so nothing in the cluster changes. */
async function dryRun(loaded: LoadedSuite, target: ReturnType<typeof resolveTarget>): Promise<number> {
  const { suite } = loaded;
  const { readManifests } = await import('../cluster/manifests.ts');
  const { preflightGuard } = await import('../chaos/preflight.ts');
  const { formatPlan, guardSubjects, planFaults, planProblems } = await import('../chaos/plan.ts');
  const { guardFaults } = await import('../chaos/guard.ts');
  const { describeSetupStep } = await import('../runner/setup.ts');
  const { describeLoad } = await import('../runner/load.ts');
  const { describeCheck, steadyStateChecks } = await import('../chaos/steady-state.ts');
  const manifests = readManifests(suite.spec.deploy);
  const { cluster, where, twin } = await connectForDryRun(target);
  const out: string[] = [`dry run of suite ${suite.metadata.name} (project ${projectFor(suite)}) against ${where}; nothing is changed`];
  out.push(`deploy: ${manifests.length} object(s) from ${suite.spec.deploy.length} manifest path(s)`);
  for (const step of suite.spec.setup) out.push(`setup: ${describeSetupStep(step)}`);
  if (suite.spec.faults.length) out.push(`steady state: ${steadyStateChecks(suite).map(describeCheck).join('; ')}`);
  if (suite.spec.load) out.push(`load: ${describeLoad(suite.spec.load)}`);
  if (suite.spec.recovery) out.push(`recovery: within ${suite.spec.recovery.within / 1000}s, error rate at most ${suite.spec.recovery.maxErrorRate}`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (suite.spec.faults.length === 0) return 0;
  const plan = await planFaults(cluster, suite, { twin, manifests });
  process.stdout.write(formatPlan(suite.metadata.name, plan));
  const pre = preflightGuard(suite, manifests);
  if (!pre.ok) throw new UserError(pre.message);
  const live = guardFaults(suite.spec.target, guardSubjects(plan));
  if (!live.ok) throw new UserError(live.message);
  const problems = planProblems(plan, { requirePods: false });
  if (problems.length) throw new UserError(`chaos plan refused: ${problems.join('; ')}`);
  process.stdout.write('guard: every fault is inside spec.target\n');
  return 0;
}

