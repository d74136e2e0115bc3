import { expect, test } from '@playwright/test';
import { seededRng } from '../../twin/sims/epp/types.ts';
import { compileRoutes, matchRequest, pathPrefixMatches, pickWeighted, type RequestFacts } from '../../k8s-rules/httproute.ts';
import { emptySnapshot, resolveBackend, servedRoutes, type Snapshot } from '../../twin/gateway/snapshot.ts';
import { gatewayStatus, poolStatus, routeStatus, statusUpToDate } from '../../twin/gateway/status.ts';
import type { HTTPRoute, HTTPRouteRule, KObject } from '../../twin/gateway/types.ts';

function route(
  name: string,
  rules: HTTPRouteRule[],
  extra: Partial<HTTPRoute['spec']> = {},
  created = '2026-01-01T00:00:00Z',
  ns = 'app',
): HTTPRoute {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name, namespace: ns, creationTimestamp: created, generation: 1 },
    spec: { parentRefs: [{ name: 'gw' }], rules, ...extra },
  };
}

const svc = (name: string) => ({ backendRefs: [{ name, port: 8080 }] });

function req(path: string, headers: Record<string, string> = {}, method = 'GET', host = 'localhost'): RequestFacts {
  const u = new URL(path, 'http://x');
  return { method, path: u.pathname, query: u.searchParams, headers, host };
}

function winner(routes: HTTPRoute[], r: RequestFacts): string | undefined {
  const m = matchRequest(compileRoutes(routes), r);
  return m && `${m.route.metadata.name}#${m.ruleIndex}`;
}

