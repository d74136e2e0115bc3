/**
 * The timeouts a run keeps: core/timeouts.ts's defaults, then the suite's `spec.timeouts`, then the command
 * line's `--timeout NAME=DURATION` (repeatable; the command line wins). `pd-harness run` hands its values to the
 * Playwright child as PD_HARNESS_TIMEOUTS (`deploy=5m,reconcile=45s`), the same syntax as the flag.
 */
import { UsageError } from '../core/errors.ts';
import { DEFAULT_TIMEOUTS, formatTimeout, resolveTimeouts, TIMEOUT_NAMES, timeoutProblem, type TimeoutConfig } from '../core/timeouts.ts';
import { DURATION_HINT, formatDuration, tryParseDuration } from '../suites/durations.ts';
import type { Suite } from '../suites/schema.ts';

/** The environment variable that carries the command line's values to the Playwright child. */
export const TIMEOUTS_ENV = 'PD_HARNESS_TIMEOUTS';

/** `--timeout` values (`deploy=5m`) as overrides; a bad one throws one line (exit 2) naming `source`. */
export function parseTimeoutFlags(values: readonly string[], source = '--timeout'): Partial<TimeoutConfig> {
  const out: Partial<TimeoutConfig> = {};
  for (const raw of values) {
    const eq = raw.indexOf('=');
    if (eq <= 0) throw new UsageError(`${source} ${raw}: expected NAME=DURATION, e.g. deploy=5m (names: ${TIMEOUT_NAMES.join(', ')})`);
    const name = raw.slice(0, eq).trim();
    const text = raw.slice(eq + 1).trim();
    const ms = tryParseDuration(text);
    if (ms === undefined) throw new UsageError(`${source} ${raw}: ${DURATION_HINT}`);
    const problem = timeoutProblem(name, ms);
    if (problem) throw new UsageError(`${source} ${raw}: ${problem}`);
    out[name as keyof TimeoutConfig] = ms;
  }
  return out;
}

/** Overrides as PD_HARNESS_TIMEOUTS text (`deploy=5m,reconcile=45s`); '' for none. */
export function formatTimeoutOverrides(overrides: Partial<TimeoutConfig>): string {
  return Object.entries(overrides)
    .filter(([, ms]) => ms !== undefined)
    .map(([name, ms]) => `${name}=${formatDuration(ms!)}`)
    .join(',');
}

/** The command line's overrides from PD_HARNESS_TIMEOUTS (empty or unset: none). */
export function timeoutOverridesFromEnv(text: string | undefined): Partial<TimeoutConfig> {
  const items = (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return parseTimeoutFlags(items, TIMEOUTS_ENV);
}

/** The timeouts in force for a suite's run: defaults < `spec.timeouts` < the command line. */
export function runTimeouts(suite: Suite, commandLine: Partial<TimeoutConfig> = {}): Readonly<TimeoutConfig> {
  return resolveTimeouts(suite.spec.timeouts ?? {}, commandLine);
}

/** One line per timeout that is not its default, with where it comes from (for the dry run). */
export function describeTimeouts(suite: Suite, commandLine: Partial<TimeoutConfig> = {}): string[] {
  const t = runTimeouts(suite, commandLine);
  return TIMEOUT_NAMES.filter((n) => t[n] !== DEFAULT_TIMEOUTS[n]).map(
    (n) =>
      `timeout ${n}: ${formatTimeout(t[n])} (${commandLine[n] !== undefined ? '--timeout' : 'spec.timeouts'}; default ${formatTimeout(DEFAULT_TIMEOUTS[n])})`,
  );
}
