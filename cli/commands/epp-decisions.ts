import type { Command } from 'commander';
import { UserError } from '../errors.ts';

interface EppDecisionsOptions {
  json?: boolean;
  sinceTs?: string;
}

/** `--since-ts` as epoch seconds: a number of seconds (fractions allowed) or an ISO 8601 date. */
export function parseSinceTs(value: string): number {
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const ms = /^\d{4}-\d{2}-\d{2}/.test(text) ? Date.parse(text.replace(/(\.\d{3})\d+/, '$1')) : Number.NaN;
  if (Number.isNaN(ms)) throw new UserError(`--since-ts: '${value}' is neither epoch seconds nor an ISO 8601 date`);
  return ms / 1000;
}

export function register(program: Command): void {
  program
    .command('epp-decisions')
    .description('count EPP "Scoring decision" picks per endpoint and workload, and scheduling failures')
    .argument('[file]', 'EPP log file (kubectl logs output), or - for stdin', '-')
    .option('--json', 'print {"decisions","byEndpoint","byWorkload","failures","skippedLines"} as JSON')
    .option('--since-ts <time>', 'ignore lines older than this (epoch seconds or ISO 8601)')
    .addHelpText(
      'after',
      '\nExample:\n  kubectl logs -n llm-d-inference-scheduler deploy/gaie-inference-scheduling-epp --since=10m | pd-harness epp-decisions',
    )
    .action(async (file: string, options: EppDecisionsOptions) => {
      const sinceTs = options.sinceTs === undefined ? undefined : parseSinceTs(options.sinceTs);
      const { analyzeStream } = await import('../../analysis/epp-decisions.ts');
      const input = file === '-' ? stdinOrFail() : await openFile(file);
      const counts = await analyzeStream(input, sinceTs === undefined ? {} : { sinceTs }).catch((err: unknown) => {
        throw new UserError(`cannot read ${file === '-' ? 'stdin' : file}: ${(err as Error).message}`);
      });
      if (options.json) {
        const { decisions, byEndpoint, byWorkload, failures, skippedLines } = counts;
        process.stdout.write(`${JSON.stringify({ decisions, byEndpoint, byWorkload, failures, skippedLines })}\n`);
      } else {
        const { formatDecisionTable } = await import('../../analysis/decision-table.ts');
        process.stdout.write(formatDecisionTable(counts));
      }
    });
}

function stdinOrFail(): NodeJS.ReadableStream & AsyncIterable<Buffer> {
  if (process.stdin.isTTY) throw new UserError('no input: give a log FILE or pipe EPP logs into stdin');
  return process.stdin as NodeJS.ReadableStream & AsyncIterable<Buffer>;
}

async function openFile(file: string): Promise<AsyncIterable<Buffer>> {
  const { createReadStream } = await import('node:fs');
  const { stat } = await import('node:fs/promises');
  const info = await stat(file).catch((err: NodeJS.ErrnoException) => {
    throw new UserError(err.code === 'ENOENT' ? `no such file: ${file}` : `cannot read ${file}: ${err.code ?? err.message}`);
  });
  if (info.isDirectory()) throw new UserError(`${file} is a directory, not a log file`);
  return createReadStream(file, { highWaterMark: 256 * 1024 });
}
