import { expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseAllDocuments } from '#yaml';
import { FAULT_DEFINITIONS } from '../../chaos/faults/index.ts';
import { FAULT_NAMES, FAULT_SPECS } from '../../chaos/faults/schemas.ts';
import { evaluateOne } from '../../criteria/index.ts';
import { CRITERION_DEFINITIONS, CRITERION_NAMES, criterionDefinition } from '../../criteria/registry.ts';
import { FAILURE_CAUSES } from '../../criteria/verdict.ts';
import { suiteJsonSchema } from '../../suites/json-schema.ts';
import { loadSuite, validateSuiteFile } from '../../suites/loader.ts';
import { SuiteSchema } from '../../suites/schema.ts';

type Json = Record<string, unknown>;

/** The one-key item schemas of an array property of spec in the JSON Schema: item key -> its schema. */
function itemProperties(prop: 'criteria' | 'faults'): Record<string, Json> {
  const schema = suiteJsonSchema() as Json;
  const spec = (schema.properties as Json).spec as Json;
  const items = ((spec.properties as Json)[prop] as Json).items as Json;
  return items.properties as Record<string, Json>;
}

test('every registered criterion has a name, a one-line description, a schema, an evaluator and a failure cause', () => {
  expect(CRITERION_DEFINITIONS.length).toBeGreaterThan(0);
  expect(new Set(CRITERION_NAMES).size).toBe(CRITERION_NAMES.length);
  for (const def of CRITERION_DEFINITIONS) {
    expect(def.name, 'a suite key').toMatch(/^[a-z][A-Za-z]+$/);
    expect(def.description.trim().length, `${def.name} description`).toBeGreaterThan(10);
    expect(def.description, `${def.name} description is one line`).not.toContain('\n');
    expect(typeof def.schema.safeParse, `${def.name} schema`).toBe('function');
    expect(typeof def.evaluate, `${def.name} evaluator`).toBe('function');
    expect(FAILURE_CAUSES, `${def.name} failure cause`).toContain(def.failureCause);
    expect(criterionDefinition(def.name)).toBe(def);
  }
});

test('the suite schema and the JSON Schema list exactly the registered criteria, with their descriptions', () => {
  const props = itemProperties('criteria');
  expect(Object.keys(props)).toEqual([...CRITERION_NAMES]);
  for (const def of CRITERION_DEFINITIONS) expect(props[def.name]!.description, def.name).toBe(def.description);
  // the zod suite schema takes each one (and names the known ones when an item has none of them)
  const bad = SuiteSchema.safeParse(suiteWith([{ noSuch: {} }]));
  expect(bad.success).toBe(false);
  expect(JSON.stringify(bad.error?.issues)).toContain('noSuch');
});

test('every fault has a spec (name, description, schema) and an injector; the JSON Schema lists them', () => {
  expect(Object.keys(FAULT_DEFINITIONS)).toEqual([...FAULT_NAMES]);
  const props = itemProperties('faults');
  expect(Object.keys(props)).toEqual([...FAULT_NAMES]);
  for (const spec of FAULT_SPECS) {
    const def = FAULT_DEFINITIONS[spec.name];
    expect(def.name).toBe(spec.name);
    expect(def.schema, `${spec.name}: the registry's schema is the spec's, not a copy`).toBe(spec.schema);
    expect(typeof def.inject, `${spec.name} injector`).toBe('function');
    expect(spec.description, `${spec.name} description is one line`).not.toContain('\n');
    expect(props[spec.name]!.description, spec.name).toBe(spec.description);
  }
});

function suiteWith(criteria: unknown[]): Json {
  return {
    apiVersion: 'pd-harness.dev/v1',
    kind: 'Suite',
    metadata: { name: 'one-schema' },
    spec: { target: { namespaces: ['llm-d-vllm'] }, load: { requests: 1, variants: [{ name: 'a' }] }, criteria },
  };
}

