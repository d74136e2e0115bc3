import { expect, test } from '@playwright/test';
import { redact, redactObject } from '../../reporters/redact.ts';

test('bearer tokens and Authorization headers are redacted from text', () => {
  const text = [
    'GET /api/v1/pods Authorization: Bearer abc.def-123',
    '{"authorization":"Bearer xyz","ok":1}',
    'users:\n- name: twin\n  user:\n    token: 0123456789abcdef',
    '    client-key-data: LS0tLS1CRUdJTi',
  ].join('\n');
  const out = redact(text);
  for (const secret of ['abc.def-123', 'xyz', '0123456789abcdef', 'LS0tLS1CRUdJTi']) expect(out).not.toContain(secret);
  expect(out).toContain('"ok":1');
  expect(out).toContain('token: [REDACTED]');
});

test('secret-named keys are blanked in objects, other values kept', () => {
  const out = redactObject({ headers: { Authorization: 'Bearer t0k', 'content-type': 'application/json' }, nested: [{ token: 's3cret', n: 2 }] });
  expect(out).toEqual({ headers: { Authorization: '[REDACTED]', 'content-type': 'application/json' }, nested: [{ token: '[REDACTED]', n: 2 }] });
});
