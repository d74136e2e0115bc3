/** Which HTTPRoutes carry a given request (path and headers): the ones a route criterion should judge. */
interface HttpRouteMatch {
  path?: { type?: string; value?: string };
  headers?: { type?: string; name: string; value: string }[];
  method?: string;
}

interface HttpRouteLike {
  spec?: { rules?: { matches?: HttpRouteMatch[] }[] };
}

export interface RequestShape {
  method: string;
  path: string;
  headers: Record<string, string>;
}

export function matchesRequest(m: HttpRouteMatch, req: RequestShape): boolean {
  const type = m.path?.type ?? 'PathPrefix';
  const value = m.path?.value ?? '/';
  const path = req.path.split('?')[0] ?? '/';
  if (type === 'Exact' && path !== value) return false;
  if (type === 'PathPrefix' && !(value === '/' || path === value || path.startsWith(value.endsWith('/') ? value : `${value}/`))) return false;
  if (type === 'RegularExpression' && !new RegExp(`^${value}$`).test(path)) return false;
  if (m.method && m.method.toUpperCase() !== req.method.toUpperCase()) return false;
  const lower = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v]));
  for (const h of m.headers ?? []) {
    const got = lower[h.name.toLowerCase()];
    if (got === undefined) return false;
    if ((h.type ?? 'Exact') === 'Exact' ? got !== h.value : !new RegExp(`^${h.value}$`).test(got)) return false;
  }
  return true;
}

/** Routes with at least one rule matching at least one of the requests (a rule with no matches matches all). */
export function routesCarrying<T>(routes: T[], requests: RequestShape[]): T[] {
  return routes.filter((route) =>
    ((route as HttpRouteLike).spec?.rules ?? []).some((rule) =>
      requests.some((req) => (rule.matches?.length ? rule.matches.some((m) => matchesRequest(m, req)) : true)),
    ),
  );
}
