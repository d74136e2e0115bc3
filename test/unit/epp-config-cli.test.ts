import { expect, test } from '@playwright/test';
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as path from 'node:path';

const DIR = 'test/fixtures/epp-configs';
const valid = fs
  .readdirSync(path.join(DIR, 'valid'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => path.join(DIR, 'valid', f));
const expected = JSON.parse(fs.readFileSync(path.join(DIR, 'invalid', 'expected-errors.json'), 'utf8')) as Record<string, string>;

test('epp-config check accepts every valid fixture (the plugin types and parameters of the upstream configs)', async () => {
  expect(valid.length).toBeGreaterThanOrEqual(12);
  const res = await execa('node', ['bin/pd-harness.js', 'epp-config', 'check', ...valid], { reject: false });
  expect(res.exitCode).toBe(0);
  expect(res.stdout.split('\n').sort()).toEqual(valid.map((f) => `ok ${f}`).sort());
  // a bad requestTimeout loads (the real EPP logs it and keeps 2m)
  expect(res.stderr).toBe(
    `${DIR}/valid/bad-request-timeout.yaml: the EPP would log: Invalid request timeout duration, using default request timeout (time: invalid duration "two minutes")`,
  );
});

test("epp-config check refuses each invalid fixture with the real loader's reason, exit 2", async () => {
  const files = fs
    .readdirSync(path.join(DIR, 'invalid'))
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  expect(files).toEqual(Object.keys(expected).sort());
  const res = await execa('node', ['bin/pd-harness.js', 'epp-config', 'check', ...files.map((f) => path.join(DIR, 'invalid', f))], {
    reject: false,
  });
  expect(res.exitCode).toBe(2);
  expect(res.stdout).toBe('');
  const lines = res.stderr.split('\n');
  expect(lines).toHaveLength(files.length);
  for (const f of files) expect(lines).toContain(`${DIR}/invalid/${f}: ${expected[f]}`);
  expect(res.stderr).not.toMatch(/\n\s+at /);
});

test("epp-config check: a missing file is the runner's read error; valid files still print ok", async () => {
  const res = await execa('node', ['bin/pd-harness.js', 'epp-config', 'check', `${DIR}/nope.yaml`, valid[0]!], { reject: false });
  expect(res.exitCode).toBe(2);
  expect(res.stdout).toBe(`ok ${valid[0]}`);
  expect(res.stderr).toBe(
    `${DIR}/nope.yaml: failed to load config from a file '${DIR}/nope.yaml' - open ${DIR}/nope.yaml: no such file or directory`,
  );
});
