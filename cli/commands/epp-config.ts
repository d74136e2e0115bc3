import type { Command } from 'commander';

/**
 * `epp-config check FILE...`: each EndpointPickerConfig loaded with the twin EPP's loader (the real loader's
 * rules and error texts, twin/sims/epp/config.ts and scheduler.ts). `ok FILE`, else `FILE: <the error the EPP
 * would log>`; exit 2 when any file is refused. Load-time log lines that keep a default (a bad requestTimeout)
 * are shown as `FILE: the EPP would log: ...` and do not fail the check, as they do not stop the real EPP.
 */
export function register(program: Command): void {
  const cmd = program.command('epp-config').description('EndpointPickerConfig tools');
  cmd
    .command('check')
    .description('load EndpointPickerConfig files as the EPP would: prints "ok FILE" or the EPP\'s error (exit 2)')
    .argument('<files...>', 'EndpointPickerConfig YAML files')
    .action(async (files: string[]) => {
      const { readFileSync } = await import('node:fs');
      const { checkEppConfig } = await import('../../twin/sims/epp/check.ts');
      let failed = false;
      for (const file of files) {
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (err) {
          failed = true;
          const e = err as NodeJS.ErrnoException;
          // cmd/epp/runner/runner.go parseConfigurationPhaseOne
          process.stderr.write(
            `${file}: failed to load config from a file '${file}' - open ${file}: ${e.code === 'ENOENT' ? 'no such file or directory' : e.code === 'EISDIR' ? 'is a directory' : (e.code ?? e.message)}\n`,
          );
          continue;
        }
        const r = checkEppConfig(text);
        if (r.ok) {
          process.stdout.write(`ok ${file}\n`);
          for (const w of r.warnings) {
            const why = typeof w.fields.error === 'string' ? ` (${w.fields.error})` : '';
            process.stderr.write(`${file}: the EPP would log: ${w.msg}${why}\n`);
          }
        } else {
          failed = true;
          process.stderr.write(`${file}: ${r.error.replace(/\n/g, ' ')}\n`);
        }
      }
      if (failed) process.exitCode = 2;
    });
}
