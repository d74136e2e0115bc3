import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('validate')
    .description('check suite files: prints "ok FILE" for each valid one, else FILE:LINE:COL: message lines (exit 2)')
    .argument('<files...>', 'suite files (*.suite.yaml)')
    .action(async (files: string[]) => {
      const { validateSuiteFile, formatProblem } = await import('../../suites/loader.ts');
      let failed = false;
      for (const file of files) {
        const result = validateSuiteFile(file);
        if (result.ok) {
          process.stdout.write(`ok ${file}\n`);
        } else {
          failed = true;
          for (const problem of result.problems) process.stderr.write(`${formatProblem(problem)}\n`);
        }
      }
      if (failed) process.exitCode = 2;
    });
}
