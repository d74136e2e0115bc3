import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../common/build.mjs';
import type { Command } from 'commander';

export function harnessVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(import.meta.url), 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

export function register(program: Command): void {
  program.version(harnessVersion(), '-V, --version');
  program
    .command('version')
    .description('print the pd-harness version')
    .action(() => {
      process.stdout.write(`${harnessVersion()}\n`);
    });
}