test('where the two old copies disagreed there is one answer: the suite loader and the evaluator agree', () => {
  const obs = { httpRoutes: [], inferencePools: [] };
  const cases: { item: Json; accepted: boolean; why: string }[] = [
    { item: { kvTransfer: { backend: 'nvlink', minHitRate: 0.5 } }, accepted: false, why: 'kvTransfer.backend is p2p or fs' },
    { item: { kvTransfer: { backend: 'p2p', minHitRate: 0.5 } }, accepted: true, why: 'p2p is a connector' },
    { item: { proxiesChosen: { workloads: ['a', 'b'] } }, accepted: false, why: 'proxiesChosen.minShare is required' },
    { item: { proxiesChosen: { workloads: ['a', 'b'], minShare: 0 } }, accepted: true, why: 'minShare 0 is written out' },
    { item: { recovery: { within: 60_000, maxErrorRate: 0.1 } }, accepted: false, why: 'recovery.within is a duration as text' },
    { item: { recovery: { within: '60s', maxErrorRate: 0.1 } }, accepted: true, why: 'a duration' },
    { item: { responses: { status: 200, atLeast: 1, all: false } }, accepted: false, why: 'all is true or absent' },
    { item: { expectRejection: { status: 200 } }, accepted: false, why: 'a rejection is 4xx/5xx' },
    { item: { eppProfile: { has: ['x'], typo: [] } }, accepted: false, why: 'settings are strict objects' },
    { item: { routeBackend: { kind: 'Service', route: 'Not_A_Name' } }, accepted: false, why: 'a route is a DNS label' },
    { item: { variantRouting: {} }, accepted: false, why: 'variantRouting names at least one variant' },
    { item: { variantRouting: { a: 'vllm-p2p-proxy' } }, accepted: true, why: 'one variant' },
    { item: { noSchedulingFailures: null }, accepted: true, why: 'no settings' },
  ];
  for (const c of cases) {
    const suite = SuiteSchema.safeParse(suiteWith([c.item]));
    const verdict = evaluateOne(c.item, obs);
    const evaluatorAccepted = verdict.cause !== 'invalid-criterion';
    expect([suite.success, evaluatorAccepted], `${JSON.stringify(c.item)}: ${c.why}`).toEqual([c.accepted, c.accepted]);
  }
});

/** Every *.suite.yaml in the repository (suites/ and the test fixtures), except generated and vendored trees. */
function suiteFiles(dir = '.', out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (['node_modules', 'dist', '.git', 'test-results', '.pd-harness'].includes(e.name)) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) suiteFiles(p, out);
    else if (e.name.endsWith('.suite.yaml')) out.push(p);
  }
  return out;
}

test("every suite file's criteria and faults parse with their registered schema to what the suite loader gives", () => {
  const files = suiteFiles();
  expect(files.length).toBeGreaterThan(10);
  let items = 0;
  for (const file of files) {
    if (!validateSuiteFile(file).ok) continue; // the fixtures of bad suites
    const suite = loadSuite(file).suite as unknown as { spec: { criteria: Json[]; faults: Json[] } };
    const raw = parseAllDocuments(fs.readFileSync(file, 'utf8'))[0]!.toJS() as { spec: { criteria?: Json[]; faults?: Json[] } };
    (raw.spec.criteria ?? []).forEach((item, i) => {
      const [name, settings] = Object.entries(item)[0]!;
      expect(criterionDefinition(name)!.schema.parse(settings), `${file} criteria[${i}] ${name}`).toEqual(suite.spec.criteria[i]![name]);
      items++;
    });
    (raw.spec.faults ?? []).forEach((item, i) => {
      const [name, settings] = Object.entries(item)[0]!;
      const spec = FAULT_SPECS.find((s) => s.name === name)!;
      expect(spec.schema.parse(settings), `${file} faults[${i}] ${name}`).toEqual(suite.spec.faults[i]![name]);
      items++;
    });
  }
  expect(items).toBeGreaterThan(20);
});
