import { type DecisionCounts, totalPicks } from './epp-decisions.ts';

/** Left-aligned first column, right-aligned numbers, two spaces between columns. */
export function alignTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  return all
    .map((r) =>
      r
        .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Share of `n` in `total` as `53.3%` (`-` when there is nothing to share). */
export function percent(n: number, total: number): string {
  return total > 0 ? `${((100 * n) / total).toFixed(1)}%` : '-';
}

/** The text output of `pd-harness epp-decisions`: workloads, endpoints, failures. */
export function formatDecisionTable(counts: DecisionCounts): string {
  const picks = totalPicks(counts);
  const workloads = Object.entries(counts.byWorkload).map(([w, n]) => [w, String(n), percent(n, picks)]);
  const endpoints = Object.entries(counts.byEndpoint).map(([e, n]) => [e, String(n), percent(n, picks)]);
  const parts = [
    `decisions: ${counts.decisions}  picks: ${picks}  skipped lines: ${counts.skippedLines}`,
    '',
    workloads.length > 0 ? alignTable(['WORKLOAD', 'PICKS', 'SHARE'], workloads) : 'no "Scoring decision" lines',
  ];
  if (endpoints.length > 0) parts.push('', alignTable(['ENDPOINT', 'PICKS', 'SHARE'], endpoints));
  parts.push(
    '',
    alignTable(
      ['FAILURE', 'LINES'],
      [
        ['InferencePoolResourceExhausted', String(counts.failures.InferencePoolResourceExhausted)],
        ['failed to run scheduler profile', String(counts.failures.failedToRunSchedulerProfile)],
      ],
    ),
  );
  return `${parts.join('\n')}\n`;
}