test.describe('HTTPRoute matching precedence', () => {
  test('PathPrefix matches whole path elements; the default match is PathPrefix /', () => {
    expect(pathPrefixMatches('/v1', '/v1/completions')).toBe(true);
    expect(pathPrefixMatches('/v1/', '/v1')).toBe(true);
    expect(pathPrefixMatches('/v1', '/v10')).toBe(false);
    expect(winner([route('all', [svc('a')])], req('/anything'))).toBe('all#0');
  });

  test('Exact beats RegularExpression beats the longest PathPrefix beats a shorter one', () => {
    const routes = [
      route('short', [{ matches: [{ path: { type: 'PathPrefix', value: '/v1' } }], ...svc('a') }]),
      route('long', [{ matches: [{ path: { type: 'PathPrefix', value: '/v1/chat' } }], ...svc('b') }]),
      route('regex', [{ matches: [{ path: { type: 'RegularExpression', value: '/v1/chat/.*' } }], ...svc('c') }]),
      route('exact', [{ matches: [{ path: { type: 'Exact', value: '/v1/chat/completions' } }], ...svc('d') }]),
    ];
    expect(winner(routes, req('/v1/chat/completions'))).toBe('exact#0');
    expect(winner(routes, req('/v1/chat/other'))).toBe('regex#0');
    expect(winner(routes, req('/v1/chat'))).toBe('long#0');
    expect(winner(routes, req('/v1/models'))).toBe('short#0');
    expect(winner(routes, req('/v2'))).toBeUndefined();
  });

  test('with equal paths: method, then more headers, then more query params', () => {
    const routes = [
      route('plain', [{ ...svc('a') }]),
      route('method', [{ matches: [{ method: 'POST' }], ...svc('b') }]),
      route('one-header', [{ matches: [{ headers: [{ name: 'x-a', value: '1' }] }], ...svc('c') }]),
      route('two-headers', [
        {
          matches: [
            {
              headers: [
                { name: 'x-a', value: '1' },
                { name: 'X-B', type: 'RegularExpression', value: 'b+' },
              ],
            },
          ],
          ...svc('d'),
        },
      ]),
      route('query', [{ matches: [{ queryParams: [{ name: 'v', value: '2' }] }], ...svc('e') }]),
    ];
    expect(winner(routes, req('/p', {}, 'POST'))).toBe('method#0');
    expect(winner(routes, req('/p', { 'x-a': '1' }))).toBe('one-header#0');
    expect(winner(routes, req('/p', { 'x-a': '1', 'x-b': 'bbb' }))).toBe('two-headers#0');
    expect(winner(routes, req('/p', { 'x-a': '1', 'x-b': 'bbc' }))).toBe('one-header#0');
    expect(winner(routes, req('/p?v=2'))).toBe('query#0');
    expect(winner(routes, req('/p?v=3'))).toBe('plain#0');
  });

  test('ties go to the older route, then namespace/name, then rule order', () => {
    const a = route('b-route', [svc('a')], {}, '2026-01-02T00:00:00Z');
    const b = route('a-route', [svc('b')], {}, '2026-01-03T00:00:00Z');
    expect(winner([b, a], req('/'))).toBe('b-route#0');
    const c = route('z', [svc('c')], {}, '2026-01-01T00:00:00Z');
    const d = route('y', [svc('d'), svc('e')], {}, '2026-01-01T00:00:00Z');
    expect(winner([c, d], req('/'))).toBe('y#0');
  });

  test('seed A/B route: x-kv-backend nvlink → p2p proxy, fs → fs proxy, neither → no match', () => {
    const ab = route('vllm-ab-test', [
      { matches: [{ headers: [{ name: 'x-kv-backend', value: 'nvlink' }] }], backendRefs: [{ name: 'vllm-p2p-proxy', port: 8080 }] },
      { matches: [{ headers: [{ name: 'x-kv-backend', value: 'fs' }] }], backendRefs: [{ name: 'vllm-fs-proxy', port: 8080 }] },
    ]);
    const table = compileRoutes([ab]);
    expect(matchRequest(table, req('/v1/completions', { 'x-kv-backend': 'nvlink' }, 'POST'))?.rule.backendRefs?.[0]?.name).toBe(
      'vllm-p2p-proxy',
    );
    expect(matchRequest(table, req('/v1/completions', { 'x-kv-backend': 'fs' }, 'POST'))?.rule.backendRefs?.[0]?.name).toBe(
      'vllm-fs-proxy',
    );
    expect(matchRequest(table, req('/v1/completions', {}, 'POST'))).toBeUndefined();
  });

  test('hostnames: exact beats wildcard beats none; a non-matching hostname never matches', () => {
    const routes = [
      route('none', [svc('a')]),
      route('wild', [svc('b')], { hostnames: ['*.example.com'] }),
      route('exact', [svc('c')], { hostnames: ['api.example.com'] }),
    ];
    expect(winner(routes, req('/', {}, 'GET', 'api.example.com'))).toBe('exact#0');
    expect(winner(routes, req('/', {}, 'GET', 'www.example.com'))).toBe('wild#0');
    expect(winner(routes, req('/', {}, 'GET', '127.0.0.1'))).toBe('none#0');
  });

  test('timeouts.request is compiled to milliseconds', () => {
    const m = compileRoutes([route('t', [{ ...svc('a'), timeouts: { request: '1m30s' } }])]);
    expect(m[0]!.timeoutMs).toBe(90_000);
  });
});

test.describe('weighted backendRefs', () => {
  test('70/30 split within tolerance over 5000 seeded picks; weight 0 never chosen', () => {
    const refs = [
      { name: 'a', weight: 70 },
      { name: 'b', weight: 30 },
      { name: 'c', weight: 0 },
    ];
    const rng = seededRng(2026);
    const n = 5000;
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < n; i++) counts[pickWeighted(refs, rng)!.name]!++;
    const sigma = Math.sqrt((0.7 * 0.3) / n);
    expect(Math.abs(counts.a! / n - 0.7)).toBeLessThan(Math.max(0.02, 4.5 * sigma));
    expect(counts.c).toBe(0);
    expect(pickWeighted([{ weight: 0 }], rng)).toBeUndefined();
    expect(pickWeighted([{}], rng)).toEqual({});
  });
});

