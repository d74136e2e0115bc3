import { expect, test } from '@playwright/test';
import { execa } from 'execa';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatProblem, MAX_PROBLEMS, validateSuiteFile, validateSuiteText } from '../../suites/loader.ts';

/** Issue 13 point 5: hostile and careless input is refused in one line with exit 2, in bounded time and memory. */
const CLI = path.resolve('bin/pd-harness.js');
const BASE = `apiVersion: pd-harness.dev/v1
kind: Suite
metadata: { name: bounds }
spec:
  target: { namespaces: [llm-d-vllm] }
`;

let dir = '';
test.beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'suite-bounds-'));
});
test.afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const validate = (...args: string[]) => execa(process.execPath, [CLI, 'validate', ...args], { reject: false, timeout: 120_000 });

test('a FIFO, /dev/zero and a directory: one line each, exit 2, no hang', async () => {
  const fifo = path.join(dir, 'pipe.suite.yaml');
  execFileSync('mkfifo', [fifo]);
  const res = await validate(fifo, '/dev/zero', dir);
  expect(res.exitCode).toBe(2);
  expect(res.stderr.trim().split('\n')).toEqual([
    `${fifo}:1:1: is not a regular file (a FIFO): give a suite file on disk`,
    '/dev/zero:1:1: is not a regular file (a device): give a suite file on disk',
    `${dir}:1:1: is a directory, not a suite file`,
  ]);
});

test('size cap (4 MiB default, configurable); UTF-16 and binary refused in one line', () => {
  const big = path.join(dir, 'big.suite.yaml');
  fs.writeFileSync(big, `${BASE}# ${'x'.repeat(5 * 1024 * 1024)}\n`);
  expect(validateSuiteFile(big).problems.map((p) => p.message)).toEqual([
    'is 5.0 MiB, over the 4.0 MiB limit for a suite file (raise it with PD_HARNESS_MAX_INPUT_BYTES)',
  ]);
  expect(validateSuiteFile(big, { maxBytes: 8 * 1024 * 1024 }).ok).toBe(true);
  expect(validateSuiteFile(path.join(dir, 'ok.yaml'), { maxBytes: 10 }).problems[0]!.message).toBe('file not found');
  const u16 = path.join(dir, 'u16.suite.yaml');
  fs.writeFileSync(u16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(BASE, 'utf16le')]));
  expect(validateSuiteFile(u16).problems.map((p) => p.message)).toEqual(['is UTF-16 or UTF-32 encoded: save the suite file as UTF-8']);
  const bin = path.join(dir, 'bin.suite.yaml');
  fs.writeFileSync(bin, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x00, 0x41]));
  expect(validateSuiteFile(bin).problems.map((p) => p.message)).toEqual(['holds binary data (NUL bytes), not YAML text']);
  const latin1 = path.join(dir, 'latin1.suite.yaml');
  fs.writeFileSync(latin1, Buffer.from(`${BASE}# caf\xe9\n`, 'latin1'));
  expect(validateSuiteFile(latin1).problems.map((p) => p.message)).toEqual(['is not valid UTF-8 text: save the suite file as UTF-8']);
});

