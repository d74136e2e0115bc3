import { COMMAND_TIMEOUTS } from '../core/timeouts.ts';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { execa } from 'execa';
import { writeCategories } from '../reporters/categories.ts';
import { finalizeEnvironment } from '../reporters/environment.ts';
import { checkOutputDir, isSameOrInside, markOutputDir, OutputDirRefused, realPathLoose } from '../common/output-dir.ts';
import { UserError } from './errors.ts';

/**
 * `pd-harness report`: Allure HTML from the last run's results, with the previous report's history
 * carried in so the trend widgets show night over night.
 */

export interface ReportOptions {
  /** Allure results dir (default allure-results). */
  results: string;
  /** Report dir (default allure-report). */
  out: string;
  /** Where the previous report is (its `history/` is copied into the results); default: `out`. */
  historyFrom?: string;
  /** Also write one self-contained HTML file, OUT/single-file.html. */
  singleFile?: boolean;
  /** Clean `out` even when it holds files pd-harness did not write. */
  force?: boolean;
  /** Environment for the child processes (PATH, JAVA_HOME); default process.env. */
  env?: NodeJS.ProcessEnv;
  log?: (line: string) => void;
}

export interface ReportOutcome {
  reportDir: string;
  indexHtml: string;
  singleFileHtml?: string;
  /** History files copied from the previous report (0 on the first run). */
  historyFiles: number;
  javaVersion: string;
}

export const JAVA_MISSING = 'Java not found: Allure needs a JRE (apt-get install default-jre-headless), or set JAVA_HOME to one';

/** Runs `java -version` the way Allure's launcher will find Java (JAVA_HOME first, then PATH). */
export async function checkJava(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const java = env.JAVA_HOME ? join(env.JAVA_HOME, 'bin', 'java') : 'java';
  try {
    const r = await execa(java, ['-version'], { env, extendEnv: false, reject: false, timeout: COMMAND_TIMEOUTS.javaCheck });
    if (r.failed && (r as { code?: string }).code === 'ENOENT') throw new UserError(JAVA_MISSING);
    if (r.exitCode !== 0) throw new UserError(`${JAVA_MISSING} (${java} -version exited with ${r.exitCode ?? r.signal ?? 'an error'})`);
    return (r.stderr || r.stdout).split('\n')[0]?.trim() ?? 'java';
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(JAVA_MISSING);
  }
}

/** Copies `from/history/*` into `resultsDir/history/`; returns how many files. */
export function carryHistory(fromReportDir: string, resultsDir: string): number {
  const src = join(fromReportDir, 'history');
  if (!existsSync(src) || !statSync(src).isDirectory()) return 0;
  const dst = join(resultsDir, 'history');
  mkdirSync(dst, { recursive: true });
  let n = 0;
  for (const f of readdirSync(src)) {
    if (!statSync(join(src, f)).isFile()) continue;
    copyFileSync(join(src, f), join(dst, f));
    n++;
  }
  return n;
}

function allureLauncher(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('allure-commandline/package.json')), 'bin', 'allure');
}

/** Runs the Allure command line (through its Node launcher, which starts Java). */
export async function runAllure(args: string[], env: NodeJS.ProcessEnv = process.env, interactive = false): Promise<void> {
  const r = await execa(process.execPath, [allureLauncher(), ...args], {
    env,
    extendEnv: false,
    reject: false,
    ...(interactive ? { stdio: 'inherit' as const } : { all: true, timeout: COMMAND_TIMEOUTS.reportGenerate }),
  });
  if (r.exitCode !== 0) {
    const output = ((r as { all?: string }).all ?? '').trim().split('\n').filter(Boolean);
    throw new UserError(`allure ${args[0]} failed (exit ${r.exitCode ?? r.signal ?? '?'}): ${output.at(-1) ?? 'no output'}`);
  }
}

export async function generateReport(opts: ReportOptions): Promise<ReportOutcome> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? (() => {});
  const results = resolve(opts.results);
  const out = resolve(opts.out);
  // Allure's --clean empties `out`: never the results, never a directory someone else filled
  if (isSameOrInside(results, out)) {
    throw new UserError(
      `--out ${opts.out} ${realPathLoose(out) === realPathLoose(results) ? 'is' : 'contains'} --results ${opts.results}: the report would delete the results; pick another --out`,
    );
  }
  try {
    checkOutputDir(out, '--out', { force: !!opts.force });
  } catch (err) {
    if (err instanceof OutputDirRefused) throw new UserError(err.message, 2, { cause: err });
    throw err;
  }
  if (!existsSync(results) || !readdirSync(results).some((f) => f.endsWith('-result.json'))) {
    throw new UserError(`no Allure results in ${results}: run the tests first (npx playwright test --project=conformance)`);
  }
  const javaVersion = await checkJava(env);
  finalizeEnvironment(results);
  if (!existsSync(join(results, 'categories.json'))) writeCategories(results);
  const historyFiles = carryHistory(resolve(opts.historyFrom ?? out), results);
  log(
    historyFiles
      ? `history: ${historyFiles} file(s) carried from ${resolve(opts.historyFrom ?? out)}`
      : 'history: none yet (first report here)',
  );
  await runAllure(['generate', results, '-o', out, '--clean'], env);
  markOutputDir(out);
  const outcome: ReportOutcome = { reportDir: out, indexHtml: join(out, 'index.html'), historyFiles, javaVersion };
  if (opts.singleFile) {
    // single-file mode keeps no history/ folder, so the folder report above stays the history source
    const tmp = mkdtempSync(join(dirname(out), '.allure-single-'));
    try {
      await runAllure(['generate', results, '-o', tmp, '--clean', '--single-file'], env);
      const target = join(out, 'single-file.html');
      renameSync(join(tmp, 'index.html'), target);
      outcome.singleFileHtml = target;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  return outcome;
}

/** `allure open`: serves the report on a local port and opens a browser; runs until interrupted. */
export async function openReport(reportDir: string, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  await runAllure(['open', resolve(reportDir)], env, true);
}
