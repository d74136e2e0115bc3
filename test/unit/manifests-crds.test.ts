import { expect, test } from '@playwright/test';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from '#yaml';

type Obj = Record<string, any>;
interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  required?: string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minItems?: number;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
}

const MANIFESTS = path.resolve('manifests');

function loadDir(dir: string): Obj[] {
  return readdirSync(path.join(MANIFESTS, dir))
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => parseAllDocuments(readFileSync(path.join(MANIFESTS, dir, f), 'utf8')).map((d) => d.toJS() as Obj));
}

/** Structural schema rules of apiextensions.k8s.io/v1: every node has a type (or preserves unknown fields). */
function structuralProblems(s: Schema, at: string, top = true): string[] {
  const out: string[] = [];
  if (!s.type && !s['x-kubernetes-preserve-unknown-fields'] && !s['x-kubernetes-int-or-string']) out.push(`${at}: no type`);
  if (top && s.type !== 'object') out.push(`${at}: root must be an object`);
  if (s.type === 'array' && !s.items) out.push(`${at}: array without items`);
  for (const [k, v] of Object.entries(s.properties ?? {})) {
    // metadata may only restrict name/generateName, so the CRDs leave it as a bare object.
    out.push(...structuralProblems(v, `${at}.${k}`, false));
  }
  if (s.items) out.push(...structuralProblems(s.items, `${at}[]`, false));
  if (typeof s.additionalProperties === 'object') out.push(...structuralProblems(s.additionalProperties, `${at}{}`, false));
  return out;
}

/** What an API server checks against a CRD schema (the subset used here): types, required, enum, bounds, unknown fields. */
function validate(value: unknown, s: Schema, at: string): string[] {
  const out: string[] = [];
  const typeOf = Array.isArray(value) ? 'array' : Number.isInteger(value) ? 'integer' : typeof value;
  if (s.type && !(s.type === typeOf || (s.type === 'number' && typeOf === 'integer'))) return [`${at}: ${typeOf}, want ${s.type}`];
  if (s.enum && !s.enum.includes(value)) out.push(`${at}: ${String(value)} not in ${s.enum.join('|')}`);
  if (typeof value === 'number' && s.minimum !== undefined && value < s.minimum) out.push(`${at}: below ${s.minimum}`);
  if (typeof value === 'number' && s.maximum !== undefined && value > s.maximum) out.push(`${at}: above ${s.maximum}`);
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < s.minItems) out.push(`${at}: fewer than ${s.minItems} items`);
    value.forEach((v, i) => s.items && out.push(...validate(v, s.items, `${at}[${i}]`)));
  } else if (value && typeof value === 'object') {
    const o = value as Obj;
    for (const r of s.required ?? []) if (!(r in o)) out.push(`${at}.${r}: required`);
    for (const [k, v] of Object.entries(o)) {
      const sub = s.properties?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
      if (sub) out.push(...validate(v, sub, `${at}.${k}`));
      else if (!s['x-kubernetes-preserve-unknown-fields'] && s.properties && at !== '.metadata') out.push(`${at}.${k}: unknown field`);
    }
  }
  return out;
}

const crds = loadDir('crds');

function schemaFor(apiVersion: string, kind: string): Schema | undefined {
  const [group, version] = apiVersion.split('/');
  const crd = crds.find((c) => c.spec.group === group && c.spec.names.kind === kind);
  return crd?.spec.versions.find((v: Obj) => v.name === version)?.schema.openAPIV3Schema as Schema | undefined;
}

test('CRDs: the expected kinds, versions and scopes, each with one storage version and a status subresource', () => {
  const summary = crds.map((c) => {
    expect(c.apiVersion).toBe('apiextensions.k8s.io/v1');
    expect(c.kind).toBe('CustomResourceDefinition');
    expect(c.metadata.name).toBe(`${c.spec.names.plural}.${c.spec.group}`);
    expect(c.spec.versions.filter((v: Obj) => v.storage)).toHaveLength(1);
    return `${c.spec.group}/${c.spec.versions.map((v: Obj) => v.name).join(',')}/${c.spec.names.kind}/${c.spec.scope}`;
  });
  expect(summary.sort()).toEqual([
    'gateway.networking.k8s.io/v1/Gateway/Namespaced',
    'gateway.networking.k8s.io/v1/GatewayClass/Cluster',
    'gateway.networking.k8s.io/v1/HTTPRoute/Namespaced',
    'gateway.networking.k8s.io/v1beta1/ReferenceGrant/Namespaced',
    'inference.networking.k8s.io/v1/InferencePool/Namespaced',
    'k6.io/v1alpha1/TestRun/Namespaced',
    'sim.llm-d.io/v1alpha1/SchedulerInstall/Namespaced',
  ]);
  for (const kind of ['SchedulerInstall', 'InferencePool', 'Gateway', 'HTTPRoute', 'TestRun']) {
    const crd = crds.find((c) => c.spec.names.kind === kind)!;
    expect(crd.spec.versions[0].subresources, kind).toEqual({ status: {} });
  }
});

test('CRD schemas are structural', () => {
  for (const c of crds) {
    for (const v of c.spec.versions) {
      expect(structuralProblems(v.schema.openAPIV3Schema, `${c.spec.names.kind}/${v.name}`), c.metadata.name).toEqual([]);
    }
  }
});

test('SchedulerInstall schema: configProfile is an enum of the three seed profiles, default "default"', () => {
  const s = schemaFor('sim.llm-d.io/v1alpha1', 'SchedulerInstall')!;
  const profile = s.properties!.spec!.properties!.epp!.properties!.configProfile as Schema & { default?: string };
  expect(profile.enum).toEqual(['default', 'proxy-performance', 'proxy-performance-by-backend']);
  expect(profile.default).toBe('default');
  const bad = {
    apiVersion: 'sim.llm-d.io/v1alpha1',
    kind: 'SchedulerInstall',
    metadata: { name: 'x' },
    spec: { epp: { configProfile: 'fastest' }, extra: 1 },
  };
  expect(validate(bad, s, '')).toEqual([
    '.spec.epp.configProfile: fastest not in default|proxy-performance|proxy-performance-by-backend',
    '.spec.extra: unknown field',
  ]);
});

test('every custom object in manifests/ validates against its CRD', () => {
  const objs = ['vllm', 'gateway-routing']
    .flatMap(loadDir)
    .filter((o) => schemaFor(o.apiVersion, o.kind) || !o.apiVersion.match(/^(v1|apps\/v1)$/));
  expect(objs.map((o) => o.kind).sort()).toEqual(['HTTPRoute', 'InferencePool', 'ReferenceGrant', 'SchedulerInstall', 'SchedulerInstall']);
  for (const o of objs) {
    const s = schemaFor(o.apiVersion, o.kind);
    expect(s, `${o.apiVersion} ${o.kind} has a CRD`).toBeDefined();
    expect(validate(o, s!, ''), `${o.kind}/${o.metadata.name}`).toEqual([]);
  }
});
