import { test, expect } from '@playwright/test';
import { DurationError, parseGoDuration, tryParseGoDuration } from '../../k8s-rules/duration.ts';
import {
  compileRoutes,
  matchRequest,
  requestFacts,
  routesCarrying,
  type HTTPRouteLike,
  type HTTPRouteRule,
} from '../../k8s-rules/httproute.ts';
import { fromLabelSelectorObject, LabelSelectorError, matchLabels, parseLabelSelector, selectorToString } from '../../k8s-rules/labels.ts';
import { seededRandom, seedFromText } from '../../k8s-rules/prng.ts';

/** The one copy of each Kubernetes rule that the twin and the harness share (k8s-rules/). */

const route = (name: string, rules: HTTPRouteRule[], created = '2026-01-01T00:00:00Z'): HTTPRouteLike => ({
  metadata: { name, namespace: 'ns', creationTimestamp: created },
  spec: { rules },
});
const get = (path: string, headers: Record<string, string> = {}) => requestFacts({ method: 'GET', path, headers });
const winner = (routes: HTTPRouteLike[], path: string, headers?: Record<string, string>) =>
  matchRequest(compileRoutes(routes), get(path, headers))?.route.metadata.name;

test.describe('HTTPRoute matching (gateway-api apis/v1/httproute_types.go v1.2.0)', () => {
  test('PathPrefix is element-wise and ignores a trailing slash: /abc matches /abc, /abc/, /abc/def, not /abcd', () => {
    for (const prefix of ['/abc', '/abc/']) {
      const r = [route('r', [{ matches: [{ path: { type: 'PathPrefix', value: prefix } }] }])];
      expect([winner(r, '/abc'), winner(r, '/abc/'), winner(r, '/abc/def'), winner(r, '/abcd')]).toEqual(['r', 'r', 'r', undefined]);
    }
  });

  test('the two old copies disagreed: PathPrefix /v1/ carries /v1 (the runner said no)', () => {
    const r = [route('v1', [{ matches: [{ path: { type: 'PathPrefix', value: '/v1/' } }] }])];
    expect(routesCarrying(r, [{ method: 'POST', path: '/v1', headers: {} }]).map((x) => x.metadata.name)).toEqual(['v1']);
  });

  test('the two old copies disagreed: a regex alternation is anchored as a whole (/foo|/bar does not match /foo/x)', () => {
    const r = [route('re', [{ matches: [{ path: { type: 'RegularExpression', value: '/foo|/bar' } }] }])];
    expect([winner(r, '/foo'), winner(r, '/bar'), winner(r, '/foo/x'), winner(r, '/x/bar')]).toEqual(['re', 're', undefined, undefined]);
  });

  test('precedence: Exact before PathPrefix, longer prefix first, more header matches first, older route first', () => {
    const routes = [
      route('prefix', [{ matches: [{ path: { type: 'PathPrefix', value: '/v1' } }] }]),
      route('longer', [{ matches: [{ path: { type: 'PathPrefix', value: '/v1/chat' } }] }]),
      route('exact', [{ matches: [{ path: { type: 'Exact', value: '/v1/chat/completions' } }] }]),
      route('header', [{ matches: [{ path: { type: 'PathPrefix', value: '/v1' }, headers: [{ name: 'X-KV-Backend', value: 'fs' }] }] }]),
      route('older-twin', [{ matches: [{ path: { type: 'PathPrefix', value: '/v1' } }] }], '2025-01-01T00:00:00Z'),
    ];
    expect(winner(routes, '/v1/chat/completions')).toBe('exact');
    expect(winner(routes, '/v1/chat/x')).toBe('longer');
    expect(winner(routes, '/v1/models', { 'x-kv-backend': 'fs' })).toBe('header');
    expect(winner(routes, '/v1/models')).toBe('older-twin');
  });

  test('header names match case-insensitively, values exactly; a rule without matches matches everything', () => {
    const ab = route('ab', [{ matches: [{ headers: [{ name: 'x-kv-backend', value: 'nvlink' }] }] }]);
    const all = route('all', [{}], '2027-01-01T00:00:00Z');
    expect(winner([ab], '/v1/completions', { 'X-KV-Backend': 'nvlink' })).toBe('ab');
    expect(winner([ab], '/v1/completions', { 'X-KV-Backend': 'NVLINK' })).toBeUndefined();
    expect(routesCarrying([ab, all], [{ method: 'POST', path: '/v1/completions', headers: {} }]).map((r) => r.metadata.name)).toEqual([
      'all',
    ]);
  });
});

