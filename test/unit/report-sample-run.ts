import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A real, small Playwright run in a temp dir, shaped like the conformance project: three "suites" (one
 * passing with criteria.json and a chart, one failing on InferencePoolResourceExhausted, one skipped),
 * reported through the project's own reporters (allure-playwright with our categories, junit, the
 * conformance reporter). Report tests read what it writes, so they judge real outputs, not hand-made ones.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);

export interface SampleRun {
  dir: string;
  resultsDir: string;
  junitFile: string;
  conformanceFile: string;
  exitCode: number;
  output: string;
}

const abs = (p: string) => JSON.stringify(join(ROOT, p));

function specText(runLabel: string): string {
  return `
import { test, expect } from ${abs('node_modules/@playwright/test/index.mjs')};
import * as allure from ${abs('node_modules/allure-js-commons/dist/esm/index.js')};
import { pickSplitSpec, renderSvg } from ${abs('reporters/charts.ts')};
import { recordTargetEnvironment } from ${abs('reporters/environment.ts')};
import { assertionMessage } from ${abs('reporters/categories.ts')};

test.beforeAll(async () => {
  await recordTargetEnvironment({ kind: 'twin', gatewayUrl: 'http://127.0.0.1:18080', info: { server: 'https://127.0.0.1:6443', serverVersion: 'v1.32.0-twin' } });
});

test('proxy-performance', { tag: ['@conformance'] }, async ({}, testInfo) => {
  await allure.labels({ name: 'feature', value: 'proxy-performance' }, { name: 'severity', value: 'critical' }, { name: 'owner', value: 'llm-d-team' });
  await allure.parameter('run', ${JSON.stringify(runLabel)});
  const verdicts = [
    { name: 'routeBackend', ok: true, summary: 'llm-d-inference-scheduler/llm-d-inference-scheduling → InferencePool, Accepted and ResolvedRefs', evidence: {} },
    { name: 'proxiesChosen', ok: true, summary: 'vllm-p2p-proxy 32 / vllm-fs-proxy 28 of 60 picks (each ≥ 20.0%)', evidence: {} },
  ];
  await test.step('load: 60 requests at concurrency 12 (builtin) POST /v1/chat/completions', async () => {});
  await testInfo.attach('EPP pick split.svg', { body: await renderSvg(pickSplitSpec({ 'vllm-p2p-proxy': 32, 'vllm-fs-proxy': 28 })), contentType: 'image/svg+xml' });
  await testInfo.attach('criteria.json', { body: JSON.stringify(verdicts), contentType: 'application/json' });
  for (const v of verdicts) await test.step('criterion ' + v.name + ': pass: ' + v.summary, async () => { expect.soft(v.ok, assertionMessage(v)).toBe(true); });
});

test('proxy-performance-by-backend-expecting-both', { tag: ['@conformance'] }, async ({}, testInfo) => {
  await allure.labels({ name: 'feature', value: 'proxy-performance-by-backend-expecting-both' }, { name: 'severity', value: 'normal' });
  const v = { name: 'proxiesChosen', ok: false, summary: 'no Scoring decision in the EPP log: the EPP logged 60 InferencePoolResourceExhausted and 60 "failed to run scheduler profile", 60 responses carried InferencePoolResourceExhausted — a filter left no candidate', evidence: {}, cause: 'no-candidate' as const };
  await testInfo.attach('criteria.json', { body: JSON.stringify([v]), contentType: 'application/json' });
  await test.step('criterion proxiesChosen: FAIL: ' + v.summary, async () => { expect.soft(v.ok, assertionMessage(v)).toBe(true); });
});

test('ab-static-routing', { tag: ['@conformance'] }, async () => {
  test.skip(true, 'no vllm-ab-test HTTPRoute on this target');
});
`;
}

function configText(dir: string): string {
  return `
import { allureCategories } from ${abs('reporters/categories.ts')};
export default {
  testDir: ${JSON.stringify(dir)},
  outputDir: ${JSON.stringify(join(dir, 'test-results'))},
  workers: 1,
  retries: 0,
  reporter: [
    [${JSON.stringify(require.resolve('allure-playwright'))}, { resultsDir: ${JSON.stringify(join(dir, 'allure-results'))}, detail: true, suiteTitle: true, environmentInfo: { node_version: process.version }, categories: allureCategories() }],
    ['junit', { outputFile: ${JSON.stringify(join(dir, 'reports', 'junit.xml'))} }],
    [${abs('reporters/conformance-reporter.ts')}, { outputFile: ${JSON.stringify(join(dir, 'reports', 'conformance-report.yaml'))}, resultsDir: ${JSON.stringify(join(dir, 'allure-results'))} }],
  ],
  projects: [{ name: 'conformance', testMatch: /sample\\.spec\\.ts$/ }],
};
`;
}

/** Runs the sample in `dir` (created); resolves when Playwright exits (1: one test fails on purpose). */
export async function runSample(dir: string, runLabel = 'run 1'): Promise<SampleRun> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module", "private": true }\n');
  writeFileSync(join(dir, 'sample.spec.ts'), specText(runLabel));
  writeFileSync(join(dir, 'sample.config.ts'), configText(dir));
  // the outer Playwright worker's variables would make the inner run think it is a worker
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(TEST_|PW_|PLAYWRIGHT_)/.test(k) && k !== 'ALLURE_RESULTS_DIR' && k !== 'CI'),
  );
  env.ALLURE_RESULTS_DIR = join(dir, 'allure-results');
  const cli = require.resolve('@playwright/test/cli');
  return new Promise((resolveRun) => {
    execFile(
      process.execPath,
      [cli, 'test', '-c', join(dir, 'sample.config.ts')],
      { cwd: dir, env, timeout: 240_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const exitCode = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
        resolveRun({
          dir,
          resultsDir: join(dir, 'allure-results'),
          junitFile: join(dir, 'reports', 'junit.xml'),
          conformanceFile: join(dir, 'reports', 'conformance-report.yaml'),
          exitCode,
          output: `${stdout}\n${stderr}`,
        });
      },
    );
  });
}
