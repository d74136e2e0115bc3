import { expect, test } from '@playwright/test';
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseSummaryExport } from '../../load/k6/summary-export.ts';
import { startCorpusServer, type CorpusServer } from './k6-corpus-server.ts';

// `pd-harness k6 run SCRIPT` with k6's flags and exit codes (k6 errext/exitcodes: 99 thresholds crossed,
// 108 exec.test.abort(); 2 here for a script the runtime refuses).

const corpus = path.resolve(import.meta.dirname, '../fixtures/k6/corpus');
let server: CorpusServer;
let tmp: string;
test.beforeEach(async () => {
  server = await startCorpusServer();
  tmp = mkdtempSync(path.join(os.tmpdir(), 'k6-cli-'));
});
test.afterEach(async () => {
  await server.close();
  rmSync(tmp, { recursive: true, force: true });
});
test.setTimeout(90_000);

const k6run = (...args: string[]) =>
  execa('node', ['bin/pd-harness.js', 'k6', 'run', ...args], { reject: false, env: { PD_HARNESS_DEBUG: '' } });

test('k6 run prints the end-of-test summary, takes -e, --vus/--iterations overrides and writes --summary-export', async () => {
  const out = path.join(tmp, 'summary.json');
  const res = await k6run(
    '-e',
    `BASE_URL=${server.url}`,
    '--vus',
    '2',
    '--iterations',
    '3',
    '--summary-export',
    out,
    path.join(corpus, '01-hello-get.js'),
  );
  expect(res.exitCode).toBe(0);
  // the flags override the script's { vus: 1, iterations: 5 } as k6's do: 3 iterations
  expect(server.count('/get')).toBe(3);
  expect(res.stdout).toContain('✓ status was 200');
  expect(res.stdout).toMatch(/checks\.+: 100\.00% ✓ 3 ✗ 0/);
  expect(res.stdout).toMatch(/iterations\.+: 3 /);
  expect(res.stdout).toMatch(/3 complete and 0 interrupted iterations/);
  const exported = JSON.parse(readFileSync(out, 'utf8')) as { metrics: Record<string, Record<string, number>> };
  expect(exported.metrics['iterations']?.['count']).toBe(3);
  expect(exported.metrics['checks']).toEqual({ passes: 3, fails: 0, value: 1 });
});

test('k6 run exits 99 when a threshold is crossed, naming the metric, and marks it ✗ in the summary', async () => {
  const out = path.join(tmp, 'summary.json');
  const res = await k6run('-e', `BASE_URL=${server.url}`, '--summary-export', out, path.join(corpus, '29-delay-abort-eval.js'));
  expect(res.exitCode).toBe(99);
  expect(res.stderr).toContain("thresholds on metrics 'http_req_failed' have been crossed");
  expect(res.stdout).toMatch(/✗ http_req_failed\.+: 100\.00%/);
  const verdicts = parseSummaryExport(readFileSync(out, 'utf8'), out).thresholds;
  expect(verdicts.map((t) => `${t.metric} ${t.expression} ${t.ok}`).sort()).toEqual([
    'http_req_duration p(99)<20000 true',
    'http_req_failed rate<0.1 false',
  ]);
});

test('k6 run refuses an unsupported script with one line and exit 2, before any request', async () => {
  // k6chaijs 4.3.4.1 is not carried (test/unit/k6-chaijs.test.ts)
  const res = await k6run('-e', `BASE_URL=${server.url}`, path.join(corpus, '../chaijs/too-old.js'));
  expect(res.exitCode).toBe(2);
  expect(res.stderr.trim().split('\n')).toHaveLength(1);
  expect(res.stderr).toContain("unsupported import 'https://jslib.k6.io/k6chaijs/4.3.4.1/index.js': jslib module is not vendored");
  expect(server.seen).toHaveLength(0);
});

test('k6 run: exec.test.abort() exits 108; an iteration error is printed with its script location', async () => {
  const aborted = await k6run('-e', `BASE_URL=${server.url}`, path.join(corpus, '44-test-abort.js'));
  expect(aborted.exitCode).toBe(108);
  expect(server.seen).toHaveLength(3);
  const failing = await k6run('-e', `BASE_URL=${server.url}`, '-q', path.join(corpus, '43-fail-on-check.js'));
  expect(failing.exitCode).toBe(0);
  expect(failing.stderr).toMatch(
    /ERRO Error: unexpected status 401\n\tat default \(file:\/\/.*43-fail-on-check\.js:10:5\)  executor=shared-iterations scenario=default source=stacktrace/,
  );
});

test('k6 run: a missing script or a bad flag is one line, exit 2', async () => {
  const missing = await k6run(path.join(tmp, 'nope.js'));
  expect(missing.exitCode).toBe(2);
  expect(missing.stderr).toContain('no such file');
  const bad = await k6run('--vus', 'many', path.join(corpus, '01-hello-get.js'));
  expect(bad.exitCode).toBe(2);
  expect(bad.stderr).toContain('--vus many: expected a whole number');
});
