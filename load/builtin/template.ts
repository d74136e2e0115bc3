import type { RequestTemplate } from '../plan.ts';

const PLACEHOLDER = '{{i}}';

/** A string split at each `{{i}}`, so rendering is one join per request. */
type Parts = readonly string[];

function split(text: string): Parts {
  return text.split(PLACEHOLDER);
}

function render(parts: Parts, i: number): string {
  return parts.length === 1 ? (parts[0] ?? '') : parts.join(String(i));
}

export interface RenderedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/**
 * Compile a request template once. The body is serialized to JSON first and `{{i}}` replaced in the
 * serialized text: the placeholder needs no JSON escaping and the number replacing it needs none either.
 */
export function compileTemplate(template: RequestTemplate, opts: { stream?: boolean } = {}): (i: number) => RenderedRequest {
  let bodyText: string | undefined;
  const headers = { ...template.headers };
  if (typeof template.body === 'string') bodyText = template.body;
  else if (template.body !== undefined) {
    let body = template.body;
    if (opts.stream && body !== null && typeof body === 'object' && !Array.isArray(body) && !('stream' in body)) {
      body = { ...(body as Record<string, unknown>), stream: true };
    }
    bodyText = JSON.stringify(body);
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  const path = split(template.path);
  const body = bodyText === undefined ? undefined : split(bodyText);
  const headerParts = Object.entries(headers).map(([k, v]) => [k, split(v)] as const);
  const method = template.method.toUpperCase();
  return (i) => {
    const h: Record<string, string> = {};
    for (const [k, v] of headerParts) h[k] = render(v, i);
    const out: RenderedRequest = { method, path: render(path, i), headers: h };
    if (body) out.body = render(body, i);
    return out;
  };
}
