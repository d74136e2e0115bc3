import { readdirSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { type CommandModule, newProgram, runProgram } from './entries/program.ts';

export type { CommandModule } from './entries/program.ts';

async function buildProgram(): Promise<Command> {
  const program = newProgram();
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'commands');
  const ext = extname(fileURLToPath(import.meta.url)); // .ts from the sources, .js from dist/
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith(ext) && !f.endsWith('.d.ts'))
    .sort()) {
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as CommandModule;
    mod.register(program);
  }
  return program;
}

await runProgram(await buildProgram(), process.argv);
