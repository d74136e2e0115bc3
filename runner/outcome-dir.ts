/**
 * The directory `pd-harness run` hands its Playwright child for the outcome file (runner/outcome.ts): one per run,
 * named after the run's process (`pdh-outcome-<pid>-XXXXXX` in the system temp dir) and removed when the run ends.
 * A run killed with SIGKILL cannot remove its own, so each run first removes those whose process is gone.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPidAlive } from '../common/pid-alive.ts';

const PREFIX = 'pdh-outcome-';
/** `pdh-outcome-<pid>-XXXXXX`: what mkdtemp makes of PREFIX and the pid. */
const OUTCOME_DIR = new RegExp(`^${PREFIX}(\\d+)-[A-Za-z0-9]{6}$`);

/** Removes the outcome directories of runs that are no longer running; returns their paths. */
export function sweepOutcomeDirs(base: string = tmpdir(), alive: (pid: number) => boolean = isPidAlive): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = OUTCOME_DIR.exec(name);
    if (!m || alive(Number(m[1]))) continue;
    rmSync(join(base, name), { recursive: true, force: true });
    removed.push(join(base, name));
  }
  return removed;
}

/** A new outcome directory for this process, after sweeping what dead runs left. */
export function makeOutcomeDir(base: string = tmpdir()): string {
  sweepOutcomeDirs(base);
  return mkdtempSync(join(base, `${PREFIX}${process.pid}-`));
}
