import { tryParseGoDuration } from '../k8s-rules/duration.ts';

/**
 * Durations as suites write them: `35s`, `500ms`, `2m`, `1h`, `1m30s`, or a bare number of milliseconds.
 * Returns undefined for anything else, so callers can say which field was wrong.
 */
export function parseDurationMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  // k6 reads duration strings with Go's time.ParseDuration (lib/types NullDuration); negatives are no duration here.
  const ms = tryParseGoDuration(text);
  return ms !== undefined && ms >= 0 ? ms : undefined;
}

/** A rate as requests per second: a number, `10`, `10/s`, `600/m`, `36000/h`. */
export function parseRatePerSecond(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value > 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(\d*)\s*(ms|s|m|h))?\s*$/.exec(value);
  if (!m || m[1] === undefined) return undefined;
  const per = m[3] === undefined ? 1000 : ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[3]] ?? 1000) * Number(m[2] || 1);
  const rate = (Number(m[1]) * 1000) / per;
  return rate > 0 ? rate : undefined;
}
