/**
 * HTTPRoute matching with Gateway API precedence. Pure: compile routes once per change, match per request.
 * One copy for the twin's gateway (which route serves a request) and the harness (which routes a suite's
 * requests travel, for the routeBackend criterion).
 * Real source: kubernetes-sigs/gateway-api apis/v1/httproute_types.go (HTTPRouteMatch, PathMatchType,
 * precedence in HTTPRouteRule's doc), v1.2.0; conformance/tests/httproute-matching.go.
 *
 * Order among matching rules (first wins):
 *  1. hostname: exact route hostname, then wildcard, then routes without hostnames;
 *  2. path: Exact, then RegularExpression, then PathPrefix; within a type the longer value first
 *     (RegularExpression placement is implementation-specific in the spec; this follows Envoy Gateway);
 *  3. a method match; 4. more header matches; 5. more query param matches;
 *  6. the older route (creationTimestamp), then namespace/name alphabetically; 7. rule order, match order.
 */
import { tryParseGoDuration } from './duration.ts';

export interface HTTPPathMatch {
  type?: 'Exact' | 'PathPrefix' | 'RegularExpression';
  value?: string;
}

export interface HTTPValueMatch {
  type?: 'Exact' | 'RegularExpression';
  name: string;
  value: string;
}

export interface HTTPRouteMatch {
  path?: HTTPPathMatch;
  headers?: HTTPValueMatch[];
  queryParams?: HTTPValueMatch[];
  method?: string;
}

export interface HTTPBackendRef {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
  port?: number;
  weight?: number;
}

export interface HTTPRouteRule {
  matches?: HTTPRouteMatch[];
  backendRefs?: HTTPBackendRef[];
  timeouts?: { request?: string; backendRequest?: string };
}

/** The parts of an HTTPRoute that matching reads. */
export interface HTTPRouteLike {
  metadata: { name: string; namespace?: string; creationTimestamp?: string | Date };
  spec?: { hostnames?: string[]; rules?: HTTPRouteRule[] };
}

export interface RequestFacts {
  method: string;
  /** path without the query string */
  path: string;
  query: URLSearchParams;
  /** lower-cased names */
  headers: Record<string, string | string[] | undefined>;
  /** Host header without port */
  host: string;
}

interface ValueMatcher {
  name: string;
  test(value: string | undefined): boolean;
}

export interface CompiledMatch<R extends HTTPRouteLike = HTTPRouteLike> {
  route: R;
  ruleIndex: number;
  rule: HTTPRouteRule;
  timeoutMs?: number;
  hostnames: string[];
  pathType: 'Exact' | 'RegularExpression' | 'PathPrefix';
  pathValue: string;
  pathTest: (path: string) => boolean;
  method?: string;
  headers: ValueMatcher[];
  query: ValueMatcher[];
  order: [created: number, key: string, rule: number, match: number];
}

const PATH_RANK = { Exact: 0, RegularExpression: 1, PathPrefix: 2 } as const;

function fullRegex(pattern: string): RegExp {
  return new RegExp(`^(?:${pattern})$`);
}

export function pathPrefixMatches(prefix: string, path: string): boolean {
  const p = prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (p === '/' || p === '') return true;
  return path === p || path.startsWith(`${p}/`);
}

function valueMatcher(m: HTTPValueMatch, lower: boolean): ValueMatcher {
  const name = lower ? m.name.toLowerCase() : m.name;
  if (m.type === 'RegularExpression') {
    const re = fullRegex(m.value);
    return { name, test: (v) => v !== undefined && re.test(v) };
  }
  return { name, test: (v) => v === m.value };
}

function createdMs(route: HTTPRouteLike): number {
  const c = route.metadata.creationTimestamp;
  const t = c === undefined ? NaN : new Date(c).getTime();
  return Number.isFinite(t) ? t : 0;
}

