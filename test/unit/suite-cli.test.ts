import { expect, test } from '@playwright/test';
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const CLI = 'bin/pd-harness.js';
const run = (...args: string[]) => execa('node', [CLI, ...args], { reject: false });
const noStack = (text: string) => expect(text).not.toMatch(/^\s+at /m);

test('validate: every example suite is valid -> exit 0 and an ok line per file', async () => {
  const files = [
    'suites/ab-static-routing.suite.yaml',
    'suites/proxy-performance-by-backend.suite.yaml',
    'suites/proxy-performance.suite.yaml',
  ];
  const res = await run('validate', ...files);
  expect(res.stderr).toBe('');
  expect(res.exitCode).toBe(0);
  expect(res.stdout.split('\n')).toEqual(files.map((f) => `ok ${f}`));
});

test('validate: invalid suites -> exit 2, one FILE:LINE:COL line per problem on stderr, no stack trace', async () => {
  const res = await run(
    'validate',
    'suites/proxy-performance.suite.yaml',
    'test/fixtures/suites/syntax-error.suite.yaml',
    'test/fixtures/suites/wrong-type.suite.yaml',
    'test/fixtures/suites/missing-field.suite.yaml',
    'test/fixtures/suites/empty.suite.yaml',
    'test/fixtures/suites/does-not-exist.suite.yaml',
  );
  expect(res.exitCode).toBe(2);
  expect(res.stdout).toBe('ok suites/proxy-performance.suite.yaml');
  const lines = res.stderr.split('\n');
  expect(lines).toEqual([
    'test/fixtures/suites/syntax-error.suite.yaml:6:1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]',
    'test/fixtures/suites/wrong-type.suite.yaml:7:17: spec.target.namespaces: expected a list, got the string "llm-d-vllm"',
    'test/fixtures/suites/wrong-type.suite.yaml:10:18: spec.load.concurrency: must be at most 1000',
    'test/fixtures/suites/wrong-type.suite.yaml:11:13: spec.load.stream: expected true or false, got the string "yes"',
    'test/fixtures/suites/missing-field.suite.yaml:4:3: missing required field "name" in metadata',
    'test/fixtures/suites/missing-field.suite.yaml:9:5: spec.load: load needs requests (closed model), rate and duration (open model), or a k6 script',
    'test/fixtures/suites/empty.suite.yaml:1:1: empty suite file',
    'test/fixtures/suites/does-not-exist.suite.yaml:1:1: file not found',
  ]);
  for (const line of lines) expect(line).toMatch(/^[^:]+:\d+:\d+: \S/);
  noStack(res.stderr);
});

test('validate: an unknown key gets its did-you-mean; a directory is a problem, not a crash', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'suite-cli-'));
  try {
    const file = path.join(dir, 'typo.suite.yaml');
    fs.writeFileSync(
      file,
      'apiVersion: pd-harness.dev/v1\nkind: Suite\nmetadata: { name: typo }\nspec:\n  target: { namespaces: [a] }\n  load: { requests: 6, concurency: 2 }\n',
    );
    const res = await run('validate', file, dir);
    expect(res.exitCode).toBe(2);
    expect(res.stderr.split('\n')).toEqual([
      `${file}:6:24: unknown key "concurency" in spec.load (did you mean "concurrency"?)`,
      `${dir}:1:1: is a directory, not a suite file`,
    ]);
    noStack(res.stderr);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('validate without files is a usage error (exit 2)', async () => {
  const res = await run('validate');
  expect(res.exitCode).toBe(2);
  expect(res.stderr).toContain("missing required argument 'files'");
  noStack(res.stderr);
});

test('schema prints the draft-07 JSON Schema; --out writes the same text', async () => {
  const res = await run('schema');
  expect(res.exitCode).toBe(0);
  const printed = JSON.parse(res.stdout) as Record<string, unknown>;
  expect(printed.$schema).toBe('http://json-schema.org/draft-07/schema#');
  expect(`${res.stdout}\n`).toBe(fs.readFileSync('suites/suite.schema.json', 'utf8'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'suite-schema-'));
  try {
    const out = path.join(dir, 'suite.schema.json');
    const written = await run('schema', '--out', out);
    expect(written.exitCode).toBe(0);
    expect(fs.readFileSync(out, 'utf8')).toBe(`${res.stdout}\n`);
    const bad = await run('schema', '--out', path.join(dir, 'no', 'such', 'dir', 'x.json'));
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/^pd-harness: cannot write .*x\.json: ENOENT$/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
