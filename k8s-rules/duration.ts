/**
 * Go's time.ParseDuration, exactly: what the EPP (requestTimeout), Gateway API (`timeouts.request`), k6
 * (durations in options) and Kubernetes accept. `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, units ns, us, µs, μs,
 * ms, s, m, h, in any order and repeatable; "0" alone needs no unit. Errors carry Go's own text.
 * Real source: golang/go src/time/format.go (ParseDuration), go1.23. Pure; one copy for harness and twin.
 */

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, μs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
const MAX_NS = 2 ** 63 - 1; // math.MaxInt64 nanoseconds (about 292 years)

/** A duration Go's parser refuses; `message` is Go's error text, e.g. `time: invalid duration "x"`. */
export class DurationError extends Error {
  override name = 'DurationError';
}

const quote = (s: string): string => JSON.stringify(s);

/** Nanoseconds of a Go duration string. Throws DurationError with Go's message. */
export function parseGoDurationNs(text: string): number {
  const orig = text;
  let s = text;
  let neg = false;
  if (s !== '' && (s[0] === '-' || s[0] === '+')) {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw new DurationError(`time: invalid duration ${quote(orig)}`);
  let total = 0;
  while (s !== '') {
    const num = /^(\d*)(?:\.(\d*))?/.exec(s)!;
    const pre = num[1]!.length > 0;
    const post = (num[2] ?? '').length > 0;
    if (!(s[0] === '.' || (s[0]! >= '0' && s[0]! <= '9')) || (!pre && !post))
      throw new DurationError(`time: invalid duration ${quote(orig)}`);
    s = s.slice(num[0].length);
    const unitMatch = /^[^.0-9]*/.exec(s)![0];
    if (unitMatch === '') throw new DurationError(`time: missing unit in duration ${quote(orig)}`);
    const unit = UNIT_NS[unitMatch];
    if (unit === undefined) throw new DurationError(`time: unknown unit ${quote(unitMatch)} in duration ${quote(orig)}`);
    s = s.slice(unitMatch.length);
    total += Number(`${num[1] || '0'}.${num[2] || '0'}`) * unit;
    if (total > MAX_NS) throw new DurationError(`time: invalid duration ${quote(orig)}`);
  }
  return neg ? -total : total;
}

/** Milliseconds of a Go duration string. Throws DurationError with Go's message. */
export function parseGoDuration(text: string): number {
  return parseGoDurationNs(text) / 1e6;
}

/** Milliseconds, or undefined when Go would refuse the text. */
export function tryParseGoDuration(text: string): number | undefined {
  try {
    return parseGoDuration(text);
  } catch (err) {
    if (err instanceof DurationError) return undefined;
    throw err;
  }
}
