import { Command, CommanderError } from 'commander';
import { redact } from '../../core/redact.ts';
import { HarnessError } from '../errors.ts';

/**
 * Each file in cli/commands/ exports `register(program)`. Command modules stay light: heavy imports
 * happen inside the action, so `pd-harness --help` is fast and one command's deps never slow another.
 */
export interface CommandModule {
  register(program: Command): void;
}

/** The `pd-harness` program with no commands yet: the full CLI (cli/main.ts) and single-command entries share it. */
export function newProgram(): Command {
  return new Command('pd-harness')
    .description('Chaos and conformance test harness for disaggregated LLM serving (llm-d)')
    .showHelpAfterError()
    .exitOverride();
}

/** Parses `argv` and runs the command; errors become one line on stderr and the exit code. */
export async function runProgram(program: Command, argv: string[]): Promise<void> {
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
