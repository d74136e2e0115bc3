import { expect, test } from '@playwright/test';
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * `pd-harness run --timeout deploy=DURATION` reaches the deploy wait inside the Playwright child: a pod that
 * never becomes Ready stops the run with a line naming the value in force (the command line's, over the
 * suite's spec.timeouts) and the timeout's name. No timing is asserted: only which value the message names.
 */
test('--timeout deploy wins over spec.timeouts.deploy and the deploy wait reports the value in force', async () => {
  test.setTimeout(240_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdh-run-timeouts-'));
  try {
    // pause never answers the readiness probe: Running, never Ready, nothing a wait gives up on early
    fs.writeFileSync(
      path.join(dir, 'never-ready.yaml'),
      `apiVersion: v1
kind: Pod
metadata: { name: never-ready, namespace: llm-d-vllm }
spec:
  containers:
    - name: pause
      image: registry.k8s.io/pause:3.9
      readinessProbe: { httpGet: { path: /, port: 8000 }, periodSeconds: 1 }
`,
    );
    fs.writeFileSync(path.join(dir, 'ns.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: { name: llm-d-vllm }\n');
    const suiteFile = path.join(dir, 'never-ready.suite.yaml');
    fs.writeFileSync(
      suiteFile,
      `apiVersion: pd-harness.dev/v1
kind: Suite
metadata: { name: never-ready, tags: [conformance] }
spec:
  target: { namespaces: [llm-d-vllm] }
  deploy: [ns.yaml, never-ready.yaml]
  timeouts: { deploy: 10m }
`,
    );
    const res = await execa(
      'node',
      ['bin/pd-harness.js', 'run', suiteFile, '--timeout', 'deploy=3s', '--output', path.join(dir, 'out'), '--allow-outside', dir],
      {
        reject: false,
        env: {
          ALLURE_RESULTS_DIR: path.join(dir, 'allure-results'),
          PD_HARNESS_JUNIT_FILE: path.join(dir, 'reports', 'junit.xml'),
          PD_HARNESS_CONFORMANCE_REPORT: path.join(dir, 'reports', 'conformance-report.yaml'),
          PD_HARNESS_SUITE: '',
          PD_HARNESS_KUBECONFIG: '',
          PD_HARNESS_TIMEOUTS: '',
        },
      },
    );
    const stopped = res.stderr.split('\n').filter((l) => l.startsWith('pd-harness: never-ready: stopped:'));
    expect(stopped, res.stderr + res.stdout).toHaveLength(1);
    expect(stopped[0]).toMatch(
      /^pd-harness: never-ready: stopped: timed out after 3s \(timeout deploy\) waiting for pod\/never-ready in llm-d-vllm Ready; last state: /,
    );
    expect(res.exitCode).toBe(1);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
