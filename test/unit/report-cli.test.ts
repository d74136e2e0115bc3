import { expect, test } from '@playwright/test';
import { execa } from 'execa';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { carryHistory, checkJava, JAVA_MISSING } from '../../cli/report-cli.ts';
import { UserError } from '../../cli/errors.ts';

const CLI = resolve('bin/pd-harness.js');

let dir = '';
test.beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'pd-report-cli-'));
});
test.afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function resultsWithOneResult(): string {
  const results = join(dir, 'allure-results');
  mkdirSync(results, { recursive: true });
  writeFileSync(
    join(results, '0000-result.json'),
    JSON.stringify({ uuid: '0000', name: 'proxy-performance', status: 'passed', start: 1, stop: 2 }),
  );
  return results;
}

test('without Java on PATH, `pd-harness report` prints one line and exits 2', async () => {
  const results = resultsWithOneResult();
  const emptyBin = join(dir, 'bin');
  mkdirSync(emptyBin);
  const env = { PATH: emptyBin, HOME: dir };
  const res = await execa(process.execPath, [CLI, 'report', '--results', results, '--out', join(dir, 'report')], {
    env,
    extendEnv: false,
    reject: false,
    timeout: 60_000,
  });
  expect(res.exitCode).toBe(2);
  expect(res.stderr.trim()).toBe(`pd-harness: ${JAVA_MISSING}`);
  expect(res.stdout).toBe('');
});

test('a JAVA_HOME without java is the same one-line error', async () => {
  await expect(checkJava({ PATH: join(dir, 'none'), JAVA_HOME: join(dir, 'no-jre') })).rejects.toThrow(new UserError(JAVA_MISSING));
});

test('no results: one line that says to run the tests first', async () => {
  const res = await execa(process.execPath, [CLI, 'report', '--results', join(dir, 'nothing'), '--out', join(dir, 'report')], {
    reject: false,
    timeout: 60_000,
  });
  expect(res.exitCode).toBe(2);
  expect(res.stderr.trim().split('\n')).toHaveLength(1);
  expect(res.stderr).toContain('no Allure results in');
  expect(res.stderr).toContain('run the tests first');
});

test('history files of the previous report are copied into the results', () => {
  const results = resultsWithOneResult();
  expect(carryHistory(join(dir, 'no-report'), results)).toBe(0);
  const prev = join(dir, 'prev-report', 'history');
  mkdirSync(prev, { recursive: true });
  writeFileSync(join(prev, 'history-trend.json'), '[{"buildOrder":1,"data":{"passed":1}}]');
  writeFileSync(join(prev, 'history.json'), '{}');
  expect(carryHistory(join(dir, 'prev-report'), results)).toBe(2);
  expect(readdirSync(join(results, 'history')).sort()).toEqual(['history-trend.json', 'history.json']);
  expect(readFileSync(join(results, 'history', 'history-trend.json'), 'utf8')).toContain('"buildOrder":1');
});

test('report --out on a non-empty directory pd-harness did not write: one line, exit 2, nothing deleted; --force or the marker allow it', async () => {
  const results = resultsWithOneResult();
  const foreign = join(dir, 'my-documents');
  mkdirSync(join(foreign, 'sub'), { recursive: true });
  writeFileSync(join(foreign, 'thesis.txt'), 'years of work');
  writeFileSync(join(foreign, 'sub', 'notes.md'), 'more');
  const res = await execa(process.execPath, [CLI, 'report', '--results', results, '--out', foreign], { reject: false, timeout: 60_000 });
  expect(res.exitCode).toBe(2);
  expect(res.stderr.trim()).toBe(`pd-harness: --out ${foreign} is not empty and was not written by pd-harness; use --force`);
  expect(readFileSync(join(foreign, 'thesis.txt'), 'utf8')).toBe('years of work');
  expect(readdirSync(foreign).sort()).toEqual(['sub', 'thesis.txt']);
  // pure check: a marked directory, an empty one, a missing one and --force pass
  const { checkOutputDir, markOutputDir } = await import('../../common/output-dir.ts');
  expect(() => checkOutputDir(foreign, '--out', { force: true })).not.toThrow();
  expect(() => checkOutputDir(join(dir, 'missing'), '--out')).not.toThrow();
  mkdirSync(join(dir, 'empty'));
  expect(() => checkOutputDir(join(dir, 'empty'), '--out')).not.toThrow();
  markOutputDir(foreign);
  expect(() => checkOutputDir(foreign, '--out')).not.toThrow();
});

test('report --out equal to or containing --results is refused before anything runs', async () => {
  const results = resultsWithOneResult();
  for (const out of [results, dir, join(results, '.')]) {
    const res = await execa(process.execPath, [CLI, 'report', '--results', results, '--out', out, '--force'], {
      reject: false,
      timeout: 60_000,
    });
    expect(res.exitCode).toBe(2);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/--out .* (is|contains) --results .*: the report would delete the results; pick another --out/);
    expect(readdirSync(results)).toContain('0000-result.json');
  }
});

test('run --output on a foreign non-empty directory is refused before Playwright could wipe it', async () => {
  const foreign = join(dir, 'keep');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'precious.txt'), 'x');
  const res = await execa(process.execPath, [CLI, 'run', 'suites/proxy-performance.suite.yaml', '--output', foreign], {
    reject: false,
    timeout: 60_000,
  });
  expect(res.exitCode).toBe(2);
  expect(res.stderr.trim()).toBe(`pd-harness: --output ${foreign} is not empty and was not written by pd-harness; use --force`);
  expect(readdirSync(foreign)).toEqual(['precious.txt']);
});
