/**
 * `pd-harness repro SUITE [--cell ID] [--seed N] [--out DIR]`: checks the arguments, then runs Playwright's
 * `repro` project on the suite with PD_HARNESS_SUITE / PD_HARNESS_REPRO_CELL / PD_HARNESS_REPRO_SEED /
 * PD_HARNESS_REPRO_OUT, and prints where the summary and bundles are. Exit code: Playwright's (0 = the campaign
 * ran, whatever it found).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { packageRoot } from '../common/build.mjs';
import { campaignName, cellsToRun } from '../chaos/repro/campaign.ts';
import type { CampaignSummary } from '../chaos/repro/summary.ts';
import { loadSuite, SuiteValidationError, type LoadedSuite } from '../suites/loader.ts';
import { UserError } from './errors.ts';
import { runPlaywright } from './playwright-child.ts';
import { formatTimeoutOverrides, parseTimeoutFlags, TIMEOUTS_ENV } from '../runner/timeouts.ts';

const ROOT = packageRoot(import.meta.url);

export interface ReproCliOptions {
  cell?: string;
  seed?: string;
  out: string;
  list?: boolean;
  /** `--timeout NAME=DURATION` (repeatable). */
  timeout?: string[];
}

export function parseSeed(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text))) throw new UserError(`--seed must be an integer, got "${text}"`);
  return Number(text);
}

function loadReproSuite(file: string): LoadedSuite {
  if (!existsSync(file)) throw new UserError(`suite file not found: ${file}`);
  let loaded: LoadedSuite;
  try {
    loaded = loadSuite(file);
  } catch (err) {
    if (err instanceof SuiteValidationError)
      throw new UserError(`invalid suite (run pd-harness validate ${file}): ${err.problems[0] ? err.message.split('\n')[0] : ''}`, 2, {
        cause: err,
      });
    throw err;
  }
  if (!loaded.suite.spec.repro) throw new UserError(`${file} has no spec.repro matrix: it is not a reproduction campaign`);
  return loaded;
}

/** The environment the repro spec reads. */
export function reproEnv(
  suiteFile: string,
  opts: { cell?: string; seed?: number; out: string; timeouts?: string },
): Record<string, string> {
  return {
    ...(opts.timeouts ? { [TIMEOUTS_ENV]: opts.timeouts } : {}),
    PD_HARNESS_SUITE: resolve(suiteFile),
    PD_HARNESS_REPRO_OUT: resolve(opts.out),
    ...(opts.cell ? { PD_HARNESS_REPRO_CELL: opts.cell } : {}),
    ...(opts.seed !== undefined ? { PD_HARNESS_REPRO_SEED: String(opts.seed) } : {}),
  };
}

export async function runReproCommand(suiteFile: string, opts: ReproCliOptions): Promise<number> {
  const timeouts = formatTimeoutOverrides(parseTimeoutFlags(opts.timeout ?? []));
  const loaded = loadReproSuite(suiteFile);
  const seed = parseSeed(opts.seed);
  let cells;
  try {
    cells = cellsToRun(loaded, opts.cell);
  } catch (err) {
    throw new UserError((err as Error).message, 2, { cause: err });
  }
  if (opts.list) {
    for (const c of cells) process.stdout.write(`${c.id}\n`);
    return 0;
  }
  const campaign = campaignName(loaded.suite.metadata.name, seed ?? loaded.suite.spec.repro!.seed, opts.cell);
  const campaignDir = resolve(opts.out, campaign);
  const started = Date.now();
  const code = await runPlaywright(
    ['--config', join(ROOT, 'playwright.config.ts'), '--project=repro', '--output', join(campaignDir, 'test-results')],
    reproEnv(suiteFile, {
      ...(opts.cell ? { cell: opts.cell } : {}),
      ...(seed !== undefined ? { seed } : {}),
      out: opts.out,
      ...(timeouts ? { timeouts } : {}),
    }),
  );
  const summaryFile = join(campaignDir, 'summary.json');
  const fresh = existsSync(summaryFile) && statSync(summaryFile).mtimeMs >= started;
  if (fresh) {
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as CampaignSummary;
    process.stdout.write(`\n${summary.answer.text}\nsummary: ${relative(process.cwd(), join(campaignDir, 'summary.md'))}\n`);
    for (const row of summary.cells.filter((r) => r.bundles.length)) {
      for (const b of row.bundles) process.stdout.write(`bundle: ${relative(process.cwd(), join(campaignDir, b))}\n`);
    }
  }
  if (code !== 0) {
    throw new UserError(
      `the repro run failed (playwright exit ${code})${fresh ? '' : ', no summary was written'}: see the output above`,
      1,
    );
  }
  return 0;
}
