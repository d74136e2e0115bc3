import { readdirSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { redact } from '../core/redact.ts';
import { HarnessError } from './errors.ts';

/**
 * Each file in cli/commands/ exports `register(program)`. Command modules stay light: heavy imports
 * happen inside the action, so `pd-harness --help` is fast and one command's deps never slow another.
 */
export interface CommandModule {
  register(program: Command): void;
}

async function buildProgram(): Promise<Command> {
  const program = new Command('pd-harness')
    .description('Chaos and conformance test harness for disaggregated LLM serving (llm-d)')
    .showHelpAfterError()
    .exitOverride();
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

async function main(argv: string[]): Promise<void> {
  const program = await buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = exitCodeFor(err);
  }
}

function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2; // commander already printed it
  if (err instanceof HarnessError) {
    process.stderr.write(`pd-harness: ${redact(err.message)}\n`);
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`pd-harness: internal error: ${redact(message.split('\n')[0]!)}\n`);
  if (process.env.PD_HARNESS_DEBUG) process.stderr.write(`${redact((err as Error)?.stack ?? '')}\n`);
  return 1;
}

await main(process.argv);
