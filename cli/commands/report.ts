import type { Command } from 'commander';

interface ReportCliOptions {
  results: string;
  out: string;
  open?: boolean;
  historyFrom?: string;
  singleFile?: boolean;
  force?: boolean;
}

export function register(program: Command): void {
  program
    .command('report')
    .description("build the Allure HTML report from the last run, carrying the previous report's history (needs Java)")
    .option('--results <dir>', 'Allure results of the run', process.env.ALLURE_RESULTS_DIR ?? 'allure-results')
    .option('--out <dir>', 'where the report goes', 'allure-report')
    .option('--history-from <dir>', 'previous report whose history/ gives the trends (default: --out)')
    .option('--single-file', 'also write OUT/single-file.html, one self-contained file to mail or attach')
    .option('--force', 'clean --out even when it holds files pd-harness did not write')
    .option('--open', 'serve the report and open it in a browser (allure open)')
    .addHelpText('after', '\nExample:\n  npx playwright test --project=conformance; npx pd-harness report --open')
    .action(async (options: ReportCliOptions) => {
      const { generateReport, openReport } = await import('../report-cli.ts');
      const outcome = await generateReport({
        results: options.results,
        out: options.out,
        ...(options.historyFrom ? { historyFrom: options.historyFrom } : {}),
        ...(options.singleFile ? { singleFile: true } : {}),
        ...(options.force ? { force: true } : {}),
        log: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(`${outcome.indexHtml}\n`);
      if (outcome.singleFileHtml) process.stdout.write(`${outcome.singleFileHtml}\n`);
      if (options.open) await openReport(outcome.reportDir);
    });
}
