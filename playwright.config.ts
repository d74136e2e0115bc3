import { defineConfig } from '@playwright/test';
import * as os from 'node:os';
import { optionsFromEnv, type HarnessOptions } from './fixtures/options.ts';
import { allureCategories } from './reporters/categories.ts';
import { TEST_BUDGETS } from './core/timeouts.ts';
import { buildVendor, vendorFresh } from './common/build.mjs';

// the vendored bundles the workers import (`#client-node`, `#charts`): npm ci and npm test build them;
// built here when it is missing or older than the installed package
if (!vendorFresh()) await buildVendor();

/**
 * Projects:
 *  - unit: pure modules and small real-socket tests (test/unit)
 *  - twin: the local twin against real clients, kubectl and @kubernetes/client-node (test/twin)
 *  - conformance / chaos / repro: the suites, run end to end (specs/)
 *  - browser: the generated Allure HTML opened in Debian chromium (test/browser)
 *
 * Reports: Allure results (categories by failure cause, environment), JUnit XML in reports/junit.xml,
 * and the conformance YAML report in reports/conformance-report.yaml (the last reporter: it also merges
 * the run's environment into allure-results after allure-playwright has written it).
 */
export default defineConfig<HarnessOptions>({
  // the option fixtures (fixtures/options.ts): kubeconfig, gateway, engine, seed, allowProtected. The
  // environment `pd-harness run` gives its Playwright child is read here, and only here.
  use: optionsFromEnv(process.env),
  timeout: TEST_BUDGETS.test,
  expect: { timeout: TEST_BUDGETS.expect },
  // The single-file bundles common/build.mjs writes (dist/vendor/client-node.mjs is 3.5 MB) are plain JavaScript:
  // loaded as they are instead of through Playwright's transform, a worker imports #client-node in ~0.15 s of
  // CPU instead of ~0.73 s (docs/benchmarks.md). Every worker imports it, and so does every nested run's.
  build: { external: ['**/dist/vendor/**', '**/dist/bundles/**'] },
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: process.env.PD_HARNESS_WORKERS ? Number(process.env.PD_HARNESS_WORKERS) : 2,
  outputDir: 'test-results',
  reporter: [
    // first: redacts errors, steps, output and attachments in place before the others write them
    ['./reporters/redacting-reporter.ts'],
    ['list'],
    [
      'allure-playwright',
      {
        resultsDir: process.env.ALLURE_RESULTS_DIR ?? 'allure-results',
        detail: true,
        suiteTitle: true,
        environmentInfo: {
          os_platform: os.platform(),
          os_release: os.release(),
          node_version: process.version,
        },
        categories: allureCategories(),
      },
    ],
    ['junit', { outputFile: process.env.PD_HARNESS_JUNIT_FILE ?? 'reports/junit.xml' }],
    ['./reporters/conformance-reporter.ts', { outputFile: process.env.PD_HARNESS_CONFORMANCE_REPORT ?? 'reports/conformance-report.yaml' }],
  ],
  // Workers take test files in this order: the long single tests (a chaos suite's timed load, the repro
  // campaign, the browser report) first and the many short ones last, so that the end of the run is not
  // one long test with the other worker idle.
  projects: [
    { name: 'chaos', testDir: 'specs', testMatch: /chaos\.spec\.ts$/ },
    { name: 'repro', testDir: 'specs', testMatch: /repro\.spec\.ts$/ },
    { name: 'browser', testDir: 'test/browser', testMatch: /.*\.test\.ts$/, timeout: TEST_BUDGETS.browserTest },
    { name: 'conformance', testDir: 'specs', testMatch: /conformance\.spec\.ts$/ },
    { name: 'twin', testDir: 'test/twin', testMatch: /.*\.test\.ts$/, testIgnore: /twin-orphans\.test\.ts$/ },
    { name: 'unit', testDir: 'test/unit', testMatch: /.*\.test\.ts$/ },
    // SIGKILLs whole runs and reaps every twin process whose owner is gone: alone, after every other project,
    // so that no other test's twin is running while it reaps
    {
      name: 'twin-reap',
      testDir: 'test/twin',
      testMatch: /twin-orphans\.test\.ts$/,
      dependencies: ['unit', 'twin', 'conformance', 'chaos', 'repro', 'browser'],
    },
  ],
});
