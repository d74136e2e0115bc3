/**
 * `npm run bench`: every benchmark figure in sequence, one line each
 * (`name: value unit (baseline: value, ratio: r)` with the goal when there is one), then the results
 * section of docs/benchmarks.md rewritten with the numbers and the machine.
 *
 *   npm run bench                    # all figures, writes docs/benchmarks.md
 *   npm run bench -- --only 1,3      # some figures (1 epp-decisions, 2 load, 3 twin overhead, 4 first verdict, 5 scale)
 *   npm run bench -- --no-write      # do not touch docs/benchmarks.md
 *   npm run bench -- --only 5 --scale-large   # also 32 proxies + 64 model pods, whatever the time budget
 *
 * Ratios are oriented so that > 1 means pd-harness does better than the baseline. Runs under 10 minutes on 2 cores.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { eppAnalyzerFigures } from './epp-analyzer.ts';
import { formatFigure, missed, type Outcome } from './figures.ts';
import { firstVerdictFigures } from './first-verdict.ts';
import { loadFigures } from './load-vs-autocannon.ts';
import { replaceResults, resultsSection } from './report.ts';
import { eppDecisionFigure, twinPathFigures } from './twin-overhead.ts';
import type { ScalePoint } from './hosted-twin.ts';
import { twinScaleFigures } from './twin-scale.ts';

const DOC = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url));
const BUDGET_MS = 9.5 * 60_000;

interface Step {
  id: number;
  title: string;
  run: (log: (t: string) => void, deadline: number) => Promise<Outcome[]>;
}

let seedPoint: ScalePoint | undefined;
let forceLarge = false;

const STEPS: Step[] = [
  { id: 1, title: 'EPP decision analyzer vs the seed pipeline', run: (log) => eppAnalyzerFigures(log) },
  { id: 2, title: 'built-in load engine vs autocannon', run: () => loadFigures() },
  {
    id: 3,
    title: 'twin overhead',
    run: async (log) => {
      const epp = eppDecisionFigure();
      const path = await twinPathFigures(log);
      seedPoint = path.seed;
      return [epp, ...path.outcomes];
    },
  },
  // Scale runs before the first-verdict figure, which fits its optional single-suite run into what time is left.
  { id: 5, title: 'twin scale', run: (log, deadline) => twinScaleFigures(log, deadline, seedPoint, forceLarge) },
  { id: 4, title: 'time to first verdict', run: (log, deadline) => firstVerdictFigures(log, deadline) },
];

function parseArgs(argv: string[]): { only?: Set<number>; write: boolean } {
  let only: Set<number> | undefined;
  let write = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--no-write') write = false;
    else if (a === '--scale-large') forceLarge = true;
    else if (a === '--only')
      only = new Set(
        (argv[++i] ?? '')
          .split(',')
          .map(Number)
          .filter((n) => n >= 1 && n <= STEPS.length),
      );
    else if (a.startsWith('--only=')) only = new Set(a.slice(7).split(',').map(Number));
    else throw new Error(`unknown argument ${a} (use --only 1,2,..., --no-write, --scale-large)`);
  }
  return { ...(only ? { only } : {}), write };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const deadline = started + BUDGET_MS;
  const loadAtStart = loadavg();
  const logLines: string[] = [];
  const log = (t: string) => {
    logLines.push(t);
    process.stdout.write(`${t}\n`);
  };
  const outcomes: Outcome[] = [];
  for (const step of STEPS) {
    if (args.only && !args.only.has(step.id)) continue;
    log(`# ${step.id}. ${step.title}`);
    const t0 = Date.now();
    let got: Outcome[];
    try {
      got = await step.run(log, deadline);
    } catch (err) {
      got = [{ name: step.title, skipped: `FAILED: ${(err as Error).message.split('\n')[0]}` }];
    }
    for (const o of got) log(formatFigure(o));
    log(`  (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
    outcomes.push(...got);
  }
  const miss = missed(outcomes);
  log(miss.length ? `goals missed: ${miss.map((f) => f.name).join('; ')}` : 'every goal met');
  if (args.write) {
    const section = resultsSection(
      {
        cpus: availableParallelism(),
        cpuModel: cpus()[0]?.model.trim() ?? 'unknown CPU',
        memoryGiB: totalmem() / 1024 ** 3,
        node: process.version,
        date: new Date().toISOString(),
        loadAvg: loadAtStart,
        command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
        durationS: (Date.now() - started) / 1000,
      },
      outcomes,
      logLines,
    );
    const doc = existsSync(DOC) ? readFileSync(DOC, 'utf8') : '# Benchmarks\n';
    writeFileSync(DOC, replaceResults(doc, section));
    process.stdout.write(`wrote ${DOC}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
