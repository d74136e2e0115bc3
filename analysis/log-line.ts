/**
 * One EPP log line as `kubectl logs` hands it over: optionally prefixed by `--prefix`
 * (`[pod/NAME/CONTAINER] `, or `(pod-name) ` from some tools) and/or `--timestamps` (RFC 3339, nanoseconds),
 * followed by the zap JSON object or plain text.
 */

const KUBECTL_TS = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))\s/;
const BRACKET_PREFIX = /^\[[^\]\s]+\]\s/;
const PAREN_PREFIX = /^\([^)\s]+\)\s/;
const JSON_TS = /"ts"\s*:\s*(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|"[^"]*")/;

export interface SplitLine {
  /** The line without kubectl prefixes. */
  body: string;
  /** Epoch seconds from a `--timestamps` prefix. */
  prefixTs?: number;
}

export function splitPrefixes(line: string): SplitLine {
  let body = line.endsWith('\r') ? line.slice(0, -1) : line;
  let prefixTs: number | undefined;
  // Both flags may be given, in either order; each prefix appears at most once.
  for (let i = 0; i < 3; i++) {
    const ts = prefixTs === undefined ? KUBECTL_TS.exec(body) : null;
    if (ts) {
      prefixTs = parseTimestamp(ts[1] ?? '');
      body = body.slice(ts[0].length);
      continue;
    }
    const prefix = BRACKET_PREFIX.exec(body) ?? PAREN_PREFIX.exec(body);
    if (prefix) {
      body = body.slice(prefix[0].length);
      continue;
    }
    break;
  }
  return prefixTs === undefined ? { body } : { body, prefixTs };
}

/** The JSON object of a line, or undefined when the line holds none. */
export function parseJsonObject(body: string): Record<string, unknown> | undefined {
  const start = body.indexOf('{');
  if (start < 0) return undefined;
  try {
    const value: unknown = JSON.parse(start === 0 ? body : body.slice(start));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Epoch seconds from a number (zap's default epoch-seconds `ts`; values above 1e11 are taken as
 * milliseconds) or a string (epoch seconds, or ISO 8601 with any number of fraction digits).
 */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? (value > 1e11 ? value / 1000 : value) : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^-?\d+(\.\d+)?$/.test(text)) return parseTimestamp(Number(text));
  // Date.parse handles milliseconds; cut nanosecond fractions down to them.
  const ms = Date.parse(text.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isNaN(ms) ? undefined : ms / 1000;
}

/** The `ts` of a zap JSON line without parsing the whole object (cheap enough for every line). */
export function peekJsonTs(body: string): number | undefined {
  const m = JSON_TS.exec(body);
  if (!m || m[1] === undefined) return undefined;
  const raw = m[1];
  return parseTimestamp(raw.startsWith('"') ? raw.slice(1, -1) : Number(raw));
}
