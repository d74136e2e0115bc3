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

export function isNotFound(err: unknown): boolean {
  return apiErrorInfo(err).code === 404;
}

export function isConflict(err: unknown): boolean {
  return apiErrorInfo(err).code === 409;
}

export function describeApiError(err: unknown): string {
  const info = apiErrorInfo(err);
  return info.code ? `${info.code}${info.reason ? ` ${info.reason}` : ''}: ${info.message}` : info.message;
}

function firstLine(s: string): string {
  const line = s.split('\n')[0] ?? s;
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
