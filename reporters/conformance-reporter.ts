import type { FullConfig, FullResult, Reporter, Suite, TestCase, TestResult } from '@playwright/test/reporter';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { buildConformanceReport, conformanceReportYaml, isProfileName, type SuiteRun } from './conformance-report.ts';
import { writeFileAtomic } from '../common/atomic-write.ts';
import { redact } from '../core/redact.ts';
import { FAILURE_CAUSES, type FailureCause } from '../criteria/verdict.ts';
import {
  clearEnvironmentFragments,
  defaultResultsDir,
  finalizeEnvironment,
  gitCommit,
  harnessVersion,
  type EnvEntries,
} from './environment.ts';

export interface ConformanceReporterOptions {
  /** Where the YAML goes; default reports/conformance-report.yaml. */
  outputFile?: string;
  /** The Allure results dir whose environment fragments are merged at the end; default ALLURE_RESULTS_DIR or allure-results. */
  resultsDir?: string;
}

/**
 * A Playwright reporter: collects the conformance / chaos / repro tests with their `criteria.json`
 * attachments and writes `reports/conformance-report.yaml` at the end. It also folds the workers'
 * environment fragments into Allure's environment.properties — list it after allure-playwright, whose
 * own onEnd writes that file first.
 */
export default class ConformanceReporter implements Reporter {
  private readonly runs: SuiteRun[] = [];
  private readonly outputFile: string;
  private readonly resultsDir: string;

  constructor(options: ConformanceReporterOptions = {}) {
    this.outputFile = resolve(options.outputFile ?? 'reports/conformance-report.yaml');
    this.resultsDir = resolve(options.resultsDir ?? defaultResultsDir());
  }

  printsToStdio(): boolean {
    return false;
  }

  onBegin(_config: FullConfig, _suite: Suite): void {
    clearEnvironmentFragments(this.resultsDir);
  }

  onTestEnd(test: TestCase, result: TestResult): void {
    const profile = test.parent.project()?.name ?? '';
    if (!isProfileName(profile)) return;
    const run: SuiteRun = { profile, name: test.title, status: result.status, durationMs: result.duration };
    if (test.tags.length) run.tags = test.tags.map((t) => t.replace(/^@/, ''));
    const message = result.errors[0]?.message ?? result.error?.message;
    if (message) run.errorMessage = message;
    const criteria = criteriaOf(result);
    if (criteria) run.criteria = criteria;
    this.runs.push(run);
  }

  onEnd(_result: FullResult): void {
    const env = finalizeEnvironment(this.resultsDir) ?? {};
    if (this.runs.length === 0) return; // a unit-only run leaves the last conformance report alone
    const report = buildConformanceReport(this.runs, {
      date: new Date(),
      harness: { version: harnessVersion(), gitCommit: gitCommit() },
      target: targetOf(env),
    });
    mkdirSync(dirname(this.outputFile), { recursive: true });
    writeFileAtomic(this.outputFile, redact(conformanceReportYaml(report)));
  }
}

function criteriaOf(result: TestResult): SuiteRun['criteria'] | undefined {
  const att = result.attachments.find((a) => a.name === 'criteria.json');
  if (!att) return undefined;
  try {
    const text = att.body ? att.body.toString('utf8') : att.path ? readFileSync(att.path, 'utf8') : '';
    const list = JSON.parse(text) as { name?: unknown; ok?: unknown; summary?: unknown; cause?: unknown }[];
    return list
      .filter((v) => typeof v.name === 'string')
      .map((v) => ({ name: String(v.name), ok: v.ok === true, summary: String(v.summary ?? ''), ...causeOf(v.cause) }));
  } catch {
    return undefined;
  }
}

function causeOf(value: unknown): { cause?: FailureCause } {
  return (FAILURE_CAUSES as readonly unknown[]).includes(value) ? { cause: value as FailureCause } : {};
}

/** The target as the environment recorded it; several workers (one twin each) list theirs as `a | b`. */
function targetOf(env: EnvEntries): {
  kind: 'twin' | 'cluster' | 'unknown';
  apiServer?: string;
  serverVersion?: string;
  gatewayUrl?: string;
} {
  const kind = env['target.kind'];
  return {
    kind: kind === 'twin' || kind === 'cluster' ? kind : 'unknown',
    ...(env['target.apiServer'] ? { apiServer: env['target.apiServer'] } : {}),
    ...(env['target.serverVersion'] ? { serverVersion: env['target.serverVersion'] } : {}),
    ...(env['gateway.url'] ? { gatewayUrl: env['gateway.url'] } : {}),
  };
}
