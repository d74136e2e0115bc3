import type { Command } from 'commander';
import type { DecisionCounts } from '../../analysis/epp-decisions.ts';
import { UserError } from '../errors.ts';

interface EppDecisionsOptions {
  json?: boolean;
  sinceTs?: string;
  pods?: string;
  kubeconfig?: string;
  threads?: string;
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
    .description('count EPP picks per endpoint and workload ("Scoring decision" or stock "Request handled" lines), and scheduling failures')
    .argument('[file]', 'EPP log file (kubectl logs output, plain or gzip), or - for stdin', '-')
    .option('--json', 'print {"decisions","byEndpoint","byWorkload","failures","skippedLines","source",...} as JSON')
    .option('--since-ts <time>', 'ignore lines older than this (epoch seconds or ISO 8601)')
    .option('--pods <file>', "JSON of `kubectl get pods -A -o json`: maps stock lines' endpoint addresses to pods and workloads")
    .option('--kubeconfig <file>', "ask this cluster's API for the pods behind stock lines' endpoint addresses")
    .option('--threads <n>', 'threads to count a large log file with (default: the cores the load average leaves idle, at most 4)')
    .addHelpText(
      'after',
      '\nExamples:\n  kubectl logs -n llm-d-inference-scheduler deploy/gaie-inference-scheduling-epp --since=10m | pd-harness epp-decisions\n' +
        '  kubectl get pods -A -o json > pods.json; pd-harness epp-decisions epp.log --pods pods.json --json',
    )
    .action(async (file: string, options: EppDecisionsOptions) => {
      const sinceTs = options.sinceTs === undefined ? undefined : parseSinceTs(options.sinceTs);
      const threads = options.threads === undefined ? undefined : Number(options.threads);
      if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1 && threads <= 64))
        throw new UserError(`--threads: '${options.threads}' is not a whole number from 1 to 64`);
      if (options.pods && options.kubeconfig) throw new UserError('give --pods or --kubeconfig, not both');
      const { analyzeStream, SOURCE_LABELS } = await import('../../analysis/epp-decisions.ts');
      const timeline = options.pods
        ? await podsFromFile(options.pods)
        : options.kubeconfig
          ? await podsFromApi(options.kubeconfig)
          : undefined;
      const resolve = timeline ? { resolve: (a: string, ts: number | undefined) => timeline.resolve(a, ts) } : {};
      const fileApi = file !== '-' && sinceTs === undefined ? await import('../../analysis/epp-decisions-file.ts') : undefined;
      let gzip = false;
      let counts: DecisionCounts;
      if (fileApi?.isPlainLogFile(file)) {
        // a regular uncompressed file: read in large pieces, in byte ranges side by side when large
        const { analyzeFile } = fileApi;
        counts = (
          await analyzeFile(file, { ...resolve, ...(threads === undefined ? {} : { threads }) }).catch((err: unknown) => {
            throw new UserError(`cannot read ${file}: ${(err as Error).message}`, 2, { cause: err });
          })
        ).counts;
      } else {
        const raw = file === '-' ? stdinOrFail() : await openFile(file);
        const opened = await maybeGunzip(raw);
        gzip = opened.gzip;
        counts = await analyzeStream(opened.stream, { ...(sinceTs === undefined ? {} : { sinceTs }), ...resolve }).catch((err: unknown) => {
          throw new UserError(`cannot read ${file === '-' ? 'stdin' : file}${gzip ? ' (gzip)' : ''}: ${(err as Error).message}`, 2, {
            cause: err,
          });
        });
      }
      const notes = notesFor(counts, { gzip, mapped: !!timeline });
      if (options.json) {
        const { decisions, byEndpoint, byWorkload, failures, skippedLines, source, requestLog, skippedTooLong } = counts;
        const out = {
          decisions,
          byEndpoint,
          byWorkload,
          failures,
          skippedLines,
          source: source ?? 'none',
          ...(requestLog ? { requestLog } : {}),
          ...(skippedTooLong ? { skippedTooLong } : {}),
        };
        process.stdout.write(`${JSON.stringify(out)}\n`);
      } else {
        const { formatDecisionTable } = await import('../../analysis/decision-table.ts');
        process.stdout.write(`source: ${SOURCE_LABELS[counts.source ?? 'none']}\n${formatDecisionTable(counts)}`);
      }
      for (const n of notes) process.stderr.write(`pd-harness: ${n}\n`);
    });
}

