import { expect, test } from '@playwright/test';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  formatProblem,
  listSuiteFiles,
  loadSuite,
  SuiteValidationError,
  validateSuiteFile,
  validateSuiteText,
  type SuiteProblem,
} from '../../suites/loader.ts';

const FIXTURES = 'test/fixtures/suites';
const fixture = (name: string) => path.join(FIXTURES, name);

/** A minimal valid suite; tests splice their lines into it. */
const BASE = `apiVersion: pd-harness.dev/v1
kind: Suite
metadata:
  name: base
spec:
  target:
    namespaces: [llm-d-vllm, llm-d-inference-scheduler]
`;

function lines(problems: SuiteProblem[]): string[] {
  return problems.map(formatProblem);
}

/** Validates text as a file in a temp dir (so path checks have a directory of their own). */
function check(text: string, extraFiles: Record<string, string> = {}): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'suite-loader-'));
  try {
    for (const [rel, content] of Object.entries(extraFiles)) {
      fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
      fs.writeFileSync(path.join(dir, rel), content);
    }
    const file = path.join(dir, 't.suite.yaml');
    fs.writeFileSync(file, text);
    return lines(validateSuiteFile(file).problems).map((l) => l.replace(`${file}:`, 'T:'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('a minimal suite is valid and gets its defaults', () => {
  expect(check(BASE)).toEqual([]);
  const r = validateSuiteText(path.join(os.tmpdir(), 'x.suite.yaml'), BASE);
  expect(r).toEqual({ ok: true, problems: [] });
});

test('unknown key: at the key, with a did-you-mean for a near miss', () => {
  const text = `${BASE}  load:
    requests: 60
    concurency: 12
`;
  expect(check(text)).toEqual(['T:10:5: unknown key "concurency" in spec.load (did you mean "concurrency"?)']);
});

test('unknown key far from every known key gets no suggestion; at the top level it says so', () => {
  expect(check(`${BASE}  zzzzzz: 1\n`)).toEqual(['T:8:3: unknown key "zzzzzz" in spec']);
  expect(check(`${BASE}specs: {}\n`)).toEqual(['T:8:1: unknown key "specs" at the top level (did you mean "spec"?)']);
});

test('unknown key in a one-key list item suggests the item kind, and nothing else is reported for it', () => {
  const text = `${BASE}  setup:
    - pach: { ref: schedulerinstall/llm-sched-install, namespace: llm-d-inference-scheduler, merge: {} }
`;
  expect(check(text)).toEqual(['T:9:7: unknown key "pach" in spec.setup[0] (did you mean "patch"?)']);
});

test('wrong type: at the value, saying what was expected and what was found', () => {
  expect(check(lines3('requests: "60"'))).toEqual(['T:9:15: spec.load.requests: expected a number, got the string "60"']);
  expect(check(lines3('requests:\n    concurrency: 2'))).toEqual([
    'T:9:5: spec.load.requests: expected a number, got null (an empty value)',
  ]);
  expect(check(lines3('requests: 6\n    stream: "yes"'))).toEqual([
    'T:10:13: spec.load.stream: expected true or false, got the string "yes"',
  ]);
  expect(check(lines3('requests: 6\n    timeout: 35'))).toEqual([
    'T:10:14: spec.load.timeout: expected a duration like 500ms, 35s, 2m or 1h30m, got the number 35',
  ]);
  expect(check(fs.readFileSync(fixture('wrong-type.suite.yaml'), 'utf8'))).toEqual([
    'T:7:17: spec.target.namespaces: expected a list, got the string "llm-d-vllm"',
    'T:10:18: spec.load.concurrency: must be at most 1000',
    'T:11:13: spec.load.stream: expected true or false, got the string "yes"',
  ]);
});

function lines3(loadBody: string): string {
  return `${BASE}  load:\n    ${loadBody}\n`;
}

test('missing required field: at the parent object', () => {
  const text = `apiVersion: pd-harness.dev/v1
kind: Suite
metadata:
  tags: [conformance]
spec:
  target:
    namespaces: [llm-d-vllm]
  recovery: { maxErrorRate: 0.1 }
`;
  expect(check(text)).toEqual([
    'T:4:3: missing required field "name" in metadata',
    'T:8:13: missing required field "within" in spec.recovery',
  ]);
  expect(check('apiVersion: pd-harness.dev/v1\nkind: Suite\nmetadata: {name: x}\n')).toEqual([
    'T:1:1: missing required field "spec" at the top level',
  ]);
});

test('enum values get a did-you-mean, bounds say the bound', () => {
  expect(check(lines3('requests: 6\n    engine: k7'))).toEqual([
    'T:10:13: spec.load.engine: expected one of "builtin", "k6", "k6-operator", got "k7" (did you mean "k6"?)',
  ]);
  expect(check(lines3('requests: 2000000'))).toEqual(['T:9:15: spec.load.requests: must be at most 1000000']);
  expect(check(lines3('rate: 10\n    duration: 2h'))).toEqual(['T:10:15: spec.load.duration: must be at most 1h']);
});

test('union values: the branch being written is the one reported', () => {
  const text = `${BASE}  load: { requests: 10 }
  faults:
    - podKill: { namespace: llm-d-vllm, selector: role=decode, mode: some }
    - podKill: { namespace: llm-d-vllm, selector: role=decode, mode: { fixed: 0 } }
    - decodeIndexError: { selector: role=decode, trigger: { probability: 2, seed: 1 } }
`;
  expect(check(text)).toEqual([
    'T:10:70: spec.faults[0].podKill.mode: expected one, all, {fixed: N} or {fixedPercent: P}, got "some"',
    'T:11:79: spec.faults[1].podKill.mode.fixed: must be at least 1',
    'T:12:74: spec.faults[2].decodeIndexError.trigger.probability: must be at most 1',
  ]);
});

test('one-key items: none or two keys are errors at the item', () => {
  const text = `${BASE}  criteria:
    - {}
    - { routeBackend: InferencePool, noSchedulingFailures: {} }
`;
  expect(check(text)).toEqual([
    'T:9:7: spec.criteria[0]: expected one of routeBackend, eppProfile, responses, proxiesChosen, noSchedulingFailures, expectRejection, kvTransfer, recovery, variantRouting, pickSkew in each criterion',
    'T:10:7: spec.criteria[1]: each criterion takes exactly one of routeBackend, eppProfile, responses, proxiesChosen, noSchedulingFailures, expectRejection, kvTransfer, recovery, variantRouting, pickSkew, found routeBackend and noSchedulingFailures: split it into separate items',
  ]);
});

test('rules across fields: load models, the namespace guard, variant names', () => {
  expect(check(lines3('requests: 5\n    rate: 3'))).toEqual([
    'T:10:11: spec.load.rate: rate (open model) cannot go with requests (closed model): pick one',
  ]);
  expect(check(lines3('concurrency: 4'))).toEqual([
    'T:9:5: spec.load: load needs requests (closed model), rate and duration (open model), or a k6 script',
  ]);
  const guard = `${BASE}  setup:
    - rolloutRestart: { ref: deploy/epp, namespace: kube-system }
`;
  expect(check(guard)).toEqual([
    'T:9:53: spec.setup[0].rolloutRestart.namespace: namespace "kube-system" is outside the target guard (spec.target.namespaces: llm-d-vllm, llm-d-inference-scheduler)',
  ]);
  const variants = `${BASE}  load:
    requests: 4
    variants: [{ name: nvlink, headers: { x-kv-backend: nvlink } }]
  criteria:
    - variantRouting: { nvlink: vllm-p2p-proxy, nvlnk: vllm-fs-proxy }
`;
  expect(check(variants)).toEqual([
    'T:12:56: spec.criteria[0].variantRouting.nvlnk: no variant "nvlnk" in spec.load.variants (have: nvlink)',
  ]);
  expect(check(lines3('requests: 1\n    request: { body: { content: "hi-{{n}}" } }'))).toEqual([
    'T:10:33: spec.load.request.body.content: unknown placeholder "{{n}}": use {{i}} (request number, from 1) or {{variant}}',
  ]);
});

test('manifest paths are relative to the suite file and a missing one is reported at its item', () => {
  const text = `${BASE}  deploy:
    - manifests/app.yaml
    - manifests/
    - manifests/nope.yaml
  setup:
    - apply: { file: other.yaml }
`;
  const files = { 'manifests/app.yaml': 'kind: Namespace\n' };
  expect(check(text, files)).toEqual([
    "T:11:7: manifest not found: manifests/nope.yaml (paths are relative to the suite file's directory)",
    "T:13:22: manifest not found: other.yaml (paths are relative to the suite file's directory)",
  ]);
  expect(check(text.replace('    - manifests/nope.yaml\n', ''), { ...files, 'other.yaml': 'kind: ConfigMap\n' })).toEqual([]);
});

test('YAML syntax errors carry their position; duplicate keys are errors', () => {
  expect(lines(validateSuiteFile(fixture('syntax-error.suite.yaml')).problems)).toEqual([
    'test/fixtures/suites/syntax-error.suite.yaml:6:1: YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]',
  ]);
  expect(lines(validateSuiteFile(fixture('dup-key.suite.yaml')).problems)).toEqual([
    'test/fixtures/suites/dup-key.suite.yaml:5:3: YAML syntax error: Map keys must be unique',
  ]);
  expect(check('a: [1, 2\nb: {\n')[0]).toMatch(/^T:\d+:\d+: YAML syntax error: /);
});

test('empty file, comment-only file, multi-document file, a list, a missing file', () => {
  expect(check('')).toEqual(['T:1:1: empty suite file']);
  expect(lines(validateSuiteFile(fixture('empty.suite.yaml')).problems)).toEqual([
    'test/fixtures/suites/empty.suite.yaml:1:1: empty suite file',
  ]);
  expect(lines(validateSuiteFile(fixture('multi-doc.suite.yaml')).problems)).toEqual([
    'test/fixtures/suites/multi-doc.suite.yaml:3:1: more than one YAML document: put one suite per file',
  ]);
  expect(check('- a\n- b\n')).toEqual(['T:1:1: a suite file holds a mapping with apiVersion, kind, metadata and spec, got a list']);
  expect(lines(validateSuiteFile(fixture('no-such.suite.yaml')).problems)).toEqual([
    'test/fixtures/suites/no-such.suite.yaml:1:1: file not found',
  ]);
});

test('a file with many problems reports each at its own line, in order', () => {
  const got = lines(validateSuiteFile(fixture('bad-mix.suite.yaml')).problems).map((l) =>
    l.replace('test/fixtures/suites/bad-mix.suite.yaml:', ''),
  );
  expect(got).toEqual([
    "4:9: metadata.name: must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit",
    "11:7: manifest not found: manifests/missing.yaml (paths are relative to the suite file's directory)",
    '13:7: unknown key "pach" in spec.setup[0] (did you mean "patch"?)',
    '16:15: spec.load.requests: expected a number, got the string "60"',
    '17:5: unknown key "concurency" in spec.load (did you mean "concurrency"?)',
    '18:14: spec.load.timeout: expected a duration like 500ms, 35s, 2m or 1h30m, got the number 35',
    '19:13: spec.load.engine: expected one of "builtin", "k6", "k6-operator", got "k7" (did you mean "k6"?)',
    '21:72: spec.faults[0].podKill.mode: expected one, all, {fixed: N} or {fixedPercent: P}, got "some"',
    '22:74: spec.faults[1].decodeIndexError.trigger.probability: must be at most 1',
    '23:13: missing required field "within" in spec.recovery',
    '25:33: unknown key "atleast" in spec.criteria[0].responses (did you mean "atLeast"?)',
  ]);
});

test('loadSuite returns parsed values: durations in ms, defaults, absolute paths', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'suite-load-'));
  try {
    fs.mkdirSync(path.join(dir, 'm'));
    fs.writeFileSync(path.join(dir, 'm', 'a.yaml'), 'kind: Namespace\n');
    fs.writeFileSync(path.join(dir, 'run.js'), '// k6\n');
    const file = path.join(dir, 's.suite.yaml');
    fs.writeFileSync(
      file,
      `${BASE}  deploy: [m/a.yaml, m]
  setup:
    - apply: { file: m/a.yaml }
    - rolloutRestart: { ref: deploy/gaie-inference-scheduling-epp, namespace: llm-d-inference-scheduler }
  load: { engine: k6, script: run.js, requests: 10, concurrency: 2, timeout: 1m30s }
  faults:
    - eppRestart: { at: 5s }
  criteria:
    - noSchedulingFailures:
`,
    );
    const { suite, dir: suiteDir } = loadSuite(file);
    expect(suiteDir).toBe(path.resolve(dir));
    expect(suite.spec.deploy).toEqual([path.join(dir, 'm', 'a.yaml'), path.join(dir, 'm')]);
    expect(suite.spec.setup[0]).toEqual({ apply: { file: path.join(dir, 'm', 'a.yaml') } });
    expect(suite.spec.setup[1]).toEqual({
      rolloutRestart: { ref: 'deploy/gaie-inference-scheduling-epp', namespace: 'llm-d-inference-scheduler', timeout: 180_000 },
    });
    expect(suite.spec.load?.script).toBe(path.join(dir, 'run.js'));
    expect(suite.spec.load?.timeout).toBe(90_000);
    expect(suite.spec.load?.request).toEqual({ method: 'POST', path: '/v1/chat/completions', headers: {} });
    expect(suite.spec.faults).toEqual([
      { eppRestart: { how: 'rollout', namespace: 'llm-d-inference-scheduler', ref: 'deploy/gaie-inference-scheduling-epp', at: 5_000 } },
    ]);
    expect(suite.spec.criteria).toEqual([{ noSchedulingFailures: {} }]);
    expect(suite.metadata.tags).toEqual([]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('loadSuite throws SuiteValidationError with one line per problem', () => {
  let caught: unknown;
  try {
    loadSuite(fixture('wrong-type.suite.yaml'));
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(SuiteValidationError);
  const err = caught as SuiteValidationError;
  expect(err.problems).toHaveLength(3);
  expect(err.message.split('\n')[0]).toBe(
    'test/fixtures/suites/wrong-type.suite.yaml:7:17: spec.target.namespaces: expected a list, got the string "llm-d-vllm"',
  );
});

test('the example suites in suites/ are valid, manifests included', () => {
  for (const file of [
    'suites/proxy-performance.suite.yaml',
    'suites/proxy-performance-by-backend.suite.yaml',
    'suites/ab-static-routing.suite.yaml',
  ]) {
    expect(lines(validateSuiteFile(file).problems), file).toEqual([]);
  }
  const seed = loadSuite('suites/proxy-performance.suite.yaml').suite;
  expect(seed.spec.load).toMatchObject({ requests: 60, concurrency: 12, timeout: 35_000 });
  expect(seed.spec.setup[1]).toEqual({
    rolloutRestart: { ref: 'deploy/gaie-inference-scheduling-epp', namespace: 'llm-d-inference-scheduler', timeout: 180_000 },
  });
});

test('listSuiteFiles finds *.suite.yaml files; YAML anchors and merge keys work in suites', () => {
  const files = listSuiteFiles('suites');
  expect(files).toEqual(
    expect.arrayContaining([path.join('suites', 'proxy-performance.suite.yaml'), path.join('suites', 'ab-static-routing.suite.yaml')]),
  );
  expect(files.every((f) => f.endsWith('.suite.yaml'))).toBe(true);
  const text = `${BASE}  load:
    requests: 2
    request:
      body: &body { model: m, max_tokens: 8 }
    variants:
      - name: a
        body: { <<: *body, max_tokens: 1 }
`;
  expect(check(text)).toEqual([]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'suite-merge-'));
  try {
    fs.writeFileSync(path.join(dir, 'm.suite.yaml'), text);
    const { suite } = loadSuite(path.join(dir, 'm.suite.yaml'));
    expect(suite.spec.load?.variants?.[0]?.body).toEqual({ model: 'm', max_tokens: 1 });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  expect(check(text.replace('max_tokens: 1 }', 'max_tokens: 1 }\n        hedaers: {}'))).toEqual([
    'T:15:9: unknown key "hedaers" in spec.load.variants[0] (did you mean "headers"?)',
  ]);
});