function pod(name: string, ns: string, ip: string, labels: Record<string, string>, ready = true): KObject {
  return {
    apiVersion: 'v1',
    metadata: { name, namespace: ns, labels },
    spec: { containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

function seedSnapshot(): Snapshot {
  const s = emptySnapshot();
  s.gateways.push({
    apiVersion: 'gateway.networking.k8s.io/v1',
    metadata: { name: 'gw', namespace: 'app', generation: 2 },
    spec: { listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] },
  });
  s.pods.push(
    pod('vllm-p2p-proxy-1', 'llm-d-vllm', '127.0.0.9', { app: 'vllm-p2p-test', role: 'proxy' }),
    pod('vllm-fs-proxy-1', 'llm-d-vllm', '127.0.0.10', { app: 'vllm-fs-test', role: 'proxy' }, false),
    pod('epp-1', 'sched', '127.0.0.20', { app: 'epp' }),
  );
  s.services.push(
    {
      apiVersion: 'v1',
      metadata: { name: 'vllm-p2p-proxy', namespace: 'llm-d-vllm' },
      spec: { selector: { app: 'vllm-p2p-test', role: 'proxy' }, ports: [{ port: 8080, targetPort: 'http' }] },
    },
    {
      apiVersion: 'v1',
      metadata: { name: 'epp', namespace: 'sched' },
      spec: { selector: { app: 'epp' }, ports: [{ name: 'grpc', port: 9002, targetPort: 9002 }] },
    },
    // as the SchedulerInstall operator renders it: the EPP Service in the pool's namespace, no selector, its Endpoints on the EPP pod
    {
      apiVersion: 'v1',
      metadata: { name: 'epp-ext', namespace: 'llm-d-vllm' },
      spec: { type: 'ClusterIP', ports: [{ name: 'grpc', port: 9002, targetPort: 9002 }] },
    },
  );
  s.endpoints.push({
    apiVersion: 'v1',
    metadata: { name: 'epp-ext', namespace: 'llm-d-vllm' },
    subsets: [{ addresses: [{ ip: '127.0.0.20' }], ports: [{ name: 'grpc', port: 9002 }] }],
  });
  s.pools.push({
    apiVersion: 'inference.networking.k8s.io/v1',
    metadata: { name: 'pool', namespace: 'llm-d-vllm', generation: 1 },
    spec: {
      selector: { matchLabels: { role: 'proxy' } },
      targetPorts: [{ number: 8080 }],
      endpointPickerRef: { name: 'epp-ext', port: { number: 9002 }, failureMode: 'FailOpen' },
    },
  });
  return s;
}

test.describe('backend resolution and status', () => {
  test('Service backend: named targetPort to ready pods; pool: ready endpoints and the EPP through a selector-less Service', () => {
    const s = seedSnapshot();
    const r = route('r', [{ backendRefs: [{ name: 'vllm-p2p-proxy', namespace: 'llm-d-vllm', port: 8080 }] }]);
    expect(resolveBackend(s, r, r.spec.rules![0]!.backendRefs![0]!)).toEqual({ kind: 'service', targets: ['127.0.0.9:8080'] });
    const p = resolveBackend(s, r, { group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'pool', namespace: 'llm-d-vllm' });
    expect(p).toMatchObject({ kind: 'pool', endpoints: ['127.0.0.9:8080'], epp: ['127.0.0.20:9002'], failureMode: 'FailOpen' });
    expect(resolveBackend(s, r, { name: 'missing', port: 1 })).toMatchObject({ kind: 'error', reason: 'BackendNotFound' });
    expect(resolveBackend(s, r, { group: 'example.com', kind: 'Bucket', name: 'x' })).toMatchObject({
      kind: 'error',
      reason: 'InvalidKind',
    });
  });

  test('ReferenceGrant: allowed when the target namespace has none or a matching one, refused otherwise', () => {
    const s = seedSnapshot();
    const r = route('r', []);
    const ref = { name: 'vllm-p2p-proxy', namespace: 'llm-d-vllm', port: 8080 };
    s.referenceGrants.push({
      metadata: { name: 'g', namespace: 'llm-d-vllm' },
      spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'other' }], to: [{ group: '', kind: 'Service' }] },
    });
    expect(resolveBackend(s, r, ref)).toMatchObject({ kind: 'error', reason: 'RefNotPermitted' });
    s.referenceGrants[0]!.spec.from.push({ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'app' });
    expect(resolveBackend(s, r, ref)).toMatchObject({ kind: 'service' });
  });

  test('statuses: route Accepted/ResolvedRefs, pool parents, gateway Programmed with address; unchanged status compares equal', () => {
    const s = seedSnapshot();
    const good = route('good', [
      { backendRefs: [{ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'pool', namespace: 'llm-d-vllm' }] },
    ]);
    const bad = route('bad', [{ backendRefs: [{ name: 'nope', port: 1 }] }], { parentRefs: [{ name: 'no-such-gw' }] });
    s.routes.push(good, bad);
    expect(servedRoutes(s).map((r) => r.metadata.name)).toEqual(['good']);
    const now = '2026-01-01T00:00:00Z';
    const gs = routeStatus(s, good, now) as any;
    expect(gs.parents[0]).toMatchObject({
      parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'app', name: 'gw' },
      controllerName: 'pd-harness.dev/twin-gateway',
    });
    expect(gs.parents[0].conditions.map((c: any) => [c.type, c.status, c.reason])).toEqual([
      ['Accepted', 'True', 'Accepted'],
      ['ResolvedRefs', 'True', 'ResolvedRefs'],
    ]);
    const bs = routeStatus(s, bad, now) as any;
    expect(bs.parents[0].conditions.map((c: any) => [c.type, c.status, c.reason])).toEqual([
      ['Accepted', 'False', 'NoMatchingParent'],
      ['ResolvedRefs', 'False', 'BackendNotFound'],
    ]);
    const ps = poolStatus(s, s.pools[0]!, now) as any;
    expect(ps.parents).toHaveLength(1);
    expect(ps.parents[0].parentRef).toEqual({ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'app', name: 'gw' });
    expect(ps.parents[0].conditions.map((c: any) => [c.type, c.status])).toEqual([
      ['Accepted', 'True'],
      ['ResolvedRefs', 'True'],
    ]);
    const gws = gatewayStatus(s, s.gateways[0]!, '127.0.0.1', now) as any;
    expect(gws.addresses).toEqual([{ type: 'IPAddress', value: '127.0.0.1' }]);
    expect(gws.conditions.map((c: any) => [c.type, c.status])).toEqual([
      ['Accepted', 'True'],
      ['Programmed', 'True'],
    ]);
    expect(gws.listeners[0].attachedRoutes).toBe(1);
    // written once, the same status a minute later is up to date (transition times carried over)
    good.status = gs;
    expect(statusUpToDate(good.status, routeStatus(s, good, '2026-01-01T00:01:00Z'))).toBe(true);
    s.services = s.services.filter((x) => x.metadata.name !== 'epp-ext');
    const ps2 = poolStatus(s, s.pools[0]!, now) as any;
    expect(ps2.parents[0].conditions[1]).toMatchObject({ status: 'False', reason: 'InvalidExtensionRef' });
  });

  test('an ExternalName endpointPickerRef: ResolvedRefs False (InvalidExtensionRef, naming ExternalName) and no EPP to ask', () => {
    const s = seedSnapshot();
    s.routes.push(
      route('good', [
        { backendRefs: [{ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'pool', namespace: 'llm-d-vllm' }] },
      ]),
    );
    s.services = s.services.filter((x) => x.metadata.name !== 'epp-ext');
    s.services.push({
      apiVersion: 'v1',
      metadata: { name: 'epp-ext', namespace: 'llm-d-vllm' },
      spec: { type: 'ExternalName', externalName: 'epp.sched.svc.cluster.local' },
    });
    const ps = poolStatus(s, s.pools[0]!, '2026-01-01T00:00:00Z') as any;
    expect(ps.parents[0].conditions[1]).toMatchObject({ type: 'ResolvedRefs', status: 'False', reason: 'InvalidExtensionRef' });
    expect(ps.parents[0].conditions[1].message).toContain('ExternalName');
    const r = route('r', []);
    expect(
      resolveBackend(s, r, { group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'pool', namespace: 'llm-d-vllm' }),
    ).toMatchObject({ kind: 'pool', epp: [] });
  });
});
