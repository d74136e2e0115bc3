import { expect } from '@playwright/test';
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { suitesTagged } from '../../suites/select.ts';
import { seedTwinTest as test } from '../helpers/seed-twin.ts';

/*
 * Issue 16, done-when: `pd-harness run SUITE --engine k6` (the stand-in k6 on PATH here; real k6 where it is
 * installed) and `--engine k6-operator` (the twin's TestRun controller) pass the main job's suites, the
 * conformance-tagged ones, end to end: deploy, setup, steady state, the load compiled to a k6 script, observe,
 * judge, cleanup, as the conformance project passes them on builtin (specs/conformance.spec.ts). Every
 * criterion's line must say pass. The chaos and repro suites' loads are compared across the three engines in
 * suites-on-k6-engines.test.ts (their faults are engine-independent and take minutes each).
 */
test.describe.configure({ mode: 'serial', timeout: 240_000 });

const CONFORMANCE = suitesTagged('conformance');

for (const engine of ['k6', 'k6-operator'] as const) {
  for (const loaded of CONFORMANCE) {
    const { suite } = loaded;
    test(`pd-harness run ${path.basename(loaded.file)} --engine ${engine}: every criterion passes`, async ({ seedTwin }) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cli-${engine}-`));
      try {
        const res = await execa(
          process.execPath,
          [
            'bin/pd-harness.js',
            'run',
            loaded.file,
            '--kubeconfig',
            seedTwin.kubeconfigPath,
            '--gateway',
            seedTwin.gatewayUrl,
            '--engine',
            engine,
            '--output',
            path.join(dir, 'out'),
          ],
          {
            reject: false,
            env: {
              PATH: `${path.resolve('test/bin')}${path.delimiter}${process.env.PATH ?? ''}`,
              PD_HARNESS_SUITE: '',
              PD_HARNESS_WORKERS: '1',
              ALLURE_RESULTS_DIR: path.join(dir, 'allure'),
              PD_HARNESS_JUNIT_FILE: path.join(dir, 'junit.xml'),
              PD_HARNESS_CONFORMANCE_REPORT: path.join(dir, 'conformance-report.yaml'),
            },
          },
        );
        const out = `${res.stdout}\n${res.stderr}`;
        expect(res.exitCode, out.slice(-3000)).toBe(0);
        const lines = out.split('\n').filter((l) => l.startsWith(`pd-harness: ${suite.metadata.name}: criterion `));
        const names = suite.spec.criteria.map((c) => Object.keys(c as object)[0]);
        expect(lines.map((l) => /criterion (\w+): /.exec(l)?.[1])).toEqual(names);
        expect(lines.filter((l) => !/: pass: /.test(l))).toEqual([]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
}
