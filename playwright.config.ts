import { defineConfig } from '@playwright/test';
import * as os from 'node:os';

/**
 * Projects:
 *  - unit: pure modules and small real-socket tests (test/unit)
 *  - twin: the local twin against real clients, kubectl and @kubernetes/client-node (test/twin)
 *  - conformance / chaos / repro: the suites, run end to end (specs/)
 */
export default defineConfig({
  timeout: 120_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  workers: process.env.PD_HARNESS_WORKERS ? Number(process.env.PD_HARNESS_WORKERS) : 2,
  outputDir: 'test-results',
  reporter: [
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
      },
    ],
  ],
  projects: [
    { name: 'unit', testDir: 'test/unit', testMatch: /.*\.test\.ts$/ },
    { name: 'twin', testDir: 'test/twin', testMatch: /.*\.test\.ts$/ },
    { name: 'conformance', testDir: 'specs', testMatch: /conformance\.spec\.ts$/ },
    { name: 'chaos', testDir: 'specs', testMatch: /chaos\.spec\.ts$/ },
    { name: 'repro', testDir: 'specs', testMatch: /repro\.spec\.ts$/ },
  ],
});
