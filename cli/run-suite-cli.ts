/**
 * `pd-harness run SUITE`: validates the suite, undoes what killed runs left behind (orphan journals), then
 * either prints the plan (--dry-run, read-only) or runs Playwright's project for the suite with
 * PD_HARNESS_SUITE / PD_HARNESS_KUBECONFIG / PD_HARNESS_GATEWAY / PD_HARNESS_ENGINE. Ctrl-C and SIGTERM are
 * passed to Playwright as SIGINT, so its fixtures' teardown restores what the run changed.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { packageRoot } from '../common/build.mjs';
import type { Cluster } from '../cluster/driver.ts';
import { loadSuite, SuiteValidationError, type LoadedSuite } from '../suites/loader.ts';
import { projectOf } from '../suites/select.ts';
import type { RunOptions } from './commands/run.ts';
import { checkOutputDir, markOutputDir, OutputDirRefused } from '../common/output-dir.ts';
import { EXIT, HarnessError, TargetError, UserError } from './errors.ts';
import type { OutcomeLine } from '../runner/outcome.ts';
import { runPlaywright } from './playwright-child.ts';
import { makeOutcomeDir } from '../runner/outcome-dir.ts';
import { formatTimeoutOverrides, parseTimeoutFlags, TIMEOUTS_ENV } from '../runner/timeouts.ts';

const ROOT = packageRoot(import.meta.url);

export function loadSuiteOrExplain(file: string): LoadedSuite {
  if (!existsSync(file)) throw new UserError(`suite file not found: ${file}`);
  try {
    return loadSuite(file);
  } catch (err) {
    if (err instanceof SuiteValidationError) {
      const others = err.problems.length - 1 + err.more;
      const more = others > 0 ? ` (and ${others} more: pd-harness validate ${file})` : '';
      throw new UserError(`invalid suite: ${err.message.split('\n')[0]}${more}`, EXIT.usage, { cause: err });
    }
    throw err;
  }
}

/** The Playwright project a suite belongs to (suites/select.ts decides it, for the projects too). */
export const projectFor = projectOf;

/** What a running twin left in its state file: its kubeconfig and gateway. */
export interface TwinStateLike {
  kubeconfigPath: string;
  gatewayUrl: string;
}

export type RunTarget = { kind: 'twin' } | { kind: 'kubeconfig'; kubeconfig: string; gateway?: string; twinGateway?: boolean };

/**
 * The target the options name: a kubeconfig (flag, or PD_HARNESS_KUBECONFIG) or the twin. When the
 * kubeconfig is a running twin's own, its gateway comes from the twin's state (no PD_HARNESS_GATEWAY needed).
 */
export function resolveTarget(opts: RunOptions, env: NodeJS.ProcessEnv = process.env, twin?: TwinStateLike): RunTarget {
  const kubeconfig = opts.kubeconfig ?? env.PD_HARNESS_KUBECONFIG;
  const kind = opts.target ?? (kubeconfig ? 'kubeconfig' : 'twin');
  if (kind === 'twin') {
    if (opts.kubeconfig) throw new UserError('--kubeconfig goes with --target kubeconfig, not --target twin');
    return { kind };
  }
  if (!kubeconfig) throw new UserError('--target kubeconfig needs --kubeconfig FILE (or PD_HARNESS_KUBECONFIG)');
  const path = resolve(kubeconfig);
  if (!existsSync(path)) throw new UserError(`kubeconfig not found: ${kubeconfig}`);
  const explicit = opts.gateway ?? env.PD_HARNESS_GATEWAY;
  if (explicit) return { kind, kubeconfig: path, gateway: explicit };
  if (twin && resolve(twin.kubeconfigPath) === path) return { kind, kubeconfig: path, gateway: twin.gatewayUrl, twinGateway: true };
  return { kind, kubeconfig: path };
}

/** The environment the Playwright specs read. */
export function runEnv(suiteFile: string, opts: RunOptions, target: RunTarget): Record<string, string> {
  const timeouts = formatTimeoutOverrides(parseTimeoutFlags(opts.timeout ?? []));
  return {
    ...(timeouts ? { [TIMEOUTS_ENV]: timeouts } : {}),
    PD_HARNESS_SUITE: resolve(suiteFile),
    ...(target.kind === 'kubeconfig'
      ? { PD_HARNESS_KUBECONFIG: target.kubeconfig, ...(target.gateway ? { PD_HARNESS_GATEWAY: target.gateway } : {}) }
      : {}),
    ...(opts.engine ? { PD_HARNESS_ENGINE: opts.engine } : {}),
    ...(opts.allowProtected ? { PD_HARNESS_ALLOW_PROTECTED: '1' } : {}),
  };
}

function checkOutputDirOrExplain(dir: string, flag: string, force?: boolean): void {
  try {
    checkOutputDir(dir, flag, { force: !!force });
  } catch (err) {
    if (err instanceof OutputDirRefused) throw new UserError(err.message, EXIT.usage, { cause: err });
    throw err;
  }
}

