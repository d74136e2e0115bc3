/**
 * Durations as suites write them: `500ms`, `35s`, `2m`, `1h30m`, `1.5s`, or `0`.
 * Units go from largest to smallest and appear at most once, like Go's time.ParseDuration but stricter.
 */

import { tryParseGoDuration } from '../k8s-rules/duration.ts';

const UNIT_MS = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;
type Unit = keyof typeof UNIT_MS;
const UNIT_ORDER: readonly Unit[] = ['h', 'm', 's', 'ms'];

/** A regular expression for the whole syntax, also used as the JSON Schema `pattern`. */
export const DURATION_PATTERN = '^(0|(?=\\d)(\\d+(\\.\\d+)?h)?(\\d+(\\.\\d+)?m)?(\\d+(\\.\\d+)?s)?(\\d+(\\.\\d+)?ms)?)$';

export const DURATION_HINT = 'expected a duration like 500ms, 35s, 2m or 1h30m';

const SYNTAX = new RegExp(DURATION_PATTERN);

/**
 * Milliseconds for a duration string, or undefined when the text is not a suite duration. The suite's syntax
 * (DURATION_PATTERN) is stricter than Go's; the value is Go's time.ParseDuration's (k8s-rules/duration.ts).
 */
export function tryParseDuration(text: string): number | undefined {
  const s = text.trim();
  if (!SYNTAX.test(s)) return undefined;
  const ms = tryParseGoDuration(s);
  return ms === undefined ? undefined : Math.round(ms);
}

/** Milliseconds for a duration string; throws a one-line error when it is not one. */
export function parseDuration(text: string): number {
  const ms = tryParseDuration(text);
  if (ms === undefined) throw new Error(`invalid duration "${text}": ${DURATION_HINT}`);
  return ms;
}

/** The shortest suite-style text for a number of milliseconds: 90000 -> "1m30s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new Error(`cannot format duration ${ms}`);
  let rest = Math.round(ms);
  if (rest === 0) return '0';
  let out = '';
  for (const unit of UNIT_ORDER) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * UNIT_MS[unit];
    }
  }
  return out;
}
