/** One-line descriptions of errors from @kubernetes/client-node and the network. */
export interface ApiErrorInfo {
  code?: number;
  reason?: string;
  message: string;
}

export function apiErrorInfo(err: unknown): ApiErrorInfo {
  const e = err as { code?: unknown; body?: unknown; message?: unknown; cause?: unknown };
  const code = typeof e?.code === 'number' ? e.code : undefined;
  let status: { reason?: string; message?: string } | undefined;
  if (typeof e?.body === 'string') {
    try {
      status = JSON.parse(e.body) as { reason?: string; message?: string };
    } catch {
      status = { message: e.body.slice(0, 200) };
    }
  } else if (e?.body && typeof e.body === 'object') {
    status = e.body as { reason?: string; message?: string };
  }
  const netCode = (e?.cause as { code?: string } | undefined)?.code ?? (e as { code?: unknown })?.code;
  const base = status?.message ?? (typeof e?.message === 'string' ? e.message : String(err));
  const message = firstLine(base) + (typeof netCode === 'string' && !base.includes(netCode) ? ` (${netCode})` : '');
  return { code, reason: status?.reason, message };
}

/**
 * A non-2xx answer of the API server to a request sent without client-node (a JSON patch): the status code is
 * kept as `code`, like client-node's ApiException, so callers decide by the code and not by message text.
 */
export class ApiStatusError extends Error {
  constructor(
    readonly code: number,
    readonly body: string,
  ) {
    super(`HTTP ${code}`);
    this.name = 'ApiStatusError';
  }
}

/** The HTTP status code of an API error: its own (client-node's ApiException `code`), else its causes'. */
export function statusCodeOf(err: unknown): number | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number') return code;
  }
  return undefined;
}

export function isNotFound(err: unknown): boolean {
  return statusCodeOf(err) === 404;
}

export function isConflict(err: unknown): boolean {
  return statusCodeOf(err) === 409;
}

/** 401 or 403: the credentials may not do this (a read failure that must not read as "absent"). */
export function isForbidden(err: unknown): boolean {
  const code = statusCodeOf(err);
  return code === 401 || code === 403;
}

export function describeApiError(err: unknown): string {
  const info = apiErrorInfo(err);
  return info.code ? `${info.code}${info.reason ? ` ${info.reason}` : ''}: ${info.message}` : info.message;
}

function firstLine(s: string): string {
  const line = s.split('\n')[0] ?? s;
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