/**
 * The running twin's state (`twin up` writes it: twin/launcher.ts stateFile, DEFAULT_STATE_DIR), read as a
 * file so that the CLI does not load the whole twin to find a gateway URL.
 */
function runningTwin(): TwinStateLike | undefined {
  try {
    const state = JSON.parse(readFileSync(resolve('.pd-harness/twin/twin.json'), 'utf8')) as Partial<TwinStateLike>;
    return typeof state.kubeconfigPath === 'string' && typeof state.gatewayUrl === 'string'
      ? { kubeconfigPath: state.kubeconfigPath, gatewayUrl: state.gatewayUrl }
      : undefined;
  } catch {
    return undefined;
  }
}

export async function runSuiteCommand(suiteFile: string, opts: RunOptions): Promise<number> {
  // a bad --timeout is bad usage: one line, exit 2, before the suite is even read
  parseTimeoutFlags(opts.timeout ?? []);
  const loaded = loadSuiteOrExplain(suiteFile);
  const target = resolveTarget(opts, process.env, opts.kubeconfig || process.env.PD_HARNESS_KUBECONFIG ? runningTwin() : undefined);
  if (opts.dryRun) return dryRun(loaded, target, opts);
  // Playwright empties its output directory first: only one that is new, empty or pd-harness's own
  if (opts.output) checkOutputDirOrExplain(opts.output, '--output', opts.force);
  // first what needs no cluster (a missing k6 answers in a second, before the cluster client is loaded)
  const { engineFor, staticPreflight } = await import('../chaos/preflight-static.ts');
  staticPreflight({ suite: loaded.suite, engine: engineFor(loaded.suite, opts.engine) });
  await checkBeforeRun(loaded, target, opts);
  const { formatRecoveryReport, recoverOrphanJournals, JOURNAL_DIR } = await import('../cluster/recover.ts');
  const report = formatRecoveryReport(await recoverOrphanJournals(JOURNAL_DIR));
  if (report) process.stderr.write(report);
  const project = projectFor(loaded.suite);
  process.stderr.write(`pd-harness: running suite ${loaded.suite.metadata.name} (project ${project}, target ${target.kind})\n`);
  const output = opts.output ? ['--output', resolve(opts.output)] : [];
  const dir = makeOutcomeDir();
  const outcomeFile = join(dir, 'outcome.jsonl');
  try {
    const code = await runPlaywright(
      ['--project', project, '--workers', '1', ...output],
      { ...runEnv(suiteFile, opts, target), PD_HARNESS_OUTCOME_FILE: outcomeFile },
      ROOT,
    );
    if (opts.output) markOutputDir(resolve(opts.output));
    const { readOutcomes } = await import('../runner/outcome.ts');
    const summary = summarizeOutcomes(readOutcomes(outcomeFile), code);
    if (summary.text) process.stderr.write(summary.text);
    return summary.exitCode;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * One line per criterion (pass or FAIL, with its summary and a failure's cause), or the one line that stopped a suite; the exit
 * code: a refusal or an unreachable target keeps its own code, else Playwright's (1 when a criterion failed).
 */
export function summarizeOutcomes(lines: readonly OutcomeLine[], playwrightCode: number): { text: string; exitCode: number } {
  const out: string[] = [];
  let exitCode = playwrightCode;
  for (const l of lines) {
    if ('error' in l) {
      out.push(`pd-harness: ${l.suite}: stopped: ${l.error}`);
      if (l.exitCode !== EXIT.criterionFailed) exitCode = l.exitCode;
      continue;
    }
    for (const v of l.verdicts)
      out.push(
        `pd-harness: ${l.suite}: criterion ${v.name}: ${v.ok ? 'pass' : 'FAIL'}: ${v.summary}${!v.ok && v.cause ? ` [cause: ${v.cause}]` : ''}`,
      );
    if (l.verdicts.some((v) => !v.ok) && exitCode === EXIT.pass) exitCode = EXIT.criterionFailed;
  }
  return { text: out.length ? `${out.join('\n')}\n` : '', exitCode };
}

/**
 * Everything that can be judged before Playwright starts, so a run that would fail on its input fails in
 * seconds with one line and nothing written: runner/run-plan.ts's checkRun, the same check the runner repeats
 * against the live target right before its first write. On the twin (which exists only inside the run) the
 * static part: the engine and script, the load plan, the guard over the write set; on a kubeconfig target also
 * the API server, the gateway and the authorization for every write.
 */
async function checkBeforeRun(loaded: LoadedSuite, target: RunTarget, opts: RunOptions): Promise<void> {
  const { checkRun } = await import('../runner/run-plan.ts');
  const { suite } = loaded;
  const common = { allowProtected: !!opts.allowProtected, ...(opts.engine ? { engine: opts.engine } : {}) };
  if (target.kind === 'twin') {
    // a fresh twin holds nothing but the target: the static guard is the whole guard until the run re-checks it live
    await checkRun(loaded, { ...common, twin: true, live: false });
    return;
  }
  const cluster = await connectTarget(target);
  const gateway = suite.spec.target.gateway ?? target.gateway;
  await checkRun(loaded, { ...common, cluster, twin: !!target.twinGateway, live: true, ...(gateway ? { gatewayUrl: gateway } : {}) });
  if (suite.spec.load && !gateway) {
    throw new UserError(
      'no gateway for the load: pass --gateway URL or set PD_HARNESS_GATEWAY (e.g. http://127.0.0.1:18080 after kubectl port-forward -n llm-d-inference-scheduler svc/<gateway> 18080:80)',
    );
  }
}

async function connectTarget(target: Extract<RunTarget, { kind: 'kubeconfig' }>): Promise<Cluster> {
  const { Cluster } = await import('../cluster/driver.ts');
  try {
    return await Cluster.connect({ kubeconfigPath: target.kubeconfig });
  } catch (err) {
    if (err instanceof HarnessError) throw err;
    throw new TargetError(`cannot reach the cluster of ${target.kubeconfig}: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
}

async function connectForDryRun(target: RunTarget): Promise<{ cluster?: Cluster; where: string; twin: boolean }> {
  const { Cluster } = await import('../cluster/driver.ts');
  if (target.kind === 'kubeconfig') {
    return { cluster: await connectTarget(target), where: `cluster of ${target.kubeconfig}`, twin: !!target.twinGateway };
  }
  const { DEFAULT_STATE_DIR, readTwinState } = await import('../twin/launcher.ts');
  const state = readTwinState(resolve(DEFAULT_STATE_DIR));
  if (state && existsSync(state.kubeconfigPath)) {
    try {
      return {
        cluster: await Cluster.connect({ kubeconfigPath: state.kubeconfigPath }),
        where: `the running twin (${state.apiUrl})`,
        twin: true,
      };
    } catch {
      // a stale state file: fall through
    }
  }
  return { where: 'no running twin: a run starts a fresh one, so pods are chosen when the faults fire', twin: true };
}

/**
 * Prints what a run would do: every object it would write with the guard's verdict, the faults and the
 * pods they would act on now, and the preflight. Reads only (lists, gets, discovery), so nothing changes.
 * Exits as the run would before its first write: 4 refused, 2 bad input, 3 unreachable, else 0.
 */
async function dryRun(loaded: LoadedSuite, target: RunTarget, opts: RunOptions): Promise<number> {
  const { suite } = loaded;
  const { engineFor, formatRunPlan, checkRun } = await import('../runner/run-plan.ts');
  const { describeSetupStep } = await import('../runner/setup.ts');
  const { describeLoad } = await import('../runner/load.ts');
  const { describeTimeouts } = await import('../runner/timeouts.ts');
  const { describeCheck, steadyStateChecks } = await import('../chaos/steady-state.ts');
  const { cluster, where, twin } = await connectForDryRun(target);
  const engine = engineFor(suite, opts.engine);
  const out: string[] = [`dry run of suite ${suite.metadata.name} (project ${projectOf(suite)}) against ${where}; nothing is changed`];
  out.push(`deploy: ${suite.spec.deploy.length} manifest path(s)`);
  for (const step of suite.spec.setup) out.push(`setup: ${describeSetupStep(step)}`);
  if (suite.spec.faults.length) out.push(`steady state: ${steadyStateChecks(suite).map(describeCheck).join('; ')}`);
  if (suite.spec.load)
    out.push(`load: ${describeLoad(suite.spec.load)}${engine !== suite.spec.load.engine ? ` [--engine ${engine}]` : ''}`);
  if (suite.spec.recovery)
    out.push(`recovery: within ${suite.spec.recovery.within / 1000}s, error rate at most ${suite.spec.recovery.maxErrorRate}`);
  out.push(...describeTimeouts(suite, parseTimeoutFlags(opts.timeout ?? [])));
  process.stdout.write(`${out.join('\n')}\n`);
  // the run's own check (the plan printed before it is judged), with the static preflight: reads only
  await checkRun(loaded, {
    ...(cluster ? { cluster } : {}),
    twin,
    engine,
    allowProtected: !!opts.allowProtected,
    live: false,
    onPlan: (plan) => void process.stdout.write(formatRunPlan(plan)),
    ...(process.env.PD_HARNESS_SEED ? { seed: process.env.PD_HARNESS_SEED } : {}),
  });
  process.stdout.write(
    `preflight: engine ${engine}${suite.spec.load?.script ? `, script ${suite.spec.load.script}` : ''} and load plan ok (the run also checks the gateway and authorization)\n`,
  );
  return 0;
}