/** One-line notes about what the log could and could not give (stderr, so --json stays parseable). */
export function notesFor(
  counts: {
    decisions: number;
    source?: string;
    requestLog?: { unresolved: number; lines: number };
    skippedTooLong?: number;
    skippedLines: number;
  },
  ctx: { gzip: boolean; mapped: boolean },
): string[] {
  const notes: string[] = [];
  if (ctx.gzip) notes.push('input is gzip-compressed: read it decompressed');
  if (counts.skippedTooLong) notes.push(`${counts.skippedTooLong} line(s) skipped: longer than the analyzer's 1 MiB line limit`);
  if (counts.source === 'request-log') {
    notes.push(
      'no "Scoring decision" lines (those come only from the instrumented EPP image); counted the stock "Request handled" lines (-v>=3)',
    );
    if (!ctx.mapped)
      notes.push(
        'endpoints are counted per address: give --pods FILE (kubectl get pods -A -o json) or --kubeconfig to count per pod and workload',
      );
    else if (counts.requestLog?.unresolved)
      notes.push(`${counts.requestLog.unresolved} pick(s) went to addresses no pod held: counted per address`);
  }
  if (counts.source === 'none' && counts.skippedLines > 0) {
    notes.push(
      'no "Scoring decision" and no "Request handled" lines: a stock EPP logs "Request handled" only at -v=3 or higher (the chart default is -v=1); set -v=3 or run the instrumented image',
    );
  }
  return notes;
}

async function podsFromFile(file: string) {
  const { readFile } = await import('node:fs/promises');
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UserError(
      err.code === 'ENOENT' ? `--pods: no such file: ${file}` : `--pods: cannot read ${file}: ${err.code ?? err.message}`,
    );
  });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UserError(`--pods ${file}: not JSON (${(err as Error).message}); give the output of \`kubectl get pods -A -o json\``, 2, {
      cause: err,
    });
  }
  const { timelineFromPodList } = await import('../../analysis/pod-ips.ts');
  try {
    return timelineFromPodList(json);
  } catch (err) {
    throw new UserError(`--pods ${file}: ${(err as Error).message}`, 2, { cause: err });
  }
}

async function podsFromApi(kubeconfigPath: string) {
  const { Cluster } = await import('../../cluster/driver.ts');
  const { timelineFromPodList } = await import('../../analysis/pod-ips.ts');
  try {
    const cluster = await Cluster.connect({ kubeconfigPath });
    const items = await cluster.list('v1', 'Pod');
    return timelineFromPodList({ items });
  } catch (err) {
    throw new UserError(`--kubeconfig ${kubeconfigPath}: cannot list pods: ${(err as Error).message.split('\n')[0]}`, 2, { cause: err });
  }
}

/** Detects gzip by its magic bytes (1f 8b) and decompresses; anything else passes through unchanged. */
async function maybeGunzip(source: AsyncIterable<Buffer>): Promise<{ stream: AsyncIterable<Buffer>; gzip: boolean }> {
  const it = source[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return { stream: (async function* () {})(), gzip: false };
  const head = Buffer.isBuffer(first.value) ? first.value : Buffer.from(first.value as string);
  async function* rest(): AsyncGenerator<Buffer> {
    yield head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as string);
  }
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    const { Readable } = await import('node:stream');
    const { createGunzip } = await import('node:zlib');
    return { stream: Readable.from(rest()).pipe(createGunzip()) as unknown as AsyncIterable<Buffer>, gzip: true };
  }
  return { stream: rest(), gzip: false };
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
