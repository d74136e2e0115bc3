import type { ErrorKind } from '../result.ts';

const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED']);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

function codeOf(err: unknown): string | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string') return e.code;
  // connect() with several addresses rejects with an AggregateError; the first one says why.
  if (Array.isArray(e.errors) && e.errors.length > 0) return codeOf(e.errors[0]);
  return e.cause === undefined ? undefined : codeOf(e.cause);
}

/**
 * Map an undici/Node error to the result model's error kind. `timedOut` is set by the engine when its own
 * per-request timer fired: that abort is a timeout, any other abort is `aborted`.
 */
export function classifyError(err: unknown, timedOut: boolean): ErrorKind {
  if (timedOut) return 'timeout';
  const code = codeOf(err);
  if (code === 'ECONNREFUSED') return 'connection-refused';
  if (code !== undefined && RESET_CODES.has(code)) return 'reset';
  if (code !== undefined && TIMEOUT_CODES.has(code)) return 'timeout';
  const name = err !== null && typeof err === 'object' ? (err as { name?: unknown }).name : undefined;
  if (code === 'UND_ERR_ABORTED' || code === 'ABORT_ERR' || name === 'AbortError') return 'aborted';
  return 'other';
}

/** One line describing the error, for `errorMessage`. */
export function errorLine(err: unknown): string {
  const code = codeOf(err);
  const message = err instanceof Error ? err.message : String(err);
  const line = (message.split('\n')[0] ?? '').slice(0, 200);
  return code && !line.includes(code) ? `${code}: ${line}` : line;
}
