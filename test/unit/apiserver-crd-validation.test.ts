import { expect, test } from '@playwright/test';
import { Api } from '../../twin/apiserver/api.ts';
import { validateCelRules } from '../../twin/apiserver/crd-cel.ts';
import { seed } from '../../twin/apiserver/seed.ts';
import { ApiError } from '../../twin/apiserver/status.ts';

// The InferencePool v1 CRD (manifests/crds, GAIE v1.2.0 rules) as the twin serves it from the start.
function api(): Api {
  const a = new Api();
  seed(a, []);
  return a;
}

const pool = (spec: Record<string, unknown>) => ({
  apiVersion: 'inference.networking.k8s.io/v1',
  kind: 'InferencePool',
  metadata: { name: 'pool' },
  spec,
});
const good = () => ({
  selector: { matchLabels: { app: 'vllm' } },
  targetPorts: [{ number: 8000 }],
  endpointPickerRef: { name: 'epp', port: { number: 9002 } },
});

function createError(a: Api, body: unknown): ApiError {
  const t = a.type('inference.networking.k8s.io', 'inferencepools');
  try {
    a.create(t, 'default', body);
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('create succeeded');
}

test('a valid InferencePool is defaulted from the CRD schema (kind Service, group "", failureMode FailClose)', () => {
  const a = api();
  const created = a.create(a.type('inference.networking.k8s.io', 'inferencepools'), 'default', pool(good()));
  expect(created.spec.endpointPickerRef).toEqual({
    name: 'epp',
    port: { number: 9002 },
    kind: 'Service',
    group: '',
    failureMode: 'FailClose',
  });
});

test('CEL: a Service picker without a port is refused with the rule message, as the v1.32 apiserver words it', () => {
  const e = createError(api(), pool({ ...good(), endpointPickerRef: { name: 'epp' } }));
  expect(e.code).toBe(422);
  expect(e.reason).toBe('Invalid');
  expect(e.message).toBe(
    `InferencePool.inference.networking.k8s.io "pool" is invalid: spec.endpointPickerRef: Invalid value: "object": port is required when kind is 'Service' or unspecified (defaults to 'Service')`,
  );
  expect(e.details?.causes).toEqual([
    {
      reason: 'FieldValueInvalid',
      field: 'spec.endpointPickerRef',
      message: `Invalid value: "object": port is required when kind is 'Service' or unspecified (defaults to 'Service')`,
    },
  ]);
});

test('CEL: a non-Service picker may omit the port', () => {
  const a = api();
  const created = a.create(
    a.type('inference.networking.k8s.io', 'inferencepools'),
    'default',
    pool({ ...good(), endpointPickerRef: { name: 'epp', kind: 'Backend', group: 'example.com' } }),
  );
  expect(created.spec.endpointPickerRef.port).toBeUndefined();
});

test('CEL: duplicate target ports are refused ("port number must be unique")', () => {
  const e = createError(api(), pool({ ...good(), targetPorts: [{ number: 8000 }, { number: 8001 }, { number: 8000 }] }));
  expect(e.message).toBe(
    'InferencePool.inference.networking.k8s.io "pool" is invalid: spec.targetPorts: Invalid value: "array": port number must be unique',
  );
});

test('schema: empty matchLabels, too many ports, a bad failureMode and a missing name are refused, and block the CEL rules', () => {
  const e = createError(
    api(),
    pool({
      selector: { matchLabels: {} },
      targetPorts: Array.from({ length: 9 }, (_, i) => ({ number: 8000 + i })),
      endpointPickerRef: { failureMode: 'Sometimes' },
    }),
  );
  const causes = e.details?.causes ?? [];
  expect(causes).toContainEqual({
    reason: 'FieldValueInvalid',
    field: 'spec.selector.matchLabels',
    message: 'Invalid value: 0: spec.selector.matchLabels in body should have at least 1 properties',
  });
  expect(causes).toContainEqual({
    reason: 'FieldValueTooMany',
    field: 'spec.targetPorts',
    message: 'Too many: 9: must have at most 8 items',
  });
  expect(causes).toContainEqual({
    reason: 'FieldValueNotSupported',
    field: 'spec.endpointPickerRef.failureMode',
    message: 'Unsupported value: "Sometimes": supported values: "FailOpen", "FailClose"',
  });
  expect(causes).toContainEqual({ reason: 'FieldValueRequired', field: 'spec.endpointPickerRef.name', message: 'Required value' });
  expect(causes.at(-1)?.message).toContain('some validation rules were not checked because the object was invalid');
  // the CEL port rule did not run: the object was already invalid
  expect(causes.some((c) => c.message.includes('port is required'))).toBe(false);
  expect(e.message.startsWith('InferencePool.inference.networking.k8s.io "pool" is invalid: [')).toBe(true);
});

test('schema: port numbers out of range and a missing spec', () => {
  const e = createError(api(), pool({ ...good(), targetPorts: [{ number: 0 }] }));
  expect(e.details?.causes).toEqual([
    {
      reason: 'FieldValueInvalid',
      field: 'spec.targetPorts[0].number',
      message: 'Invalid value: 0: spec.targetPorts[0].number in body should be greater than or equal to 1',
    },
  ]);
  const e2 = createError(api(), { apiVersion: 'inference.networking.k8s.io/v1', kind: 'InferencePool', metadata: { name: 'p' } });
  expect(e2.details?.causes?.[0]).toEqual({ reason: 'FieldValueRequired', field: 'spec', message: 'Required value' });
});

test('update: the rules apply too; an unchanged invalid value is ratcheted', () => {
  const a = api();
  const t = a.type('inference.networking.k8s.io', 'inferencepools');
  const created = a.create(t, 'default', pool(good()));
  let err: unknown;
  try {
    a.update(t, 'default', 'pool', { ...created, spec: { ...created.spec, targetPorts: [{ number: 1 }, { number: 1 }] } });
  } catch (e) {
    err = e;
  }
  expect((err as ApiError).message).toContain('spec.targetPorts: Invalid value: "array": port number must be unique');
  // A rule-breaking value already stored (as if written before the rule existed) does not block other edits.
  const stored = a.store.put('inference.networking.k8s.io/inferencepools', {
    ...created,
    spec: { ...created.spec, targetPorts: [{ number: 1 }, { number: 1 }] },
  });
  const next = a.update(t, 'default', 'pool', { ...stored, metadata: { ...stored.metadata, labels: { x: 'y' } } });
  expect(next.metadata.labels).toEqual({ x: 'y' });
});

test('CEL evaluator: oldSelf transition rules, messageExpression, fieldPath, evaluation errors', () => {
  const schema = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: { mode: { type: 'string' }, size: { type: 'integer' } },
        'x-kubernetes-validations': [
          { rule: 'self.mode == oldSelf.mode', message: 'mode is immutable' },
          { rule: 'self.size <= 10', messageExpression: "'size ' + string(self.size) + ' is over 10'", fieldPath: '.size' },
          { rule: 'self.missing == 1' },
        ],
      },
    },
  };
  const created = validateCelRules(schema, { spec: { mode: 'a', size: 20 } }, undefined);
  expect(created.map((e) => `${e.field}|${e.detail}`)).toEqual([
    'spec.size|size 20 is over 10',
    'spec|no such key: missing evaluating rule: self.missing == 1',
  ]);
  const updated = validateCelRules(schema, { spec: { mode: 'b', size: 5 } }, { spec: { mode: 'a', size: 5 } });
  expect(updated.map((e) => `${e.field}|${e.detail}`)).toEqual([
    'spec|mode is immutable',
    'spec|no such key: missing evaluating rule: self.missing == 1',
  ]);
});
