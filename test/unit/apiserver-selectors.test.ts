import { expect, test } from '@playwright/test';
import {
  fromLabelSelectorObject,
  matchFields,
  matchLabels,
  parseFieldSelector,
  parseLabelSelector,
  selectorToString,
} from '../../twin/apiserver/selectors.ts';
import { ApiError } from '../../twin/apiserver/status.ts';
import { evalJsonPath } from '../../twin/apiserver/jsonpath.ts';

const labels = { app: 'web', role: 'prefill', tier: 'gpu' };

test('label selector operators =, ==, !=, in, notin, exists, !exists', () => {
  const m = (s: string) => matchLabels(parseLabelSelector(s), labels);
  expect(m('app=web')).toBe(true);
  expect(m('app==web')).toBe(true);
  expect(m('app!=web')).toBe(false);
  expect(m('app!=db')).toBe(true);
  expect(m('role in (prefill, decode)')).toBe(true);
  expect(m('role in (decode)')).toBe(false);
  expect(m('role notin (decode)')).toBe(true);
  expect(m('missing notin (x)')).toBe(true);
  expect(m('tier')).toBe(true);
  expect(m('!tier')).toBe(false);
  expect(m('!missing')).toBe(true);
  expect(m('app=web,role in (prefill,decode),!missing')).toBe(true);
  expect(m('app=web,role=decode')).toBe(false);
  expect(m('')).toBe(true);
});

test('a malformed label selector is a 400 BadRequest', () => {
  let err: unknown;
  try {
    parseLabelSelector('app=web,=x');
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ApiError);
  expect((err as ApiError).code).toBe(400);
});

test('field selectors look up dotted paths; missing fields are empty', () => {
  const pod = { metadata: { name: 'p', namespace: 'ns' }, spec: { nodeName: 'worker-a' }, status: { phase: 'Running' } };
  expect(matchFields(parseFieldSelector('metadata.name=p,status.phase=Running'), pod)).toBe(true);
  expect(matchFields(parseFieldSelector('spec.nodeName!=worker-a'), pod)).toBe(false);
  expect(matchFields(parseFieldSelector('spec.nodeName='), { metadata: { name: 'q' }, spec: {} })).toBe(true);
  expect(matchFields(parseFieldSelector('metadata.namespace==other'), pod)).toBe(false);
});

test('structured LabelSelector objects convert to requirements and strings', () => {
  const sel = fromLabelSelectorObject({
    matchLabels: { app: 'web' },
    matchExpressions: [
      { key: 'role', operator: 'In', values: ['a', 'b'] },
      { key: 'x', operator: 'DoesNotExist' },
    ],
  });
  expect(selectorToString(sel)).toBe('app=web,role in (a,b),!x');
  expect(matchLabels(sel, { app: 'web', role: 'b' })).toBe(true);
  expect(matchLabels(sel, { app: 'web', role: 'b', x: '1' })).toBe(false);
});

test('printer-column JSONPath subset', () => {
  const o = {
    status: {
      conditions: [
        { type: 'Ready', status: 'True' },
        { type: 'Other', status: 'False' },
      ],
      addresses: [{ value: 'a' }, { value: 'b' }],
    },
  };
  expect(evalJsonPath(o, '.status.conditions[?(@.type=="Ready")].status')).toEqual(['True']);
  expect(evalJsonPath(o, '.status.addresses[*].value')).toEqual(['a', 'b']);
  expect(evalJsonPath(o, '.status.addresses[1].value')).toEqual(['b']);
  expect(evalJsonPath(o, '.spec.missing')).toEqual([]);
});
