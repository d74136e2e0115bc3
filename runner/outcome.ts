/**
 * What a run inside Playwright tells `pd-harness run` after it: one JSON line per suite in the file named by
 * PD_HARNESS_OUTCOME_FILE, with each criterion's verdict, or the error that stopped the run and its exit code.
 * The CLI prints one line per criterion from it and maps a guard refusal or an unreachable target to its code.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { exitCodeOf, oneLine } from '../core/errors.ts';
import type { Verdict } from '../criteria/index.ts';
import type { FailureCause } from '../criteria/verdict.ts';
import { redact } from '../core/redact.ts';

export type OutcomeLine =
  | { suite: string; verdicts: { name: string; ok: boolean; summary: string; cause?: FailureCause }[] }
  | { suite: string; error: string; exitCode: number };

function write(line: OutcomeLine, env: NodeJS.ProcessEnv): void {
  const file = env.PD_HARNESS_OUTCOME_FILE;
  if (file) appendFileSync(file, `${JSON.stringify(line)}\n`);
}

export function recordOutcome(suite: string, verdicts: readonly Verdict[], env: NodeJS.ProcessEnv = process.env): void {
  write(
    {
      suite,
      verdicts: verdicts.map((v) => ({ name: v.name, ok: v.ok, summary: redact(v.summary), ...(v.cause ? { cause: v.cause } : {}) })),
    },
    env,
  );
}

export function recordFailure(suite: string, err: unknown, env: NodeJS.ProcessEnv = process.env): void {
  write({ suite, error: redact(oneLine(err)), exitCode: exitCodeOf(err) }, env);
}

export function readOutcomes(file: string): OutcomeLine[] {
  if (!existsSync(file)) return [];
  const out: OutcomeLine[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as OutcomeLine);
    } catch {
      // a line cut short by a killed run
    }
  }
  return out;
}
