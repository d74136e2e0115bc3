/**
 * Removes secrets from text before it reaches a log or a report: bearer tokens, Authorization and
 * cookie headers, kubeconfig credentials, passwords.
 */
const RULES: [RegExp, string][] = [
  [/\b(authorization|proxy-authorization|cookie|set-cookie|x-api-key)(["']?\s*[:=]\s*["']?)[^"'\n,}]+/gi, '$1$2[REDACTED]'],
  [/\bBearer\s+[A-Za-z0-9._~+/=-]+/g, 'Bearer [REDACTED]'],
  [/\b(token|client-key-data|client-certificate-data|password|secret|api[_-]?key)(["']?\s*[:=]\s*["']?)(?!\[REDACTED\])[^"'\s,}]+/gi, '$1$2[REDACTED]'],
];

export function redact(text: string): string {
  let out = text;
  for (const [re, replacement] of RULES) out = out.replace(re, replacement);
  return out;
}

const SECRET_KEYS = /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|token|password|secret|client-key-data|client-certificate-data|api[_-]?key)$/i;

/** Deep copy with secret-named keys blanked and secret-shaped strings redacted. */
export function redactObject<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map(redactObject) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, SECRET_KEYS.test(k) ? '[REDACTED]' : redactObject(v)]),
    ) as T;
  }
  return value;
}
