import { expect, test } from '@playwright/test';
import { ApiStatusError } from '../../cluster/errors.ts';
import { EXIT, exitCodeOf, TargetError } from '../../core/errors.ts';
import { readOrAbsent } from '../../runner/read-or-absent.ts';

const status = (code: number) =>
  new ApiStatusError(code, JSON.stringify({ kind: 'Status', code, reason: code === 403 ? 'Forbidden' : 'NotFound' }));

test('observe reads: 404 is absent; 403 (or an unreachable server) stops the run naming what could not be read, cause kept', async () => {
  expect(await readOrAbsent('the pods of llm-d-vllm', async () => ['pod'])).toEqual(['pod']);
  expect(await readOrAbsent('the pods of llm-d-vllm', () => Promise.reject(status(404)))).toBeUndefined();
  // a 404 wrapped with context (as the driver wraps API errors) is still absent: decided by the status code
  expect(await readOrAbsent('x', () => Promise.reject(new Error('read Pod/p: not here', { cause: status(404) })))).toBeUndefined();

  const forbidden = status(403);
  const err = await readOrAbsent('the log of vllm-decode-fs/vllm in llm-d-vllm', () => Promise.reject(forbidden)).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(TargetError);
  expect((err as Error).message).toMatch(/^observe: cannot read the log of vllm-decode-fs\/vllm in llm-d-vllm: /);
  expect((err as Error).cause).toBe(forbidden);
  expect(exitCodeOf(err)).toBe(EXIT.unreachable);

  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' });
  await expect(readOrAbsent('the pods of llm-d-vllm', () => Promise.reject(refused))).rejects.toBeInstanceOf(TargetError);
});
