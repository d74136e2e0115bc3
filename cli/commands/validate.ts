import { resolve } from 'node:path';
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('validate')
    .description(
      'check suite files: prints "ok FILE" for each valid one, else FILE:LINE:COL: message lines (exit 2); a suite that would write outside its target is refused (exit 4)',
    )
    .argument('<files...>', 'suite files (*.suite.yaml)')
    .option(
      '--allow-protected',
      'accept protected namespaces (kube-system, kube-public, kube-node-lease, default unless listed) in spec.target',
    )
    .option(
      '--allow-outside <path>',
      "a path outside the suite's repository that deploy/apply/script paths may use (repeatable)",
      collect,
      [],
    )
    .action(async (files: string[], opts: { allowProtected?: boolean; allowOutside: string[] }) => {
      const { validateSuiteFile, formatProblems, loadSuite } = await import('../../suites/loader.ts');
      const { staticGuardRefusal } = await import('../../runner/run-plan.ts');
      const { redact } = await import('../../core/redact.ts');
      allowOutsideEnv(opts.allowOutside);
      let failed = false;
      let refused = false;
      for (const file of files) {
        const result = validateSuiteFile(file);
        // the blast-radius guard over everything the suite would write, manifest contents included (exit 4)
        const refusal = result.ok
          ? await staticGuardRefusal(loadSuite(file), opts).catch(
              (err: Error) => `cannot read its manifests: ${err.message.split('\n')[0]}`,
            )
          : undefined;
        if (refusal?.startsWith('cannot read')) failed = true;
        else if (refusal) refused = true;
        if (refusal) {
          process.stderr.write(`${redact(`${file}: ${refusal}`)}\n`);
        } else if (result.ok) {
          process.stdout.write(`ok ${file}\n`);
        } else {
          failed = true;
          process.stderr.write(`${formatProblems(file, result).map(redact).join('\n')}\n`);
        }
      }
      if (failed) process.exitCode = 2;
      else if (refused) process.exitCode = 4;
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * `--allow-outside` travels as PD_HARNESS_ALLOW_OUTSIDE (absolute paths, separated like PATH), so the
 * Playwright workers that load the suite again see the same allow-list.
 */
export function allowOutsideEnv(paths: readonly string[]): void {
  if (paths.length === 0) return;
  const prior = (process.env.PD_HARNESS_ALLOW_OUTSIDE ?? '').split(':').filter(Boolean);
  process.env.PD_HARNESS_ALLOW_OUTSIDE = [...prior, ...paths.map((p) => resolve(p))].join(':');
}
