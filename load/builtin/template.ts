import type { LoadPlan, RequestTemplate } from '../plan.ts';

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
 * A template as sent, placeholders kept: an object body serialized to JSON (with `stream: true` added for a
 * streaming plan when the body has no `stream` key) and `content-type: application/json` added when missing.
 */
export function serializeTemplate(template: RequestTemplate, opts: { stream?: boolean } = {}): RenderedRequest {
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
  const out: RenderedRequest = { method: template.method.toUpperCase(), path: template.path, headers };
  if (bodyText !== undefined) out.body = bodyText;
  return out;
}

/**
 * Compile a request template once. The body is serialized to JSON first and `{{i}}` replaced in the
 * serialized text: the placeholder needs no JSON escaping and the number replacing it needs none either.
 */
export function compileTemplate(template: RequestTemplate, opts: { stream?: boolean } = {}): (i: number) => RenderedRequest {
  const { headers, body: bodyText } = serializeTemplate(template, opts);
  const path = split(template.path);
  const body = bodyText === undefined ? undefined : split(bodyText);
  const headerParts = Object.entries(headers).map(([k, v]) => [k, split(v)] as const);
  // Headers without `{{i}}` are the same for every request: one object, shared, so frozen.
  let fixedHeaders: Record<string, string> | undefined;
  if (headerParts.every(([, v]) => v.length === 1)) {
    fixedHeaders = Object.freeze(Object.fromEntries(headerParts.map(([k, v]) => [k, render(v, 0)]))) as Record<string, string>;
  }
  const method = template.method.toUpperCase();
  return (i) => {
    let h = fixedHeaders;
    if (h === undefined) {
      h = {};
      for (const [k, v] of headerParts) h[k] = render(v, i);
    }
    const out: RenderedRequest = { method, path: render(path, i), headers: h };
    if (body) out.body = render(body, i);
    return out;
  };
}

export interface RenderedVariantRequest extends RenderedRequest {
  variant?: string;
}

/** `{{variant}}` is fixed per variant at compile time; `{{i}}` stays per request. */
function withVariant(value: unknown, name: string): unknown {
  if (typeof value === 'string') return value.split('{{variant}}').join(name);
  if (Array.isArray(value)) return value.map((v) => withVariant(v, name));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withVariant(v, name)]));
  }
  return value;
}

/** The plan's requests: request i (1-based) uses variants[(i-1) % n] when the plan has variants. */
/** The plan's request templates, one per variant (`{{variant}}` filled in), or the one request without variants. */
export function variantTemplates(plan: Pick<LoadPlan, 'request' | 'variants'>): { name?: string; template: RequestTemplate }[] {
  const variants = plan.variants ?? [];
  if (variants.length === 0) return [{ template: plan.request }];
  return variants.map((v) => {
    const template = withVariant(
      {
        ...plan.request,
        path: v.path ?? plan.request.path,
        headers: { ...plan.request.headers, ...(v.headers ?? {}) },
        ...(v.body !== undefined ? { body: v.body } : plan.request.body !== undefined ? { body: plan.request.body } : {}),
      },
      v.name,
    ) as RequestTemplate;
    return { name: v.name, template };
  });
}

export function compileRequests(plan: Pick<LoadPlan, 'request' | 'variants' | 'stream'>): (i: number) => RenderedVariantRequest {
  const variants = plan.variants ?? [];
  if (variants.length === 0) return compileTemplate(plan.request, { stream: plan.stream });
  const compiled = variantTemplates(plan).map(({ name, template }) => ({
    name: name as string,
    render: compileTemplate(template, { stream: plan.stream }),
  }));
  return (i) => {
    const v = compiled[(Math.max(i, 1) - 1) % compiled.length]!;
    return { ...v.render(i), variant: v.name };
  };
}
