import { expect, test } from '@playwright/test';
import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { judgeWrite, protectedNamespaces, targetProblems, writeRefusal, judgeWrites } from '../../chaos/guard.ts';
import { credentialsNamespace, findOnPath, serviceAccountNamespace, staticPreflight } from '../../chaos/preflight.ts';
import { waitSteadyState } from '../../chaos/steady-state.ts';
import { computeWriteSet, type PlannedWrite } from '../../chaos/write-set.ts';
import { readManifests } from '../../cluster/manifests.ts';
import { applyMergePatch, mergePatchBetween } from '../../cluster/patches.ts';
import { parseKindName, parseRef } from '../../cluster/refs.ts';
import { summarizeOutcomes } from '../../cli/run-suite-cli.ts';
import { EXIT, GuardRefusal, TargetError, exitCodeOf } from '../../core/errors.ts';
import { planRun, staticGuardRefusal } from '../../runner/run-plan.ts';
import { loadSuite } from '../../suites/loader.ts';

const target = { namespaces: ['llm-d-vllm', 'llm-d-inference-scheduler'], clusterScoped: ['CustomResourceDefinition/testruns.k6.io'] };
const w = (over: Partial<PlannedWrite>): PlannedWrite => ({
  source: 'spec.deploy[0] (x.yaml)',
  apiVersion: 'v1',
  kind: 'ConfigMap',
  name: 'c',
  namespace: 'llm-d-vllm',
  scope: 'namespaced',
  verbs: ['create'],
  what: 'apply',
  ...over,
});
const HOSTILE = 'test/fixtures/suites/hostile';

