import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('validate')
    .description('check suite files: prints "ok FILE" for each valid one, else FILE:LINE:COL: message lines (exit 2); a suite that would write outside its target is refused (exit 4)')
    .argument('<files...>', 'suite files (*.suite.yaml)')
    .option('--allow-protected', 'accept protected namespaces (kube-system, kube-public, kube-node-lease, default unless listed) in spec.target')
    .action(async (files: string[], opts: { allowProtected?: boolean }) => {
      const { validateSuiteFile, formatProblem, loadSuite } = await import('../../suites/loader.ts');
      const { staticGuardRefusal } = await import('../../runner/run-plan.ts');
      let failed = false;
      let refused = false;
      for (const file of files) {
        const result = validateSuiteFile(file);
        // the blast-radius guard over everything the suite would write, manifest contents included (exit 4)
        const refusal = result.ok ? await staticGuardRefusal(loadSuite(file), opts).catch((err: Error) => `cannot read its manifests: ${err.message.split('\n')[0]}`) : undefined;
        if (refusal?.startsWith('cannot read')) failed = true;
        else if (refusal) refused = true;
        if (refusal) {
          process.stderr.write(`${file}: ${refusal}\n`);
        } else if (result.ok) {
          process.stdout.write(`ok ${file}\n`);
        } else {
          failed = true;
          for (const problem of result.problems) process.stderr.write(`${formatProblem(problem)}\n`);
        }
      }
      if (failed) process.exitCode = 2;
      else if (refused) process.exitCode = 4;
    });
}
