import { expect, test } from '@playwright/test';
import { redact, redactObject } from '../../core/redact.ts';

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
  const out = redactObject({
    headers: { Authorization: 'Bearer t0k', 'content-type': 'application/json' },
    nested: [{ token: 's3cret', n: 2 }],
  });
  expect(out).toEqual({
    headers: { Authorization: '[REDACTED]', 'content-type': 'application/json' },
    nested: [{ token: '[REDACTED]', n: 2 }],
  });
});

// Secrets from the probes, each planted in the form it reached a report in.
const PLANTED = {
  urlPassword: 'pw-url-7f3a',
  bearer: 'bearer-tok-91c2',
  basic: 'dXNlcjpwdy1iYXNpYw==',
  camel: 'camel-tok-55d1',
  snake: 'snake-tok-08e4',
  clientSecret: 'client-sec-3b7e',
  hf: 'hf_plantedPlantedPlanted01',
  openai: 'sk-plantedplantedplanted02',
  spaced: 'correct horse battery staple',
  block: 'block-scalar-line-6c2d',
  pem: 'MIIEpAIBAAKCAQEAplanted',
  kubeKey: 'LS0tLS1CRUdJTiBSU0EgcGxhbnRlZA==',
  kebab: 'kebab-key-4e0f',
};

test('every credential form from the issue is removed from text; token counts and names stay', () => {
  const text = [
    `server: https://alice:${PLANTED.urlPassword}@127.0.0.1:6443`,
    `gateway http://u:${PLANTED.urlPassword}@127.0.0.1:18080/v1`,
    `Authorization: Bearer ${PLANTED.bearer}`,
    `proxy-authorization: Basic ${PLANTED.basic}`,
    `{"accessToken":"${PLANTED.camel}","access_token":"${PLANTED.snake}","max_tokens":100}`,
    `client_secret: ${PLANTED.clientSecret}`,
    `HF_TOKEN=${PLANTED.hf} OPENAI_API_KEY="${PLANTED.openai}"`,
    `password: ${PLANTED.spaced}`,
    `x-api-key: ${PLANTED.kebab}`,
    'secret: |',
    `  ${PLANTED.block}`,
    `  ${PLANTED.block}-2`,
    'after: kept',
    '-----BEGIN RSA PRIVATE KEY-----',
    PLANTED.pem,
    '-----END RSA PRIVATE KEY-----',
    `    client-key-data: ${PLANTED.kubeKey}`,
    'usage: {prompt_tokens: 12, completion_tokens: 3}, tokenizer: llama, secretName: hf-secret',
  ].join('\n');
  const out = redact(text);
  for (const [name, secret] of Object.entries(PLANTED)) expect(out, name).not.toContain(secret);
  for (const kept of [
    '127.0.0.1:6443',
    'max_tokens":100',
    'after: kept',
    'prompt_tokens: 12',
    'tokenizer: llama',
    'secretName: hf-secret',
    'BEGIN RSA PRIVATE KEY',
  ])
    expect(out).toContain(kept);
  expect(redact(out)).toBe(out); // idempotent
});

test('objects: {name, value} pairs with a secret name (env vars, headers, Allure parameters) lose the value', () => {
  const out = redactObject({
    env: [
      { name: 'HF_TOKEN', value: PLANTED.hf },
      { name: 'MODEL', value: 'qwen' },
    ],
    parameters: [{ name: 'gateway', value: `http://u:${PLANTED.urlPassword}@127.0.0.1:1` }],
    usage: { total_tokens: 7 },
  });
  expect(JSON.stringify(out)).not.toContain(PLANTED.hf);
  expect(JSON.stringify(out)).not.toContain(PLANTED.urlPassword);
  expect(out.env[1]).toEqual({ name: 'MODEL', value: 'qwen' });
  expect(out.usage.total_tokens).toBe(7);
});

test('JSON inside a JSON string is redacted too', () => {
  const out = redact(JSON.stringify({ body: JSON.stringify({ api_key: PLANTED.kebab, n: 1 }) }));
  expect(out).not.toContain(PLANTED.kebab);
  expect(out).toContain('\\"n\\":1');
});
