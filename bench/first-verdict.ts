/**
 * Figure 4: time to first verdict. `playwright test --project=conformance` from cold on the twin (the
 * fixture starts a twin per worker), once for every conformance suite and once with PD_HARNESS_SUITE naming
 * proxy-performance. Baseline: the seed's manual flow on a cluster, whose `kubectl rollout status
 * --timeout=180s` alone may wait 180 s (a documented constant, not measured here).
 *
 * Playwright runs with cwd in a temp dir (links to the checkout's entries, the repo's config) so its `.pd-harness/`
 * twin state cannot collide with other runs in the checkout; the JSON reporter gives per-step times.
 */
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Outcome } from './figures.ts';
import { runTimed } from './proc.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PLAYWRIGHT_CLI = join(ROOT, 'node_modules/@playwright/test/cli.js');
export const SEED_ROLLOUT_WAIT_S = 180;
/** What a run writes into its cwd: kept out of the temp cwd's links so nothing lands in the checkout. */
const STATE_ENTRIES = new Set(['.pd-harness', '.git', 'test-results', 'allure-results', 'allure-report', 'reports', 'playwright-report']);

interface JsonStep {
  title: string;
  duration: number;
  steps?: JsonStep[];
}
interface JsonResult {
  status: string;
  startTime?: string;
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
  /** Epoch ms when the test's verdict was known (start + duration), when the report has a start time. */
  endMs?: number;
  /** First line of the error of a failed test. */
  error?: string;
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
        const start = r.startTime ? Date.parse(r.startTime) : Number.NaN;
        out.push({
          title: spec.title,
          status: r.status,
          durationMs: r.duration,
          ...(Number.isFinite(start) ? { endMs: start + r.duration } : {}),
          ...(r.error?.message ? { error: firstLine(r.error.message) } : {}),
          steps,
        });
      }
    }
    for (const child of s.suites ?? []) visit(child);
  };
  for (const s of report.suites ?? []) visit(s);
  return out;
}

function firstLine(text: string): string {
  // Playwright error messages carry ANSI colour codes.
  return (
    text
      .replace(/\u001b\[[0-9;]*m/g, '')
      .split('\n')
      .find((l) => l.trim() !== '') ?? ''
  )
    .trim()
    .slice(0, 200);
}

interface ConformanceRun {
  wallS: number;
  /** Seconds from spawning Playwright to the first test's verdict. */
  firstVerdictS: number;
  tests: TestTiming[];
  /** Seconds from spawning Playwright to each test's verdict, by title. */
  verdictAtS: Record<string, number>;
}

async function runConformance(suiteFile: string | undefined, log: (t: string) => void): Promise<ConformanceRun> {
  const cwd = mkdtempSync(join(tmpdir(), 'pd-bench-verdict-'));
  try {
    // Suites name manifests by relative paths, so the checkout's entries are linked in; state stays here.
    for (const entry of readdirSync(ROOT)) if (!STATE_ENTRIES.has(entry)) symlinkSync(join(ROOT, entry), join(cwd, entry));
    const env: NodeJS.ProcessEnv = { ...process.env, ALLURE_RESULTS_DIR: join(cwd, 'allure-results') };
    if (suiteFile) env.PD_HARNESS_SUITE = join(ROOT, suiteFile);
    else delete env.PD_HARNESS_SUITE;
    delete env.PD_HARNESS_KUBECONFIG;
    const spawnedAt = Date.now();
    const run = await runTimed(
      process.execPath,
      [
        PLAYWRIGHT_CLI,
        'test',
        '-c',
        join(ROOT, 'playwright.config.ts'),
        '--project=conformance',
        '--reporter=json',
        '--output',
        join(cwd, 'test-results'),
      ],
      { cwd, env, timeoutMs: 300_000 },
    );
    let tests: TestTiming[] = [];
    try {
      tests = testTimings(JSON.parse(run.stdout) as { suites?: JsonSuite[] });
    } catch {
      throw new Error(`playwright gave no JSON report (exit ${run.code}): ${run.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    }
    if (tests.length === 0) throw new Error(`playwright ran no test (exit ${run.code})`);
    const wallS = run.wallMs / 1000;
    const verdictAtS: Record<string, number> = {};
    for (const t of tests) verdictAtS[t.title] = t.endMs !== undefined ? (t.endMs - spawnedAt) / 1000 : wallS;
    for (const t of tests) {
      log(
        `  ${t.title}: ${t.status} in ${(t.durationMs / 1000).toFixed(1)} s, verdict at ${verdictAtS[t.title]!.toFixed(1)} s${t.error ? ` (${t.error})` : ''}`,
      );
      for (const s of t.steps) if (s.durationMs >= 500) log(`    ${(s.durationMs / 1000).toFixed(1).padStart(6)} s  ${s.title}`);
    }
    log(`  all verdicts at ${wallS.toFixed(1)} s (Playwright exited ${run.code})`);
    return { wallS, firstVerdictS: Math.min(...Object.values(verdictAtS)), tests, verdictAtS };
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
}

function verdictNote(tests: TestTiming[]): string {
  const passed = tests.filter((t) => t.status === 'passed').length;
  return `${tests.length} test(s), ${passed} passed`;
}

const BASELINE = `${SEED_ROLLOUT_WAIT_S} s (seed's kubectl rollout status --timeout=180s alone; documented, not measured)`;
const ONE_SUITE = 'suites/proxy-performance.suite.yaml';

/**
 * The whole conformance project, then proxy-performance alone when the time budget (`deadline`, epoch ms)
 * leaves room; otherwise that suite's verdict time inside the project run stands in, and the figure says so.
 */
export async function firstVerdictFigures(log: (t: string) => void, deadline = Number.POSITIVE_INFINITY): Promise<Outcome[]> {
  const all = await runConformance(undefined, log);
  // issue #18's goals: the first verdict within 10 s, all three within 20 s
  const goal = { on: 'value', op: '<=', target: 10 } as const;
  const allGoal = { on: 'value', op: '<=', target: 20 } as const;
  const outcomes: Outcome[] = [
    {
      name: 'time to first verdict: conformance project cold on the twin',
      value: all.firstVerdictS,
      unit: 's',
      baseline: BASELINE,
      better: 'lower',
      goal,
      note: verdictNote(all.tests),
    },
    {
      name: 'time to all verdicts: conformance project cold on the twin',
      value: all.wallS,
      unit: 's',
      baseline: BASELINE,
      better: 'lower',
      goal: allGoal,
      note: `${all.tests.length} suites on 2 workers`,
    },
  ];
  const name = 'time to first verdict: proxy-performance suite alone cold on the twin';
  const leftS = (deadline - Date.now()) / 1000;
  if (leftS > all.wallS * 0.8 + 20) {
    const one = await runConformance(ONE_SUITE, log);
    // its verdict, as for the project's first verdict (Playwright's exit, after the worker's teardown and the reporters, is in the note)
    outcomes.push({
      name,
      value: one.firstVerdictS,
      unit: 's',
      baseline: BASELINE,
      better: 'lower',
      goal,
      note: `${verdictNote(one.tests)}; Playwright exited at ${one.wallS.toFixed(1)} s`,
    });
  } else {
    // Its verdict inside the project run is not a cold single-suite time (it may run after another suite).
    outcomes.push({
      name,
      skipped: `time budget: ${leftS.toFixed(0)} s left; run \`npm run bench -- --only 4 --no-write\` to time it alone`,
    });
  }
  return outcomes;
}
