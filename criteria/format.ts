import type { Verdict } from './verdict.ts';

/** A readable criteria table (for reports and the CLI): criterion, PASS/FAIL, summary. */
export function formatVerdicts(verdicts: readonly Verdict[]): string {
  const rows = verdicts.map((v) => [v.name, v.ok ? 'PASS' : 'FAIL', v.summary]);
  const nameWidth = Math.max('CRITERION'.length, ...rows.map((r) => (r[0] ?? '').length));
  const lines = [['CRITERION', 'RESULT', 'SUMMARY'], ...rows].map((r) =>
    `${(r[0] ?? '').padEnd(nameWidth)}  ${(r[1] ?? '').padEnd(6)}  ${r[2] ?? ''}`.trimEnd(),
  );
  return `${lines.join('\n')}\n`;
}

/** The first failing verdict as one line, for a test's failure message: `proxiesChosen: no Scoring decision ...`. */
export function firstFailure(verdicts: readonly Verdict[]): string | undefined {
  const v = verdicts.find((x) => !x.ok);
  return v ? `${v.name}: ${v.summary}` : undefined;
}
