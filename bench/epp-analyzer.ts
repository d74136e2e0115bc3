/**
 * Figure 1: `pd-harness epp-decisions FILE --json` against the seed's shell pipeline on generated EPP logs
 * (realistic zap JSON lines, 5% "Scoring decision"). Both must report the same counts; the ratio is
 * pipeline wall time / pd-harness wall time (goal >= 1 at 1M lines, >= 0.5 at 100k, where Node's start-up weighs most),
 * plus pd-harness's peak RSS at 1M lines (goal < 150 MB).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeEppLog, type ExpectedCounts } from '../test/helpers/epp-log-gen.ts';
import type { Outcome } from './figures.ts';
import { countDiff, MB, parseTimeVCpuSeconds, parseTimeVMaxRss, parseUniqCounts } from './parse.ts';
import { GNU_TIME, hasGnuTime, median, runTimed, which } from './proc.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = join(ROOT, 'bin/pd-harness.js');

/**
 * The seed README's pipeline, as it has to be written for Debian's ripgrep 13: the seed's `selected\":` (an
 * escaped quote inside single quotes) is a regex parse error there ("unrecognized escape sequence"), so the
 * quote is written plainly. `$1` is the log file.
 */
export const SEED_PIPELINE = `rg 'Scoring decision' "$1" | rg -o 'selected":\\[[^]]+\\]' | sed 's/selected":\\["//;s/"\\]//' | sort | uniq -c | sort -nr`;

/** ~5% decisions (each with its breakdown line), the rest other zap lines, klog text and a few failures. */
export function realisticLogOptions(lines: number, seed = 7) {
  const decisions = Math.round(lines * 0.05);
  const nonJson = Math.round(lines * 0.045);
  const exhausted = Math.round(lines * 0.0025);
  const profileFailed = Math.round(lines * 0.0025);
  // 1 start line + 2 lines per decision (breakdown + decision) + the rest.
  const otherJson = lines - 1 - 2 * decisions - nonJson - exhausted - profileFailed;
  return { seed, decisions, otherJson, nonJson, exhausted, profileFailed, multiSelectEvery: 0 };
}

interface Run {
  wallMs: number;
  maxRssBytes?: number;
  cpuS?: number;
  counts: Record<string, number>;
}

/** RSS fallback without GNU time: a preload that writes the process's own maxRSS (kB) to stderr at exit. */
const RSS_PRELOAD = `data:text/javascript,process.on('exit',()=>process.stderr.write('Maximum resident set size (kbytes): '+process.resourceUsage().maxRSS+'\\n'))`;

async function runPdHarness(file: string): Promise<Run> {
  const timed = hasGnuTime()
    ? await runTimed(GNU_TIME, ['-v', process.execPath, CLI, 'epp-decisions', file, '--json'], { timeoutMs: 120_000 })
    : await runTimed(process.execPath, ['--import', RSS_PRELOAD, CLI, 'epp-decisions', file, '--json'], { timeoutMs: 120_000 });
  if (timed.code !== 0) throw new Error(`pd-harness epp-decisions exited ${timed.code}: ${timed.stderr.trim().split('\n').pop()}`);
  const json = JSON.parse(timed.stdout) as { byEndpoint: Record<string, number> };
  return {
    wallMs: timed.wallMs,
    maxRssBytes: parseTimeVMaxRss(timed.stderr),
    cpuS: parseTimeVCpuSeconds(timed.stderr),
    counts: json.byEndpoint,
  };
}

async function runPipeline(file: string): Promise<Run> {
  const timed = hasGnuTime()
    ? await runTimed(GNU_TIME, ['-v', 'sh', '-c', SEED_PIPELINE, 'pipeline', file], { timeoutMs: 120_000 })
    : await runTimed('sh', ['-c', SEED_PIPELINE, 'pipeline', file], { timeoutMs: 120_000 });
  if (timed.code !== 0) throw new Error(`seed pipeline exited ${timed.code}: ${timed.stderr.trim().split('\n').pop()}`);
  return {
    wallMs: timed.wallMs,
    maxRssBytes: parseTimeVMaxRss(timed.stderr),
    cpuS: parseTimeVCpuSeconds(timed.stderr),
    counts: parseUniqCounts(timed.stdout),
  };
}

