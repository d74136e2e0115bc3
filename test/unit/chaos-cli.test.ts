import { expect, test } from '@playwright/test';
import { execa } from 'execa';
import { manifestPods, preflightGuard } from '../../chaos/preflight.ts';
import { formatPlan, planFaults, planProblems } from '../../chaos/plan.ts';
import { readManifests } from '../../cluster/manifests.ts';
import { projectFor, resolveTarget, runEnv } from '../../cli/run-suite-cli.ts';
import { loadSuite } from '../../suites/loader.ts';

test('projectFor picks the Playwright project from tags and faults', () => {
  expect(projectFor(loadSuite('suites/chaos-decode-kill.suite.yaml').suite)).toBe('chaos');
  expect(projectFor(loadSuite('suites/proxy-performance.suite.yaml').suite)).toBe('conformance');
});

test('resolveTarget: twin by default, kubeconfig from the flag or env, one-line errors', () => {
  expect(resolveTarget({}, {})).toEqual({ kind: 'twin' });
  expect(() => resolveTarget({ target: 'kubeconfig' }, {})).toThrow('--target kubeconfig needs --kubeconfig FILE');
  expect(() => resolveTarget({ kubeconfig: '/nonexistent/kc' }, {})).toThrow('kubeconfig not found: /nonexistent/kc');
  expect(() => resolveTarget({ target: 'twin', kubeconfig: 'x' }, {})).toThrow('--kubeconfig goes with --target kubeconfig');
  const t = resolveTarget({ kubeconfig: 'package.json', gateway: 'http://127.0.0.1:1' }, {});
  expect(t).toMatchObject({ kind: 'kubeconfig', gateway: 'http://127.0.0.1:1' });
  expect(runEnv('suites/x.suite.yaml', { engine: 'k6' }, t)).toMatchObject({
    PD_HARNESS_KUBECONFIG: expect.stringMatching(/package\.json$/),
    PD_HARNESS_GATEWAY: 'http://127.0.0.1:1',
    PD_HARNESS_ENGINE: 'k6',
  });
});

test('preflight: the guard over the manifests refuses a fault on pods outside the selectors', () => {
  const { suite } = loadSuite('suites/chaos-decode-kill.suite.yaml');
  const manifests = readManifests(suite.spec.deploy);
  expect(manifestPods(manifests).map((p) => p.name)).toEqual(expect.arrayContaining(['vllm-decode-p2p', 'vllm-p2p-proxy-*']));
  expect(preflightGuard(suite, manifests)).toEqual({ ok: true });
  const narrowed = { ...suite, spec: { ...suite.spec, target: { ...suite.spec.target, selectors: ['role=prefill'] } } };
  const d = preflightGuard(narrowed, manifests);
  expect(d.ok).toBe(false);
  if (!d.ok) expect(d.problems).toHaveLength(2);
});

test('plan without a cluster: faults, triggers and notes; on a real cluster latency is refused', async () => {
  const { suite } = loadSuite('suites/chaos-decode-kill.suite.yaml');
  const plan = await planFaults(undefined, suite, { twin: true });
  const text = formatPlan(suite.metadata.name, plan);
  expect(text).toContain('1. podKill at 2s into the load, in llm-d-vllm: SIGKILL (delete, grace 0): mode one');
  expect(text).toContain('pods now: none match');
  expect(planProblems(plan, { requirePods: true })[0]).toContain('no pod matches app=vllm-p2p-test,role=decode');
  const latency = {
    ...suite,
    spec: { ...suite.spec, faults: [{ latency: { namespace: 'llm-d-vllm', selector: 'role=decode', add: 500 } }] },
  };
  const cluster = await planFaults(undefined, latency, { twin: false });
  expect(planProblems(cluster, { requirePods: false })).toEqual([
    expect.stringContaining("latency faults use the twin simulators' fault endpoint"),
  ]);
});

test('pd-harness run: a missing or invalid suite is one line and exit 2', async () => {
  const missing = await execa(process.execPath, ['bin/pd-harness.js', 'run', 'suites/nope.suite.yaml'], { reject: false });
  expect(missing.exitCode).toBe(2);
  expect(missing.stderr.trim()).toBe('pd-harness: suite file not found: suites/nope.suite.yaml');
  const invalid = await execa(process.execPath, ['bin/pd-harness.js', 'run', 'test/fixtures/suites/wrong-type.suite.yaml', '--dry-run'], {
    reject: false,
  });
  expect(invalid.exitCode).toBe(2);
  expect(invalid.stderr.trim().split('\n')).toHaveLength(1);
  expect(invalid.stderr).toContain('pd-harness: invalid suite: ');
});
