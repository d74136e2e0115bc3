/** The generated part of docs/benchmarks.md: machine, command, figure table, log. Pure. */
import { markdownTable, missed, type Outcome } from './figures.ts';

export const RESULTS_START = '<!-- bench:results:start (written by npm run bench; edit outside these markers) -->';
export const RESULTS_END = '<!-- bench:results:end -->';

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  date: string;
  loadAvg: number[];
  command: string;
  durationS: number;
}

export function resultsSection(machine: Machine, outcomes: readonly Outcome[], logLines: readonly string[]): string {
  const miss = missed(outcomes);
  return [
    RESULTS_START,
    '## Latest results',
    '',
    `- command: \`${machine.command}\` (took ${machine.durationS.toFixed(0)} s)`,
    `- machine: ${machine.cpus} CPUs (\`nproc\`), ${machine.cpuModel}, ${machine.memoryGiB.toFixed(1)} GiB memory, load average at start ${machine.loadAvg.map((x) => x.toFixed(2)).join(' / ')}`,
    `- node ${machine.node}, ${machine.date}`,
    '',
    markdownTable(outcomes),
    '',
    miss.length ? `Goals missed: ${miss.map((f) => f.name).join('; ')}.` : 'Every goal was met.',
    '',
    '<details><summary>bench output</summary>',
    '',
    '```',
    ...logLines,
    '```',
    '',
    '</details>',
    RESULTS_END,
  ].join('\n');
}

/** Replaces the section between the markers, or appends it when the doc has none. */
export function replaceResults(doc: string, section: string): string {
  const a = doc.indexOf(RESULTS_START);
  const b = doc.indexOf(RESULTS_END);
  if (a >= 0 && b > a) return doc.slice(0, a) + section + doc.slice(b + RESULTS_END.length);
  return `${doc.replace(/\s*$/, '')}\n\n${section}\n`;
}
