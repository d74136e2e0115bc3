import { expect, test } from '@playwright/test';
import { UsageError } from '../../core/errors.ts';
import { checkEngine, optionsFromEnv } from '../../fixtures/options.ts';

test('optionsFromEnv: the variables pd-harness run sets for its Playwright child become option values', () => {
  expect(optionsFromEnv({})).toEqual({});
  expect(
    optionsFromEnv({
      PD_HARNESS_KUBECONFIG: '/k/config',
      PD_HARNESS_GATEWAY: 'http://127.0.0.1:18080',
      PD_HARNESS_ENGINE: 'k6',
      PD_HARNESS_SEED: 's1',
      PD_HARNESS_ALLOW_PROTECTED: '1',
    }),
  ).toEqual({ kubeconfig: '/k/config', gateway: 'http://127.0.0.1:18080', engine: 'k6', seed: 's1', allowProtected: true });
  // empty means unset, and only '1' allows protected namespaces
  expect(optionsFromEnv({ PD_HARNESS_KUBECONFIG: '', PD_HARNESS_ENGINE: '', PD_HARNESS_ALLOW_PROTECTED: 'yes' })).toEqual({});
});

test('checkEngine: the three engines pass, anything else is one UsageError line naming the variable', () => {
  expect(checkEngine(undefined)).toBeUndefined();
  for (const e of ['builtin', 'k6', 'k6-operator']) expect(checkEngine(e)).toBe(e);
  expect(() => checkEngine('locust')).toThrow(UsageError);
  expect(() => checkEngine('locust')).toThrow(
    'engine locust (PD_HARNESS_ENGINE or the engine option): expected builtin, k6 or k6-operator',
  );
});
