import { expect, test } from '@playwright/test';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classifyFailure } from '../../reporters/categories.ts';
import {
  buildConformanceReport,
  ConformanceReport,
  conformanceReportYaml,
  parseConformanceReport,
  type SuiteRun,
} from '../../reporters/conformance-report.ts';
import { parseProperties } from '../../reporters/environment.ts';
import { checkJUnit, parseXml } from '../../reporters/junit.ts';
import { runSample, type SampleRun } from './report-sample-run.ts';

/** Real outputs: a small Playwright run through the project's reporters (see report-sample-run.ts). */
test.describe.configure({ mode: 'serial' });

let dir = '';
let run: SampleRun;

test.beforeAll(async () => {
  test.setTimeout(280_000);
  dir = mkdtempSync(join(tmpdir(), 'pd-report-'));
  run = await runSample(dir);
  expect(run.exitCode, run.output).toBe(1); // one sample test fails on purpose
});

test.afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('JUnit XML is written and passes the structural schema checks', () => {
  const { problems, totals } = checkJUnit(readFileSync(run.junitFile, 'utf8'));
  expect(problems).toEqual([]);
  expect(totals).toMatchObject({ suites: 1, tests: 3, failures: 1, errors: 0, skipped: 1 });
  const failed = totals.testcases.find((t) => t.outcome === 'failed');
  expect(failed?.name).toBe('proxy-performance-by-backend-expecting-both');
  expect(failed?.message).toContain('InferencePoolResourceExhausted');
});

test('the JUnit checks catch broken files', () => {
  expect(
    checkJUnit(
      '<testsuites><testsuite name="a" tests="2" failures="0" errors="0"><testcase name="x" classname="c"/></testsuite></testsuites>',
    ).problems,
  ).toEqual(['testsuite a: tests=2 but 1 testcase(s)']);
  expect(
    checkJUnit(
      '<testsuites><testsuite name="a" tests="1" failures="0" errors="0"><testcase name="x" classname="c"><failure message="m"/></testcase></testsuite></testsuites>',
    ).problems,
  ).toEqual(['testsuite a: failures=0 but 1 testcase(s) with <failure>']);
  expect(
    checkJUnit('<testsuites><testsuite name="a" tests="1" failures="0" errors="0"><testcase classname="c"/></testsuite></testsuites>')
      .problems,
  ).toEqual(['testsuite a > testcase (unnamed): no name attribute']);
  expect(checkJUnit('<testsuites><testsuite></testsuites>').problems[0]).toMatch(
    /^not well-formed XML: closing <\/testsuites> does not match <testsuite>/,
  );
  expect(checkJUnit('<results/>').problems).toEqual(['root element is <results>, not <testsuites> or <testsuite>']);
  expect(parseXml('<a x="1 &amp; 2"><![CDATA[<b>]]>&lt;c&gt;</a>')).toEqual({
    name: 'a',
    attrs: { x: '1 & 2' },
    children: [],
    text: '<b><c>',
  });
});

test('the conformance report is written and validates against its schema', () => {
  const report = parseConformanceReport(readFileSync(run.conformanceFile, 'utf8'));
  expect(report.target).toEqual({
    kind: 'twin',
    apiServer: 'https://127.0.0.1:6443',
    serverVersion: 'v1.32.0-twin',
    gatewayUrl: 'http://127.0.0.1:18080',
  });
  expect(report.profiles.map((p) => p.name)).toEqual(['conformance']);
  const p = report.profiles[0]!;
  expect(p.summary).toEqual({ passed: 1, failed: 1, skipped: 1 });
  const byName = Object.fromEntries(p.suites.map((s) => [s.name, s]));
  expect(byName['proxy-performance']?.result).toBe('passed');
  expect(byName['proxy-performance']?.criteria.map((c) => c.name)).toEqual(['routeBackend', 'proxiesChosen']);
  expect(byName['proxy-performance-by-backend-expecting-both']?.criteria[0]).toMatchObject({ name: 'proxiesChosen', ok: false });
  expect(byName['ab-static-routing']?.result).toBe('skipped');
});