test.describe('the guard over every write', () => {
  test('a namespaced object inside the target is allowed; outside it is refused naming the namespace', () => {
    expect(judgeWrite(target, w({})).ok).toBe(true);
    const v = judgeWrite(target, w({ namespace: 'kube-system' }));
    expect(v).toEqual({
      ok: false,
      why: 'namespace kube-system is outside spec.target.namespaces [llm-d-vllm, llm-d-inference-scheduler]',
    });
  });

  test('an object without metadata.namespace is judged in the client default namespace', () => {
    const v = judgeWrite(target, w({ namespace: 'default', defaultedNamespace: true }));
    expect(v.ok).toBe(false);
    expect(v.why).toContain('default (no metadata.namespace');
  });

  test('cluster-scoped kinds are refused unless listed in spec.target.clusterScoped; a target Namespace needs no entry', () => {
    expect(judgeWrite(target, w({ kind: 'ClusterRoleBinding', name: 'x', scope: 'cluster', namespace: undefined })).why).toContain(
      'cluster-scoped ClusterRoleBinding/x is not in spec.target.clusterScoped',
    );
    expect(
      judgeWrite(target, w({ kind: 'CustomResourceDefinition', name: 'testruns.k6.io', scope: 'cluster', namespace: undefined })).ok,
    ).toBe(true);
    expect(
      judgeWrite(target, w({ kind: 'CustomResourceDefinition', name: 'other.k6.io', scope: 'cluster', namespace: undefined })).ok,
    ).toBe(false);
    expect(judgeWrite(target, w({ kind: 'Namespace', name: 'llm-d-vllm', scope: 'cluster', namespace: undefined })).ok).toBe(true);
    expect(judgeWrite(target, w({ kind: 'Namespace', name: 'kube-system', scope: 'cluster', namespace: undefined })).ok).toBe(false);
  });

  test('protected namespaces: kube-*, default unless listed, the credentials namespace; --allow-protected lifts it', () => {
    expect(protectedNamespaces(target)).toEqual(['kube-system', 'kube-public', 'kube-node-lease', 'default']);
    expect(protectedNamespaces({ namespaces: ['default'] })).not.toContain('default');
    expect(protectedNamespaces(target, { credentialsNamespace: 'ops' })).toContain('ops');
    const withOps = { ...target, namespaces: [...target.namespaces, 'ops'] };
    expect(judgeWrite(withOps, w({ namespace: 'ops' }), { credentialsNamespace: 'ops' }).why).toContain(
      'namespace ops is protected: pass --allow-protected',
    );
    expect(judgeWrite(withOps, w({ namespace: 'ops' }), { credentialsNamespace: 'ops', allowProtected: true }).ok).toBe(true);
    expect(judgeWrite({ namespaces: ['default'] }, w({ namespace: 'default' })).ok).toBe(true);
    expect(targetProblems({ namespaces: ['kube-system'] })).toEqual([
      'spec.target.namespaces lists the protected namespace kube-system: remove it, or pass --allow-protected',
    ]);
    expect(targetProblems({ namespaces: ['kube-system'] }, { allowProtected: true })).toEqual([]);
  });

  test('the refusal is one line and counts what it does not show', () => {
    const judged = judgeWrites(
      target,
      [1, 2, 3, 4, 5].map((i) => w({ name: `c${i}`, namespace: 'kube-system' })),
    );
    const line = writeRefusal(target, judged)!;
    expect(line).not.toContain('\n');
    expect(line).toContain('and 2 more');
    expect(writeRefusal(target, judgeWrites(target, [w({})]))).toBeUndefined();
  });

  test('patch refs of cluster-scoped kinds stay cluster-scoped; kind/name allow-list entries take kubectl aliases', () => {
    expect(parseRef('crd/inferencepools.inference.networking.k8s.io', 'llm-d-vllm')).toMatchObject({
      kind: 'CustomResourceDefinition',
      namespaced: false,
    });
    expect(parseRef('crd/x', 'llm-d-vllm').namespace).toBeUndefined();
    expect(parseRef('sts/web', 'ns')).toMatchObject({ kind: 'StatefulSet', namespace: 'ns' });
    expect(parseKindName('crd/testruns.k6.io')).toEqual({ kind: 'CustomResourceDefinition', name: 'testruns.k6.io' });
    expect(parseKindName('ClusterRole/view')).toEqual({ kind: 'ClusterRole', name: 'view' });
  });

  test('the write set covers deploy, setup patches and restarts, faults and the k6-operator objects in the load namespace', () => {
    const { suite } = loadSuite('suites/chaos-decode-kill.suite.yaml');
    const deploy = suite.spec.deploy.map((path) => ({ path, objects: readManifests([path]) }));
    const writes = computeWriteSet({ suite, deploy, applies: new Map(), engine: 'k6-operator' });
    expect(writes.filter((x) => x.kind === 'CustomResourceDefinition')).toHaveLength(7);
    expect(writes.filter((x) => x.source.startsWith('spec.faults'))).toEqual([
      expect.objectContaining({ kind: 'Pod', namespace: 'llm-d-vllm', verbs: ['list', 'delete', 'create'] }),
      expect.objectContaining({ kind: 'Pod' }),
    ]);
    const k6 = writes.filter((x) => x.source === 'spec.load (engine k6-operator)');
    expect(k6.map((x) => `${x.kind} ${x.namespace}`)).toEqual(['ConfigMap llm-d-vllm', 'TestRun llm-d-vllm']);
    const elsewhere = { ...suite, spec: { ...suite.spec, target: { ...suite.spec.target, loadNamespace: 'llm-d-inference-scheduler' } } };
    expect(
      computeWriteSet({ suite: elsewhere, deploy, applies: new Map(), engine: 'k6-operator' })
        .filter((x) => x.kind === 'TestRun')
        .map((x) => x.namespace),
    ).toEqual(['llm-d-inference-scheduler']);
    expect(computeWriteSet({ suite, deploy, applies: new Map(), engine: 'builtin' }).some((x) => x.kind === 'TestRun')).toBe(false);
  });

  test('every seed suite passes the static guard; each hostile suite is refused', async () => {
    for (const f of [
      'proxy-performance',
      'proxy-performance-by-backend',
      'ab-static-routing',
      'chaos-decode-kill',
      'chaos-epp-restart',
      'chaos-proxy-kill',
      'repro-decode-index-error',
    ]) {
      expect(await staticGuardRefusal(loadSuite(`suites/${f}.suite.yaml`)), f).toBeUndefined();
    }
    for (const f of [
      'deploy-into-kube-system',
      'apply-into-kube-system',
      'defaulted-namespace',
      'cluster-scoped-kinds',
      'patch-cluster-scoped',
      'protected-target',
    ]) {
      expect(await staticGuardRefusal(loadSuite(`${HOSTILE}/${f}.suite.yaml`)), f).toMatch(
        /^refused by the target guard, nothing was written: /,
      );
    }
    const plan = await planRun(loadSuite(`${HOSTILE}/cluster-scoped-kinds.suite.yaml`), { twin: true });
    expect(plan.writes.map((x) => `${x.kind}:${x.verdict.ok}`)).toEqual([
      'ConfigMap:true',
      'Namespace:false',
      'ClusterRoleBinding:false',
      'DaemonSet:false',
    ]);
  });

  test('the k6-operator load namespace must be one of the target namespaces', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pdh-guard-'));
    try {
      const file = join(dir, 'x.suite.yaml');
      writeFileSync(
        file,
        'apiVersion: pd-harness.dev/v1\nkind: Suite\nmetadata: { name: x }\nspec:\n  target: { namespaces: [a], loadNamespace: b }\n',
      );
      expect(() => loadSuite(file)).toThrow('namespace "b" is outside the target guard');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test.describe('exit codes and outcomes', () => {
  test('errors carry their exit code and cause', () => {
    const cause = new Error('low level');
    const e = new TargetError('cannot reach', { cause });
    expect(e.exitCode).toBe(EXIT.unreachable);
    expect(e.cause).toBe(cause);
    expect(exitCodeOf(new GuardRefusal('x'))).toBe(4);
    expect(exitCodeOf(new Error('x'))).toBe(1);
  });

  test('one line per criterion; a refusal or unreachable target keeps its own code', () => {
    const s = summarizeOutcomes(
      [
        {
          suite: 's',
          verdicts: [
            { name: 'responses', ok: true, summary: '60/60 200' },
            { name: 'eppProfile', ok: false, summary: 'profile x' },
            { name: 'proxiesChosen', ok: false, summary: 'only one proxy', cause: 'routing' },
          ],
        },
      ],
      1,
    );
    // a failure's typed cause (criteria/verdict.ts) is named on its line, as in the Allure categories
    expect(s.text).toBe(
      'pd-harness: s: criterion responses: pass: 60/60 200\npd-harness: s: criterion eppProfile: FAIL: profile x\n' +
        'pd-harness: s: criterion proxiesChosen: FAIL: only one proxy [cause: routing]\n',
    );
    expect(s.exitCode).toBe(1);
    expect(summarizeOutcomes([{ suite: 's', error: 'refused by the target guard', exitCode: 4 }], 1).exitCode).toBe(4);
    expect(summarizeOutcomes([], 0).exitCode).toBe(0);
  });
});

test.describe('preflight', () => {
  test('engine k6 without k6 on PATH, a missing script, a load that sends nothing: one line each', () => {
    const empty = mkdtempSync(join(tmpdir(), 'pdh-path-'));
    try {
      expect(findOnPath('k6', { PATH: empty })).toBeUndefined();
      expect(findOnPath('node', { PATH: process.execPath.replace(/\/node$/, '') })).toBe(process.execPath);
      const { suite } = loadSuite('test/fixtures/suites/k6-script/k6-script.suite.yaml');
      expect(() => staticPreflight({ suite, engine: 'k6', env: { PATH: empty } })).toThrow(/^engine k6: k6 not found on PATH/);
      expect(() => staticPreflight({ suite, engine: 'builtin', env: { PATH: empty } })).not.toThrow();
      const noScript = loadSuite('suites/proxy-performance.suite.yaml').suite;
      // a suite without a script of its own runs the script compiled from its load; what cannot compile is refused
      expect(() => staticPreflight({ suite: noScript, engine: 'k6-operator' })).not.toThrow();
      const warm = { ...noScript, spec: { ...noScript.spec, load: { ...noScript.spec.load!, warmup: 2 } } };
      expect(() => staticPreflight({ suite: warm, engine: 'k6-operator' })).toThrow(
        /^engine k6-operator: load\.warmup is not compiled to k6 scripts/,
      );
      const tiny = {
        ...noScript,
        spec: { ...noScript.spec, load: { ...noScript.spec.load!, requests: undefined, rate: 0.05, duration: 10_000 } },
      };
      expect(() => staticPreflight({ suite: tiny, engine: 'builtin' })).toThrow('the load sends no request');
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test('the credentials namespace comes from a service-account token claim or the env', () => {
    const jwt = (claims: object) => `x.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
    expect(serviceAccountNamespace(jwt({ 'kubernetes.io': { namespace: 'ops' } }))).toBe('ops');
    expect(serviceAccountNamespace(jwt({ 'kubernetes.io/serviceaccount/namespace': 'legacy' }))).toBe('legacy');
    expect(serviceAccountNamespace('not-a-jwt')).toBeUndefined();
    expect(credentialsNamespace(undefined, { PD_HARNESS_CREDENTIALS_NAMESPACE: 'creds' })).toBe('creds');
  });

  test('pd-harness run --engine k6 with no k6 on PATH: exit 2, one line naming k6, no stack trace', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'pdh-path-'));
    try {
      const r = await execa(
        process.execPath,
        ['bin/pd-harness.js', 'run', 'test/fixtures/suites/k6-script/k6-script.suite.yaml', '--engine', 'k6'],
        { reject: false, env: { PATH: empty } },
      );
      expect(r.exitCode).toBe(2);
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^pd-harness: engine k6: k6 not found on PATH/)]);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test('pd-harness run against an unreachable API server: exit 3, one line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pdh-kc-'));
    try {
      const kc = join(dir, 'kubeconfig');
      writeFileSync(
        kc,
        'apiVersion: v1\nkind: Config\nclusters: [{ name: c, cluster: { server: "https://127.0.0.1:1" } }]\nusers: [{ name: u, user: { token: t } }]\ncontexts: [{ name: x, context: { cluster: c, user: u } }]\ncurrent-context: x\n',
      );
      const r = await execa(
        process.execPath,
        ['bin/pd-harness.js', 'run', 'suites/proxy-performance.suite.yaml', '--kubeconfig', kc, '--gateway', 'http://127.0.0.1:1'],
        { reject: false },
      );
      expect(r.exitCode).toBe(3);
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringContaining('cannot reach the API server at https://127.0.0.1:1')]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('validate refuses a hostile suite with exit 4 and one line; --allow-protected accepts a protected target', async () => {
    const r = await execa(process.execPath, ['bin/pd-harness.js', 'validate', `${HOSTILE}/deploy-into-kube-system.suite.yaml`], {
      reject: false,
    });
    expect(r.exitCode).toBe(4);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('ConfigMap/pdh-hostile -n kube-system: namespace kube-system is outside spec.target.namespaces');
    const p = await execa(process.execPath, ['bin/pd-harness.js', 'validate', `${HOSTILE}/protected-target.suite.yaml`], { reject: false });
    expect(p.exitCode).toBe(4);
    const allowed = await execa(
      process.execPath,
      ['bin/pd-harness.js', 'validate', '--allow-protected', `${HOSTILE}/protected-target.suite.yaml`],
      { reject: false },
    );
    expect(allowed.exitCode).toBe(0);
  });

  test('dry run prints the write set with a verdict per object and honours --engine; a hostile suite exits 4', async () => {
    const ok = await execa(
      process.execPath,
      ['bin/pd-harness.js', 'run', 'test/fixtures/suites/k6-script/k6-script.suite.yaml', '--dry-run', '--engine', 'k6-operator'],
      { reject: false },
    );
    expect(ok.stdout).toContain('engine: k6-operator');
    expect(ok.stdout).toMatch(/ok {6}TestRun\/\* -n llm-d-vllm \[create,get,delete\] from spec\.load \(engine k6-operator\)/);
    const bad = await execa(process.execPath, ['bin/pd-harness.js', 'run', `${HOSTILE}/cluster-scoped-kinds.suite.yaml`, '--dry-run'], {
      reject: false,
    });
    expect(bad.exitCode).toBe(4);
    expect(bad.stdout).toMatch(/REFUSED ClusterRoleBinding\/pdh-hostile-admin \(cluster-scoped\)/);
    expect(bad.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^pd-harness: refused by the target guard, nothing was written: /),
    ]);
  });
});

test('merge patch between two objects: applied to the first gives the second exactly', () => {
  const before = { metadata: { labels: { a: '1', b: '2' } }, spec: { list: [1, 2], keep: 'x', gone: 'y' } };
  const after = { metadata: { labels: { a: '1', c: '3' } }, spec: { list: [1], keep: 'x', added: { deep: true } } };
  expect(applyMergePatch(before, mergePatchBetween(before, after))).toEqual(after);
  expect(applyMergePatch(after, mergePatchBetween(after, before))).toEqual(before);
  expect(mergePatchBetween(before, before)).toEqual({});
});

test('steady state stops waiting when the EPP answers 429 InferencePoolResourceExhausted and fails naming it', async () => {
  let calls = 0;
  const server = createServer((_req, res) => {
    calls++;
    res.writeHead(429, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: 'inference gateway: InferencePoolResourceExhausted - failed to find target pod' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const r = await waitSteadyState([{ probe: { status: 200, timeout: 5000 } } as never], undefined, {
      cluster: undefined as never,
      gatewayUrl: url,
      allowRemote: false,
      deadlineMs: Date.now() + 600_000,
      intervalMs: 10,
    });
    expect(r.heldAtMs).toBeUndefined();
    expect(r.stoppedBecause).toContain('InferencePoolResourceExhausted');
    expect(calls).toBe(3);
    // a probe that expects the rejection is not hopeless
    const expected = await waitSteadyState([{ probe: { status: 429, timeout: 5000 } } as never], undefined, {
      cluster: undefined as never,
      gatewayUrl: url,
      allowRemote: false,
      deadlineMs: Date.now() + 600_000,
      intervalMs: 10,
    });
    expect(expected.heldAtMs).toBeDefined();
  } finally {
    server.close();
  }
});