/** Compile every (route, rule, match) of the given routes, sorted by precedence. Invalid regexes skip that match. */
export function compileRoutes<R extends HTTPRouteLike>(routes: readonly R[]): CompiledMatch<R>[] {
  const out: CompiledMatch<R>[] = [];
  for (const route of routes) {
    const key = `${route.metadata.namespace ?? 'default'}/${route.metadata.name}`;
    const hostnames = (route.spec?.hostnames ?? []).map((h) => h.toLowerCase());
    (route.spec?.rules ?? []).forEach((rule, ruleIndex) => {
      // Gateway API: a zero timeout disables it; an unparsable one is refused by the CRD's validation.
      const timeoutMs = rule.timeouts?.request ? tryParseGoDuration(rule.timeouts.request) || undefined : undefined;
      const matches = rule.matches?.length ? rule.matches : [{}];
      matches.forEach((m, matchIndex) => {
        try {
          const type = m.path?.type ?? 'PathPrefix';
          const value = m.path?.value ?? '/';
          const pathTest =
            type === 'Exact'
              ? (p: string) => p === value
              : type === 'RegularExpression'
                ? (
                    (re) => (p: string) =>
                      re.test(p)
                  )(fullRegex(value))
                : (p: string) => pathPrefixMatches(value, p);
          out.push({
            route,
            ruleIndex,
            rule,
            ...(timeoutMs !== undefined ? { timeoutMs } : {}),
            hostnames,
            pathType: type,
            pathValue: value,
            pathTest,
            ...(m.method ? { method: m.method.toUpperCase() } : {}),
            headers: (m.headers ?? []).map((h) => valueMatcher(h, true)),
            query: (m.queryParams ?? []).map((q) => valueMatcher(q, false)),
            order: [createdMs(route), key, ruleIndex, matchIndex],
          });
        } catch {
          // an invalid regular expression: this match never matches (the route's status is not affected here)
        }
      });
    });
  }
  return out.sort(comparePrecedence);
}

export function comparePrecedence(a: CompiledMatch, b: CompiledMatch): number {
  return (
    PATH_RANK[a.pathType] - PATH_RANK[b.pathType] ||
    b.pathValue.length - a.pathValue.length ||
    Number(b.method !== undefined) - Number(a.method !== undefined) ||
    b.headers.length - a.headers.length ||
    b.query.length - a.query.length ||
    a.order[0] - b.order[0] ||
    (a.order[1] < b.order[1] ? -1 : a.order[1] > b.order[1] ? 1 : 0) ||
    a.order[2] - b.order[2] ||
    a.order[3] - b.order[3]
  );
}

/** 0: exact hostname match, 1: wildcard match, 2: route has no hostnames, -1: no match. */
export function hostnameRank(hostnames: readonly string[], host: string): number {
  if (hostnames.length === 0) return 2;
  let best = -1;
  for (const h of hostnames) {
    if (h === host) return 0;
    if (h.startsWith('*.') && host.endsWith(h.slice(1)) && host.length > h.length - 1) best = 1;
  }
  return best;
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(',') : v;
}

/** The first compiled match (by precedence, hostname first) that accepts the request. */
export function matchRequest<R extends HTTPRouteLike>(table: readonly CompiledMatch<R>[], req: RequestFacts): CompiledMatch<R> | undefined {
  let best: CompiledMatch<R> | undefined;
  let bestHost = 3;
  for (const m of table) {
    const hr = hostnameRank(m.hostnames, req.host);
    if (hr < 0 || hr >= bestHost) continue;
    if (!m.pathTest(req.path)) continue;
    if (m.method !== undefined && m.method !== req.method) continue;
    if (!m.headers.every((h) => h.test(headerValue(req.headers[h.name])))) continue;
    if (!m.query.every((q) => q.test(req.query.get(q.name) ?? undefined))) continue;
    best = m;
    bestHost = hr;
    if (hr === 0) break;
  }
  return best;
}

/** Weighted random choice among backendRefs (weight defaults to 1; weight 0 is never chosen). */
export function pickWeighted<T extends { weight?: number }>(refs: readonly T[], rng: () => number): T | undefined {
  let sum = 0;
  for (const r of refs) sum += Math.max(0, r.weight ?? 1);
  if (sum <= 0) return undefined;
  let x = rng() * sum;
  for (const r of refs) {
    x -= Math.max(0, r.weight ?? 1);
    if (x < 0) return r;
  }
  return refs.findLast((r) => (r.weight ?? 1) > 0);
}

/** A request as a suite describes it (path may carry a query string; header names in any case). */
export interface RequestShape {
  method: string;
  path: string;
  headers: Record<string, string>;
  host?: string;
}

export function requestFacts(req: RequestShape): RequestFacts {
  const [path = '/', query = ''] = req.path.split('?', 2);
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k.toLowerCase(), v]));
  const host = (req.host ?? headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
  return { method: req.method.toUpperCase(), path, query: new URLSearchParams(query), headers, host };
}

/** The routes that serve at least one of the requests: for each request, the route whose match wins precedence. */
export function routesCarrying<R extends HTTPRouteLike>(routes: readonly R[], requests: readonly RequestShape[]): R[] {
  const table = compileRoutes(routes);
  const winners = new Set<R>();
  for (const req of requests) {
    const m = matchRequest(table, requestFacts(req));
    if (m) winners.add(m.route);
  }
  return routes.filter((r) => winners.has(r));
}