test.describe("durations: Go's time.ParseDuration (golang/go src/time/format.go)", () => {
  test('accepts what Go accepts', () => {
    expect(parseGoDuration('2m')).toBe(120_000);
    expect(parseGoDuration('1h30m')).toBe(5_400_000);
    expect(parseGoDuration('1.5s')).toBe(1500);
    expect(parseGoDuration('.5s')).toBe(500);
    expect(parseGoDuration('1s1s')).toBe(2000); // repeated units are fine in Go
    expect(parseGoDuration('300us')).toBeCloseTo(0.3);
    expect(parseGoDuration('300µs')).toBeCloseTo(0.3);
    expect(parseGoDuration('-1m')).toBe(-60_000);
    expect(parseGoDuration('0')).toBe(0);
  });

  test("refuses what Go refuses, with Go's message", () => {
    const msg = (s: string) => {
      try {
        parseGoDuration(s);
        return 'accepted';
      } catch (err) {
        expect(err).toBeInstanceOf(DurationError);
        return (err as Error).message;
      }
    };
    expect(msg('')).toBe('time: invalid duration ""');
    expect(msg('10')).toBe('time: missing unit in duration "10"');
    expect(msg('2 m')).toBe('time: unknown unit " m" in duration "2 m"');
    expect(msg('5x')).toBe('time: unknown unit "x" in duration "5x"');
    expect(msg('.s')).toBe('time: invalid duration ".s"');
    expect(msg('m')).toBe('time: invalid duration "m"');
    expect(tryParseGoDuration('two minutes')).toBeUndefined();
  });
});

test.describe('label selectors (apimachinery pkg/labels/selector.go)', () => {
  test('parses every operator and matches like the real Matches', () => {
    const sel = parseLabelSelector('app=vllm-p2p-test,role!=proxy,tier in (a, b),env notin (x),gpu,!spot,n>3');
    expect(selectorToString(sel)).toBe('app=vllm-p2p-test,role!=proxy,tier in (a,b),env notin (x),gpu,!spot,n>3');
    const labels = { app: 'vllm-p2p-test', role: 'decode', tier: 'a', gpu: '', n: '4' };
    expect(matchLabels(sel, labels)).toBe(true);
    expect(matchLabels(sel, { ...labels, spot: 'yes' })).toBe(false);
    expect(matchLabels(sel, { ...labels, n: 'four' })).toBe(false);
    expect(matchLabels(parseLabelSelector(''), {})).toBe(true);
  });

  test('bad keys and values are refused with the parser message', () => {
    expect(() => parseLabelSelector('-bad=x')).toThrow(LabelSelectorError);
    expect(() => parseLabelSelector('app=has space')).toThrow(/unable to parse requirement/);
    expect(() => parseLabelSelector('a=b,,c=d')).toThrow(LabelSelectorError);
    expect(() => parseLabelSelector('n>x')).toThrow(/must be an integer/);
  });

  test('structured selectors: matchLabels and matchExpressions; an unknown operator is an error', () => {
    const sel = fromLabelSelectorObject({
      matchLabels: { role: 'proxy' },
      matchExpressions: [{ key: 'app', operator: 'In', values: ['vllm-p2p-test', 'vllm-fs-test'] }],
    });
    expect(matchLabels(sel, { role: 'proxy', app: 'vllm-fs-test' })).toBe(true);
    expect(matchLabels(sel, { role: 'proxy', app: 'other' })).toBe(false);
    expect(() => fromLabelSelectorObject({ matchExpressions: [{ key: 'a', operator: 'Equals', values: [] }] })).toThrow(LabelSelectorError);
  });
});

test('the PRNG replays from a seed and the text seed is stable', () => {
  const a = seededRandom(seedFromText('proxy-performance#0'));
  const b = seededRandom(seedFromText('proxy-performance#0'));
  const xs = Array.from({ length: 5 }, () => a());
  expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
  expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  expect(seedFromText('a')).not.toBe(seedFromText('b'));
});