test('Allure results carry categories, environment, labels, and the failure lands in its category', () => {
  const files = readdirSync(run.resultsDir);
  expect(files).toContain('categories.json');
  expect(files.filter((f) => f.startsWith('pd-harness-env-'))).toEqual([]); // fragments were merged and removed
  const env = parseProperties(readFileSync(join(run.resultsDir, 'environment.properties'), 'utf8'));
  expect(env).toMatchObject({
    'target.kind': 'twin',
    'target.serverVersion': 'v1.32.0-twin',
    'gateway.url': 'http://127.0.0.1:18080',
    node_version: process.version,
  });
  expect(env['git.commit']).toBeTruthy();
  const results = files
    .filter((f) => f.endsWith('-result.json'))
    .map((f) => JSON.parse(readFileSync(join(run.resultsDir, f), 'utf8')) as AllureResult);
  const passed = results.find((r) => r.name === 'proxy-performance')!;
  expect(passed.labels).toEqual(
    expect.arrayContaining([
      { name: 'severity', value: 'critical' },
      { name: 'owner', value: 'llm-d-team' },
      { name: 'feature', value: 'proxy-performance' },
    ]),
  );
  expect(attachmentTypes(passed)).toContain('image/svg+xml');
  const failed = results.find((r) => r.status === 'failed')!;
  expect(classifyFailure('failed', failed.statusDetails.message ?? '')).toEqual(['InferencePoolResourceExhausted (EPP left no candidate)']);
});

interface AllureNode {
  attachments?: { type: string }[];
  steps?: AllureNode[];
}
interface AllureResult extends AllureNode {
  name: string;
  status: string;
  statusDetails: { message?: string };
  labels: { name: string; value: string }[];
}

/** allure-playwright puts attachments on the test or on steps. */
function attachmentTypes(node: AllureNode): string[] {
  return [...(node.attachments ?? []).map((a) => a.type), ...(node.steps ?? []).flatMap(attachmentTypes)];
}

test('conformance report: build, YAML, parse round trip; the schema rejects bad reports', () => {
  const runs: SuiteRun[] = [
    {
      profile: 'chaos',
      name: 'kill-decode',
      status: 'timedOut',
      durationMs: 1234.6,
      errorMessage: '\u001b[31mTest timeout of 120000ms exceeded.\u001b[39m\nmore',
    },
    {
      profile: 'conformance',
      name: 'b',
      status: 'passed',
      durationMs: 10,
      tags: ['conformance'],
      criteria: [{ name: 'responses', ok: true, summary: '60/60 × 200' }],
    },
    { profile: 'conformance', name: 'a', status: 'failed', durationMs: 5, criteria: [{ name: 'responses', ok: true, summary: 'x' }] },
    { profile: 'conformance', name: 'a', status: 'passed', durationMs: 7 }, // a retry: the last run counts
    {
      profile: 'conformance',
      name: 'c',
      status: 'failed',
      durationMs: 9,
      criteria: [
        { name: 'responses', ok: true, summary: '60/60 × 200' },
        { name: 'proxiesChosen', ok: false, summary: 'only vllm-p2p-proxy', cause: 'routing' },
      ],
    },
  ];
  const report = buildConformanceReport(runs, {
    date: new Date('2026-01-02T03:04:05Z'),
    harness: { version: '0.1.0', gitCommit: 'abc' },
    target: { kind: 'cluster', serverVersion: 'v1.31.2' },
  });
  expect(report.profiles.map((p) => p.name)).toEqual(['conformance', 'chaos']);
  expect(report.profiles[0]!.suites.map((s) => [s.name, s.result])).toEqual([
    ['a', 'passed'],
    ['b', 'passed'],
    ['c', 'failed'],
  ]);
  // a failed criterion carries its typed cause (criteria/verdict.ts); a passing one none
  expect(report.profiles[0]!.suites[2]!.criteria).toEqual([
    { name: 'responses', ok: true, summary: '60/60 × 200' },
    { name: 'proxiesChosen', ok: false, summary: 'only vllm-p2p-proxy', cause: 'routing' },
  ]);
  expect(report.profiles[1]!.suites[0]).toEqual({
    name: 'kill-decode',
    result: 'failed',
    durationMs: 1235,
    message: 'Test timeout of 120000ms exceeded.',
    criteria: [],
  });
  const yaml = conformanceReportYaml(report);
  expect(yaml).toContain('kind: ConformanceReport');
  expect(parseConformanceReport(yaml)).toEqual(report);
  expect(() => parseConformanceReport(yaml.replace('result: passed', 'result: green'))).toThrow(
    /^not a valid ConformanceReport: profiles\.0\.suites\.0\.result: /,
  );
  expect(() => parseConformanceReport(yaml.replace('apiVersion: pd-harness.dev/v1', 'apiVersion: v2'))).toThrow(/apiVersion/);
  expect(ConformanceReport.safeParse({ ...report, date: 'yesterday' }).success).toBe(false);
});
