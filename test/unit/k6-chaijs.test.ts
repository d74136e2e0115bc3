import { expect, test } from '@playwright/test';
import * as path from 'node:path';
import { UserError } from '../../cli/errors.ts';
import { runK6ScriptReport, type K6RunReport } from '../../load/k6-runtime/run.ts';
import { runAgainstCorpusServer, startCorpusServer } from './k6-corpus-server.ts';

/*
 * The k6chaijs jslib carried by the built-in k6 runtime (load/k6-runtime/shims/k6chaijs-core.ts), on scripts of
 * our own (test/fixtures/k6/chaijs) against the loopback corpus server. Each expected value says where in
 * grafana/k6-jslib-k6chaijs (src/*.ts, HEAD; the published builds in grafana/jslib.k6.io lib/k6chaijs/<v>/index.js)
 * and chai 4's messages (chai lib/chai/core/assertions.js) it comes from.
 */

const dir = path.resolve(import.meta.dirname, '../fixtures/k6/chaijs');

const run = (file: string) => runAgainstCorpusServer(path.join(dir, file));

/** Each check sample as `group | name | pass`, in order. */
function checkRows(r: K6RunReport): string[] {
  const series = r.metrics.series.get('checks');
  return (series?.values ?? []).map((v, i) => `${series?.tags[i]?.['group']} | ${series?.tags[i]?.['check']} | ${v ? 'pass' : 'fail'}`);
}

test('describe/expect: each assertion is a check named by its label; describe catches and returns a boolean', async () => {
  const { r, s, logs } = await run('describe-expect.js');
  // per iteration (assert.ts createTestName: label or ${this}, #{exp} rendered, "but " dropped):
  const one = [
    '::Fetch crocs | expected response status to equal 200 | pass',
    // matchers.ts validJsonBody: chai.assert(ok, 'has valid json body', ...)
    '::Fetch crocs | has valid json body | pass',
    '::Fetch crocs | expected Number of crocs to be above 3 | pass',
    // chai within: 'expected #{this} to be within ' + start + '..' + finish; no label → ${this}
    '::Dummy example | expected ${this} to be within 8..12 | pass',
    // the failing assertion throws AssertionError: describe.ts ends the block (the next expect never runs)
    '::Dummy example | expected ${this} to equal 44 | fail',
    // exceptions.ts handleUnexpectedException: a failed check named after the error
    '::Throws | Exception raised "Error: boom" | fail',
  ];
  expect(checkRows(r)).toEqual([...one, ...one]);
  // describe returns true when fn returned, false when it threw (describe.ts)
  expect(logs.filter((l) => l.startsWith('INFO describe results'))).toEqual([
    'INFO describe results: true false false source=console',
    'INFO describe results: true false false source=console',
  ]);
  expect(logs.filter((l) => l.startsWith('ERRO Exception raised in test "Throws". Failing the test and continuing.'))).toHaveLength(2);
  // describe swallows both: the iterations complete without an error
  expect(r.iterations.complete).toBe(2);
  expect(r.errors).toEqual([]);
  expect(s.count('/crocodiles/')).toBe(2);
  expect(s.count('/get')).toBe(2);
  // describe is k6's group: group_duration per describe, tagged with the group path
  const groups = r.metrics.series.get('group_duration')?.tags.map((t) => t['group']);
  expect(groups).toEqual(['::Fetch crocs', '::Dummy example', '::Throws', '::Fetch crocs', '::Dummy example', '::Throws']);
});

test('chai.config: aggregateChecks false names checks with their values, logFailures warns, an expect outside describe fails the iteration', async () => {
  const { r, logs } = await run('config-options.js');
  expect(checkRows(r)).toEqual([
    // assert.ts createExpectationText: "label: " + the message with #{this}/#{exp}/#{act} rendered; chai's
    // property(name, value) asserts twice (the property exists, then its value): two checks
    "::values in names | payload: expected { a: 1 } to have property 'a' | pass",
    "::values in names | payload: expected { a: 1 } to have property 'a' of 1, got 1 | pass",
    // matchers.ts anonymize: #{this} → <anonymized> before the values are rendered
    "::values in names | expected <anonymized> to equal 'secret-token' | pass",
    '::values in names | expected 5 to be a number | pass',
    // chai's lengthOf first asserts property('length') on a new Assertion with the same label
    "::values in names | list: expected [ 1, 2 ] to have property 'length' | pass",
    '::values in names | list: expected [ 1, 2 ] to have a length of 3 got 2 | fail',
    ' | outside: expected 1 to equal 2 | fail',
  ]);
  // config.logFailures: console.warn(message) before the AssertionError
  expect(logs.filter((l) => l.startsWith('WARN '))).toEqual([
    'WARN list: expected [ 1, 2 ] to have a length of 3 got 2 source=console',
    'WARN outside: expected 1 to equal 2 source=console',
  ]);
  // outside describe nothing catches the AssertionError: the iteration fails with it (and still counts)
  expect(r.iterations.complete).toBe(1);
  expect(r.errors.map((e) => `${e.message} ×${e.count}`)).toEqual(['AssertionError: outside: expected 1 to equal 2 ×1']);
});

test('config.exitOnError (4.5.0.1) aborts the test at the first failed assertion, also inside describe', async () => {
  const { r } = await run('exit-on-error.js');
  // assert.ts: exec.test.abort(message), message without the label when checks are aggregated — an interrupt
  // no catch sees (k6 execution.go: rt.Interrupt), so describe does not swallow it
  expect(r.abort).toEqual({ kind: 'script', message: 'Error: test aborted: expected 401 to equal 200' });
  expect(r.iterations.complete).toBe(1);
  expect(checkRows(r)).toEqual(['::status | expected response status to equal 200 | fail']);
});

test('k6chaijs 4.3.4.2 ignores exitOnError and tags each check with this/actual/expected', async () => {
  const { r } = await run('exit-on-error-old.js');
  expect(r.abort).toBeUndefined();
  expect(r.iterations.complete).toBe(3);
  expect(r.errors).toEqual([]);
  expect(checkRows(r)).toEqual(Array(3).fill('::status | expected response status to equal 200 | fail'));
  // jslib.k6.io lib/k6chaijs/4.3.4.2/index.js: check(null, {...}, { this, actual, expected }), values rendered
  // by chai's objDisplay; equal() passes this._obj as the actual
  const tags = r.metrics.series.get('checks')?.tags[0];
  expect({ this: tags?.['this'], actual: tags?.['actual'], expected: tags?.['expected'] }).toEqual({
    this: '401',
    actual: '401',
    expected: '200',
  });
});

test('k6chaijs before 4.3.4.2 is refused before any request', async () => {
  const s = await startCorpusServer();
  try {
    const err = await runK6ScriptReport({ script: path.join(dir, 'too-old.js'), env: { BASE_URL: s.url }, log: () => {} }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(2);
    expect((err as UserError).message).toMatch(
      /unsupported import 'https:\/\/jslib\.k6\.io\/k6chaijs\/4\.3\.4\.1\/index\.js': jslib module/,
    );
    expect(s.seen).toHaveLength(0);
  } finally {
    await s.close();
  }
});