test('a 10,000-deep block sequence and deep flow nesting: one line, exit 2, no internal error', async () => {
  const deep = path.join(dir, 'deep.suite.yaml');
  fs.writeFileSync(deep, `${BASE}  deploy:\n    ${'- '.repeat(10_000)}x\n`);
  const res = await validate(deep);
  expect(res.exitCode).toBe(2);
  expect(res.stderr.trim()).toBe(`${deep}:7:1: nesting deeper than 64 levels: a suite is not nested that deep (is this the right file?)`);
  expect(
    validateSuiteText(path.join(dir, 'f.yaml'), `${BASE}  x: ${'['.repeat(5000)}${']'.repeat(5000)}\n`).problems[0]!.message,
  ).toContain('nesting deeper than 64 levels');
  const indented = Array.from({ length: 300 }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n');
  expect(validateSuiteText(path.join(dir, 'i.yaml'), indented).problems[0]!.message).toContain('nesting deeper than 64 levels');
});

test('64k unknown keys: the first 50 problems then "and N more", in linear time (counted, not timed: lookups per problem stay constant)', async () => {
  const file = path.join(dir, 'keys.suite.yaml');
  fs.writeFileSync(file, `${BASE}${Array.from({ length: 64_000 }, (_, i) => `  k${i}: 1\n`).join('')}`);
  const result = validateSuiteFile(file);
  expect(result.problems).toHaveLength(MAX_PROBLEMS);
  expect(result.more).toBe(64_000 - MAX_PROBLEMS);
  expect(result.problems[0]!.message).toBe('unknown key "k0" in spec');
  const res = await validate(file);
  expect(res.exitCode).toBe(2);
  const lines = res.stderr.trim().split('\n');
  expect(lines).toHaveLength(MAX_PROBLEMS + 1);
  expect(lines.at(-1)).toBe(`${file}: and ${64_000 - MAX_PROBLEMS} more problems`);
});

test('echoed values are cut short and non-printable bytes escaped', () => {
  const long = 'A'.repeat(30_000);
  const r = validateSuiteText(path.join(dir, 'e.yaml'), `${BASE}  load: { requests: "${long}" }\n  "bad\\u0007\\u202ekey\\u001b[31m": 1\n`);
  const printed = r.problems.map(formatProblem); // as printed, one line each
  expect(printed).toHaveLength(2);
  for (const line of printed) expect(line).not.toMatch(/[\u0000-\u001f\u007f\u202e]/);
  const text = printed.join('\n');
  expect(text.length).toBeLessThan(1000);
  expect(text).toContain('\\u202e');
  expect(text).toContain('…');
});

test("manifest paths must stay inside the suite's repository; outside paths get the same line whether they exist or not", async () => {
  const repo = path.join(dir, 'repo');
  fs.mkdirSync(path.join(repo, '.git'), { recursive: true });
  fs.mkdirSync(path.join(repo, 'suites'));
  fs.writeFileSync(path.join(repo, 'm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: m, namespace: llm-d-vllm }\n');
  fs.writeFileSync(path.join(dir, 'outside.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: o, namespace: llm-d-vllm }\n');
  fs.symlinkSync(path.join(dir, 'outside.yaml'), path.join(repo, 'link.yaml'));
  const suite = (deploy: string) => {
    const f = path.join(repo, 'suites', 'p.suite.yaml');
    fs.writeFileSync(f, `${BASE}  deploy: [${JSON.stringify(deploy)}]\n`);
    return validateSuiteFile(f).problems.map((p) => p.message);
  };
  expect(suite('../m.yaml')).toEqual([]);
  const outside = (p: string) => [
    `manifest path ${p} resolves outside the suite's repository (${fs.realpathSync(repo)}): keep it inside, or allow it with --allow-outside PATH`,
  ];
  expect(suite('../../outside.yaml')).toEqual(outside('../../outside.yaml'));
  expect(suite('../../no-such-file.yaml')).toEqual(outside('../../no-such-file.yaml')); // existence not revealed
  expect(suite('/etc/passwd')).toEqual(outside('/etc/passwd'));
  expect(suite('/etc/no-such-file')).toEqual(outside('/etc/no-such-file'));
  expect(suite('../../../../../../etc/shadow')).toEqual(outside('../../../../../../etc/shadow'));
  expect(suite('../link.yaml')).toEqual(outside('../link.yaml')); // after symlinks
  // the harness's own manifests are usable from anywhere; --allow-outside admits a path
  expect(suite(path.resolve('manifests/namespaces.yaml'))).toEqual([]);
  const f = path.join(repo, 'suites', 'p.suite.yaml');
  fs.writeFileSync(f, `${BASE}  deploy: ["../../outside.yaml"]\n`);
  expect(validateSuiteFile(f, { allowOutside: [path.join(dir, 'outside.yaml')] }).ok).toBe(true);
  const res = await validate('--allow-outside', dir, f);
  expect(res.exitCode, res.stderr).toBe(0);
  const refused = await validate(f);
  expect(refused.exitCode).toBe(2);
  expect(refused.stderr.trim().split('\n')).toHaveLength(1);
});

test('rolloutRestart.timeout is capped at 1h; an open model with less than one request is invalid', () => {
  const r = validateSuiteText(
    path.join(dir, 'r.yaml'),
    `${BASE}  setup:\n    - rolloutRestart: { ref: deploy/x, namespace: llm-d-vllm, timeout: 100h }\n`,
  );
  expect(r.problems.map((p) => p.message)).toEqual(['spec.setup[0].rolloutRestart.timeout: must be at most 1h']);
  const open = validateSuiteText(
    path.join(dir, 'o.yaml'),
    `${BASE}  load: { rate: 0.5, duration: 1s, request: {} }\n  criteria: [{ responses: { status: 200, atLeast: 1 } }]\n`,
  );
  expect(open.problems.map((p) => p.message)).toEqual([
    'spec.load.rate: rate 0.5/s for 1s is 0.5 requests, below one: raise rate or duration',
  ]);
});
