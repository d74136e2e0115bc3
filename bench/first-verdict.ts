/**
 * Figure 4: time to first verdict. `playwright test --project=conformance` from cold on the twin (the
 * fixture starts a twin per worker), once for every conformance suite and once with PD_HARNESS_SUITE naming
 * proxy-performance. Baseline: the seed's manual flow on a cluster, whose `kubectl rollout status
 * --timeout=180s` alone may wait 180 s (a documented constant, not measured here).
 *
 * Playwright runs with cwd in a temp dir (a `suites` symlink, the repo's config) so its `.pd-harness/`
 * twin state cannot collide with other runs in the checkout; the JSON reporter gives per-step times.
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Outcome } from './figures.ts';
import { runTimed } from './proc.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PLAYWRIGHT_CLI = join(ROOT, 'node_modules/@playwright/test/cli.js');
export const SEED_ROLLOUT_WAIT_S = 180;

interface JsonStep {
  title: string;
  duration: number;
  steps?: JsonStep[];
}
interface JsonResult {
  status: string;
  duration: number;
  steps?: JsonStep[];
  error?: { message?: string };
}
interface JsonSpec {
  title: string;
  tests: { results: JsonResult[] }[];
}
interface JsonSuite {
  specs?: JsonSpec[];
  suites?: JsonSuite[];
}

export interface TestTiming {
  title: string;
  status: string;
  durationMs: number;
  /** Top-level steps (fixtures in Before Hooks, deploy, setup, load, observe, ...) with their durations. */
  steps: { title: string; durationMs: number }[];
}

/** Tests, statuses and top-level step times out of Playwright's JSON report. */
export function testTimings(report: { suites?: JsonSuite[] }): TestTiming[] {
  const out: TestTiming[] = [];
  const visit = (s: JsonSuite) => {
    for (const spec of s.specs ?? []) {
      for (const t of spec.tests) {
        const r = t.results[t.results.length - 1];
        if (!r) continue;
        const steps: TestTiming['steps'] = [];
        for (const st of r.steps ?? []) {
          // Fixture setup is nested in Before Hooks: show its children (the twin start is the big one).
          if (st.title === 'Before Hooks' || st.title === 'After Hooks') {
            for (const c of st.steps ?? []) steps.push({ title: `${st.title} > ${c.title}`, durationMs: c.duration });
          } else steps.push({ title: st.title, durationMs: st.duration });
        }
        out.push({ title: spec.title, status: r.status, durationMs: r.duration, steps });
      }
    }
    for (const child of s.suites ?? []) visit(child);
  };
  for (const s of report.suites ?? []) visit(s);
  return out;
}

async function runConformance(suiteFile: string | undefined, log: (t: string) => void): Promise<{ wallS: number; tests: TestTiming[] }> {
  const cwd = mkdtempSync(join(tmpdir(), 'pd-bench-verdict-'));
  try {
    symlinkSync(join(ROOT, 'suites'), join(cwd, 'suites'));
    const env: NodeJS.ProcessEnv = { ...process.env, ALLURE_RESULTS_DIR: join(cwd, 'allure-results') };
    if (suiteFile) env.PD_HARNESS_SUITE = join(ROOT, suiteFile);
    else delete env.PD_HARNESS_SUITE;
    delete env.PD_HARNESS_KUBECONFIG;
    const run = await runTimed(
      process.execPath,
      [PLAYWRIGHT_CLI, 'test', '-c', join(ROOT, 'playwright.config.ts'), '--project=conformance', '--reporter=json', '--output', join(cwd, 'test-results')],
      { cwd, env, timeoutMs: 300_000 },
    );
    let tests: TestTiming[] = [];
    try {
      tests = testTimings(JSON.parse(run.stdout) as { suites?: JsonSuite[] });
    } catch {
      throw new Error(`playwright gave no JSON report (exit ${run.code}): ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    }
    if (tests.length === 0) throw new Error(`playwright ran no test (exit ${run.code})`);
    for (const t of tests) {
      log(`  ${t.title}: ${t.status} in ${(t.durationMs / 1000).toFixed(1)} s`);
      for (const s of t.steps) if (s.durationMs >= 500) log(`    ${(s.durationMs / 1000).toFixed(1).padStart(6)} s  ${s.title}`);
    }
    return { wallS: run.wallMs / 1000, tests };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

function verdictNote(tests: TestTiming[]): string {
  const passed = tests.filter((t) => t.status === 'passed').length;
  return `${tests.length} test(s), ${passed} passed; baseline: seed's rollout wait alone (kubectl rollout status --timeout=180s), documented, not measured`;
}

export async function firstVerdictFigures(log: (t: string) => void): Promise<Outcome[]> {
  const all = await runConformance(undefined, log);
  const one = await runConformance('suites/proxy-performance.suite.yaml', log);
  return [
    {
      name: 'time to first verdict: conformance project cold on the twin',
      value: all.wallS,
      unit: 's',
      baseline: `${SEED_ROLLOUT_WAIT_S} s`,
      better: 'lower',
      goal: { on: 'value', op: '<=', target: 30 },
      note: verdictNote(all.tests),
    },
    {
      name: 'time to first verdict: proxy-performance suite cold on the twin',
      value: one.wallS,
      unit: 's',
      baseline: `${SEED_ROLLOUT_WAIT_S} s`,
      better: 'lower',
      goal: { on: 'value', op: '<=', target: 30 },
      note: verdictNote(one.tests),
    },
  ];
}
