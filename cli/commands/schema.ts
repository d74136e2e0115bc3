import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('schema')
    .description('print the JSON Schema (draft-07) of suite files, for editors: # yaml-language-server: $schema=...')
    .option('-o, --out <file>', 'write it to a file instead (the repository keeps it in suites/suite.schema.json)')
    .action(async (opts: { out?: string }) => {
      const { suiteJsonSchemaText } = await import('../../suites/json-schema.ts');
      const text = suiteJsonSchemaText();
      if (opts.out === undefined) {
        process.stdout.write(text);
        return;
      }
      const { writeFileSync } = await import('node:fs');
      const { UserError } = await import('../errors.ts');
      try {
        writeFileSync(opts.out, text);
      } catch (err) {
        throw new UserError(`cannot write ${opts.out}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 2, {
          cause: err,
        });
      }
      process.stdout.write(`wrote ${opts.out}\n`);
    });
}