function assertSame(label: string, ours: Record<string, number>, theirs: Record<string, number>, expected: ExpectedCounts): void {
  const a = countDiff(ours, theirs);
  if (a.length) throw new Error(`${label}: pd-harness and the seed pipeline disagree: ${a.join('; ')}`);
  const b = countDiff(ours, expected.byEndpoint);
  if (b.length) throw new Error(`${label}: pd-harness disagrees with the generated counts: ${b.join('; ')}`);
}

function countsNote(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([k, v]) => `${k.replace(/^.*\//, '')}=${v}`)
    .join(', ');
}

export async function eppAnalyzerFigures(log: (t: string) => void, sizes: readonly number[] = [100_000, 1_000_000]): Promise<Outcome[]> {
  if (!which('rg')) {
    return [
      {
        name: 'epp-decisions vs seed pipeline',
        skipped: 'ripgrep (rg) not on PATH; install it with `apt-get install ripgrep` (the bench installs nothing)',
      },
    ];
  }
  const dir = mkdtempSync(join(tmpdir(), 'pd-bench-epp-'));
  const outcomes: Outcome[] = [];
  try {
    for (const lines of sizes) {
      const label = lines >= 1_000_000 ? `${lines / 1_000_000}M` : `${lines / 1000}k`;
      const file = join(dir, `epp-${label}.log`);
      const expected = await writeEppLog(file, realisticLogOptions(lines));
      const runs = lines >= 1_000_000 ? 2 : 3;
      const ours: Run[] = [];
      const theirs: Run[] = [];
      for (let i = 0; i < runs; i++) {
        // Alternate so page cache and background noise hit both sides alike.
        theirs.push(await runPipeline(file));
        ours.push(await runPdHarness(file));
      }
      for (let i = 0; i < runs; i++) assertSame(`${label} lines`, ours[i]!.counts, theirs[i]!.counts, expected);
      log(`  ${label} lines: pd-harness counts {${countsNote(ours[0]!.counts)}} = seed pipeline counts {${countsNote(theirs[0]!.counts)}}`);
      outcomes.push({
        name: `epp-decisions ${label} lines wall time`,
        value: median(ours.map((r) => r.wallMs)) / 1000,
        unit: 's',
        baseline: median(theirs.map((r) => r.wallMs)) / 1000,
        better: 'lower',
        goal: { on: 'ratio', op: '>=', target: lines >= 1_000_000 ? 1 : 0.5 },
        note: `same counts: ${expected.decisions} decisions`,
      });
      const cpuOurs = median(ours.map((r) => r.cpuS ?? Number.NaN));
      const cpuTheirs = median(theirs.map((r) => r.cpuS ?? Number.NaN));
      if (Number.isFinite(cpuOurs) && Number.isFinite(cpuTheirs)) {
        // CPU time is steadier than wall time on a shared box; the pipeline's is summed over its processes.
        outcomes.push({
          name: `epp-decisions ${label} lines CPU time (user+sys)`,
          value: cpuOurs,
          unit: 's',
          baseline: cpuTheirs,
          better: 'lower',
        });
      }
      if (lines >= 1_000_000) {
        const rss = Math.max(...ours.map((r) => r.maxRssBytes ?? Number.NaN));
        const baseRss = Math.max(...theirs.map((r) => r.maxRssBytes ?? Number.NaN));
        outcomes.push({
          name: `epp-decisions ${label} lines peak RSS`,
          value: rss / MB,
          unit: 'MB',
          baseline: Number.isFinite(baseRss) ? baseRss / MB : 'not measured (no GNU time)',
          better: 'lower',
          goal: { on: 'value', op: '<', target: 150 },
          note: 'baseline: largest process of the pipeline',
        });
      }
      rmSync(file, { force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return outcomes;
}
