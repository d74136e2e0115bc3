import { expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import { parse } from '#yaml';
import { suiteJsonSchema, suiteJsonSchemaText } from '../../suites/json-schema.ts';
import { kindOf, SuiteSchema, type Criterion, type CriterionKind, type Fault } from '../../suites/schema.ts';
import { labelSelectorProblem, matchLabels as matchesLabels, parseLabelSelector } from '../../k8s-rules/labels.ts';

const EXAMPLES = [
  'suites/proxy-performance.suite.yaml',
  'suites/proxy-performance-by-backend.suite.yaml',
  'suites/ab-static-routing.suite.yaml',
];

type Json = Record<string, unknown>;

/** Every sub-schema of a JSON Schema document, with its JSON pointer. */
function walk(node: unknown, at = '#', out: [string, Json][] = []): [string, Json][] {
  if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${at}/${i}`, out));
  else if (node && typeof node === 'object') {
    out.push([at, node as Json]);
    for (const [k, v] of Object.entries(node)) walk(v, `${at}/${k}`, out);
  }
  return out;
}

const DRAFT7_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);

test('the committed suites/suite.schema.json is what `pd-harness schema` generates', () => {
  expect(
    fs.readFileSync('suites/suite.schema.json', 'utf8'),
    'regenerate with: node bin/pd-harness.js schema --out suites/suite.schema.json',
  ).toBe(suiteJsonSchemaText());
});

test('the JSON Schema is draft-07 that holds together: refs resolve, patterns compile, types are draft-07 types', () => {
  const schema = JSON.parse(suiteJsonSchemaText()) as Json;
  expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
  expect(schema.type).toBe('object');
  expect(schema.required).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
  expect(schema.additionalProperties).toBe(false);
  expect(Object.keys(schema.definitions as Json)).toEqual(['JsonValue']);
  const nodes = walk(schema);
  for (const [at, node] of nodes) {
    if (typeof node.$ref === 'string') {
      const target = node.$ref.replace(/^#\/definitions\//, '');
      expect(Object.hasOwn(schema.definitions as Json, target), `${at}: $ref ${node.$ref}`).toBe(true);
    }
    if (typeof node.pattern === 'string' && !at.includes('/properties/pattern'))
      expect(() => new RegExp(node.pattern as string, 'u'), at).not.toThrow();
    if (typeof node.type === 'string' && !at.endsWith('/properties')) expect(DRAFT7_TYPES.has(node.type), `${at}: ${node.type}`).toBe(true);
    expect(Object.hasOwn(node, '$defs'), `${at} uses $defs (2020-12)`).toBe(false);
  }
});

test('the JSON Schema describes the suite for editors: descriptions, enums, one-key items', () => {
  const schema = suiteJsonSchema() as Json;
  const spec = ((schema.properties as Json).spec as Json).properties as Json;
  const load = (spec.load as Json).properties as Json;
  expect((load.engine as Json).enum).toEqual(['builtin', 'k6', 'k6-operator']);
  expect((load.engine as Json).default).toBe('builtin');
  expect((load.timeout as Json).default).toBe('35s');
  expect((load.timeout as Json).type).toBe('string');
  expect(String((load.concurrency as Json).description)).toContain('Closed model');
  const faultItem = (spec.faults as Json).items as Json;
  expect(faultItem.minProperties).toBe(1);
  expect(faultItem.maxProperties).toBe(1);
  expect(Object.keys(faultItem.properties as Json)).toEqual(['podKill', 'eppRestart', 'decodeIndexError', 'latency', 'errorRate']);
  const undescribed = walk(schema).filter(
    ([at, n]) => /\/properties\/[^/]+$/.test(at) && !at.includes('/definitions/') && n.description === undefined && !('$ref' in n),
  );
  // Most fields carry a description; the few plain ones (method, status, ...) are self-explanatory.
  expect(undescribed.length).toBeLessThan(walk(schema).filter(([at]) => /\/properties\/[^/]+$/.test(at)).length / 2);
});

test('the example suites are accepted by the zod schema and carry the language-server comment', () => {
  for (const file of EXAMPLES) {
    const text = fs.readFileSync(file, 'utf8');
    expect(text.startsWith('# yaml-language-server: $schema=./suite.schema.json\n'), file).toBe(true);
    const parsed = SuiteSchema.safeParse(parse(text));
    expect(parsed.error?.issues ?? [], file).toEqual([]);
  }
});

test('the seed validation suite says what the seed does', () => {
  const suite = SuiteSchema.parse(parse(fs.readFileSync(EXAMPLES[0]!, 'utf8')));
  expect(suite.metadata).toMatchObject({ name: 'proxy-performance', tags: ['conformance'] });
  expect(suite.spec.setup[0]).toEqual({
    patch: {
      ref: 'schedulerinstall/llm-sched-install',
      namespace: 'llm-d-inference-scheduler',
      merge: { spec: { epp: { configProfile: 'proxy-performance' } } },
    },
  });
  expect(suite.spec.load).toMatchObject({ engine: 'builtin', requests: 60, concurrency: 12, timeout: 35_000, stream: false });
  expect(suite.spec.load?.request.body).toEqual({
    model: 'Qwen/Qwen3-Coder-30B-A3B-Instruct',
    messages: [{ role: 'user', content: 'hello-{{i}}' }],
    max_tokens: 8,
    stream: false,
  });
  const criteria: Criterion[] = suite.spec.criteria;
  expect(criteria.map((c) => kindOf(c))).toEqual(['routeBackend', 'eppProfile', 'responses', 'proxiesChosen', 'noSchedulingFailures']);
  expect(criteria[1]).toEqual({ eppProfile: { has: ['active-request-scorer', 'max-score-picker'], lacks: ['by-label-selector'] } });
  expect(criteria[3]).toEqual({ proxiesChosen: { workloads: ['vllm-p2p-proxy', 'vllm-fs-proxy'], minShare: 0.2 } });

  const negative = SuiteSchema.parse(parse(fs.readFileSync(EXAMPLES[1]!, 'utf8')));
  expect(negative.spec.criteria).toContainEqual({ expectRejection: { status: 429, reason: 'InferencePoolResourceExhausted' } });
  const ab = SuiteSchema.parse(parse(fs.readFileSync(EXAMPLES[2]!, 'utf8')));
  expect(ab.spec.load?.variants?.map((v) => v.headers)).toEqual([{ 'x-kv-backend': 'nvlink' }, { 'x-kv-backend': 'fs' }]);
  expect(ab.spec.deploy).toContain('../manifests/gateway-routing/httproute-ab.yaml');
});

test('faults, repro and recovery parse to typed values with durations in ms', () => {
  const suite = SuiteSchema.parse({
    apiVersion: 'pd-harness.dev/v1',
    kind: 'Suite',
    metadata: { name: 'chaos-decode', tags: ['chaos'] },
    spec: {
      target: { namespaces: ['llm-d-vllm', 'llm-d-inference-scheduler'], selectors: ['role in (prefill,decode)', 'role=proxy'] },
      steadyState: [{ podsReady: { namespace: 'llm-d-vllm' } }, { probe: { status: 200 } }],
      load: { rate: 20, duration: '2m', maxInFlight: 50, thresholds: { http_req_failed: ['rate<0.05'] } },
      faults: [
        { podKill: { namespace: 'llm-d-vllm', selector: 'role=decode', mode: { fixedPercent: 50 }, at: '30s' } },
        { decodeIndexError: { selector: 'role=decode', trigger: { probability: 0.01, seed: 7 }, afterRequests: 100 } },
        { latency: { selector: 'role=prefill', add: '250ms', duration: '10s' } },
        { errorRate: { selector: 'role=proxy', status: 503, rate: 0.1 } },
      ],
      recovery: { within: '60s', maxErrorRate: 0.05 },
      repro: {
        connectors: ['p2p', 'fs'],
        concurrency: [4, 32],
        promptTokens: [128, 2000],
        clientTimeout: ['5s', '35s'],
        requestsPerCell: 50,
      },
    },
  });
  const faults: Fault[] = suite.spec.faults;
  expect(faults[0]).toEqual({ podKill: { namespace: 'llm-d-vllm', selector: 'role=decode', mode: { fixedPercent: 50 }, at: 30_000 } });
  expect(faults[1]).toEqual({
    decodeIndexError: { namespace: 'llm-d-vllm', selector: 'role=decode', trigger: { probability: 0.01, seed: 7 }, afterRequests: 100 },
  });
  expect(faults[2]).toEqual({ latency: { namespace: 'llm-d-vllm', selector: 'role=prefill', add: 250, duration: 10_000 } });
  expect(suite.spec.steadyState[1]).toEqual({ probe: { status: 200, timeout: 35_000 } });
  expect(suite.spec.load).toMatchObject({ rate: 20, duration: 120_000, maxInFlight: 50, timeout: 35_000 });
  expect(suite.spec.recovery).toEqual({ within: 60_000, maxErrorRate: 0.05 });
  expect(suite.spec.repro).toEqual({
    connectors: ['p2p', 'fs'],
    concurrency: [4, 32],
    promptTokens: [128, 2000],
    clientTimeout: [5_000, 35_000],
    requestsPerCell: 50,
    seed: 1,
  });
});

test('the load bounds hold: requests, concurrency, duration, and the repro matrix size', () => {
  const base = { apiVersion: 'pd-harness.dev/v1', kind: 'Suite', metadata: { name: 'b' } };
  const withSpec = (spec: object) => SuiteSchema.safeParse({ ...base, spec: { target: { namespaces: ['a'] }, ...spec } }).success;
  expect(withSpec({ load: { requests: 1_000_000, concurrency: 1000 } })).toBe(true);
  expect(withSpec({ load: { requests: 1_000_001 } })).toBe(false);
  expect(withSpec({ load: { requests: 10, concurrency: 1001 } })).toBe(false);
  expect(withSpec({ load: { rate: 5, duration: '1h' } })).toBe(true);
  expect(withSpec({ load: { rate: 5, duration: '1h1s' } })).toBe(false);
  expect(
    withSpec({ repro: { connectors: ['p2p'], concurrency: [1], promptTokens: [1], clientTimeout: ['1s'], requestsPerCell: 100_000 } }),
  ).toBe(true);
  expect(
    withSpec({
      repro: {
        connectors: ['p2p', 'fs'],
        concurrency: [1, 2, 3, 4, 5, 6],
        promptTokens: [1],
        clientTimeout: ['1s'],
        requestsPerCell: 100_000,
      },
    }),
  ).toBe(false);
  expect(withSpec({ faults: [{ eppRestart: {} }] })).toBe(false); // faults need a load
});

test('label selectors: parsing, matching and errors', () => {
  expect(parseLabelSelector('app=vllm-p2p-test,role!=proxy')).toEqual([
    { key: 'app', op: 'eq', value: 'vllm-p2p-test' },
    { key: 'role', op: 'neq', value: 'proxy' },
  ]);
  const req = parseLabelSelector('role in (prefill, decode), !llm-d.ai/kv-backend, case');
  expect(matchesLabels(req, { role: 'decode', case: 'p2p-same' })).toBe(true);
  expect(matchesLabels(req, { role: 'proxy', case: 'p2p-same' })).toBe(false);
  expect(matchesLabels(req, { role: 'decode', case: 'x', 'llm-d.ai/kv-backend': 'nvlink' })).toBe(false);
  expect(matchesLabels(req, { role: 'decode' })).toBe(false);
  expect(matchesLabels(parseLabelSelector(''), { any: 'thing' })).toBe(true);
  expect(labelSelectorProblem('role=decode')).toBeUndefined();
  expect(labelSelectorProblem('role=de code')).toBe(
    "unable to parse requirement: found 'role=de code', expected: in, notin, =, ==, !=, gt, lt",
  );
  expect(labelSelectorProblem('role=dec/ode')).toBe('unable to parse requirement: invalid label value: "dec/ode" in "role=dec/ode"');
  expect(labelSelectorProblem('-bad')).toBe('unable to parse requirement: invalid label key "-bad" in "-bad"');
  expect(labelSelectorProblem('a,,b')).toBe("unable to parse requirement: found '', expected: identifier");
});

test('criterion and fault kinds are typed: kindOf names the one key', () => {
  const kind: CriterionKind = 'routeBackend';
  // @ts-expect-error not a criterion
  const notKind: CriterionKind = 'routeBackends';
  expect([kind, notKind]).toHaveLength(2);
  const fault: Fault = { eppRestart: { how: 'kill', namespace: 'llm-d-inference-scheduler', ref: 'deploy/gaie-inference-scheduling-epp' } };
  expect(kindOf(fault)).toBe('eppRestart');
});
