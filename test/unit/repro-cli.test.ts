import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import { resolve } from 'node:path';
import { parseSeed, reproEnv } from '../../cli/repro-cli.ts';
import { UserError } from '../../cli/errors.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const BIN = resolve(ROOT, 'bin/pd-harness.js');
const SUITE = 'suites/repro-decode-index-error.suite.yaml';

function cli(...args: string[]) {
  return execa(process.execPath, [BIN, ...args], { cwd: ROOT, reject: false, timeout: 60_000 });
}

test('parseSeed takes integers only', () => {
  expect(parseSeed(undefined)).toBeUndefined();
  expect(parseSeed('42')).toBe(42);
  expect(parseSeed('-3')).toBe(-3);
  expect(() => parseSeed('1.5')).toThrow(UserError);
  expect(() => parseSeed('abc')).toThrow(/--seed must be an integer, got "abc"/);
});

test('the repro project gets the suite, cell, seed and output directory as absolute env', () => {
  expect(reproEnv(SUITE, { cell: 'p2p-c4-p64-t35s', seed: 7, out: 'reports/repro' })).toEqual({
    PD_HARNESS_SUITE: resolve(SUITE),
    PD_HARNESS_REPRO_OUT: resolve('reports/repro'),
    PD_HARNESS_REPRO_CELL: 'p2p-c4-p64-t35s',
    PD_HARNESS_REPRO_SEED: '7',
  });
  expect(Object.keys(reproEnv(SUITE, { out: 'x' })).sort()).toEqual(['PD_HARNESS_REPRO_OUT', 'PD_HARNESS_SUITE']);
});

test('--list prints the cells of the matrix', async () => {
  const r = await cli('repro', SUITE, '--list');
  expect(r.exitCode).toBe(0);
  expect(r.stdout.trim().split('\n')).toEqual([
    'p2p-c4-p64-t300ms',
    'p2p-c4-p64-t35s',
    'p2p-c4-p1500-t300ms',
    'p2p-c4-p1500-t35s',
    'fs-c4-p64-t300ms',
    'fs-c4-p64-t35s',
    'fs-c4-p1500-t300ms',
    'fs-c4-p1500-t35s',
  ]);
});

test('bad arguments fail before anything runs, with one line and exit 2', async () => {
  for (const [args, message] of [
    [['repro', SUITE, '--cell', 'p2p-c9-p1-t1s'], /^pd-harness: no cell "p2p-c9-p1-t1s" in the matrix \(cells: p2p-c4-p64-t300ms, /],
    [['repro', 'suites/proxy-performance.suite.yaml'], /^pd-harness: suites\/proxy-performance\.suite\.yaml has no spec\.repro matrix/],
    [['repro', 'no-such.suite.yaml'], /^pd-harness: suite file not found: no-such\.suite\.yaml$/],
    [['repro', SUITE, '--seed', 'x'], /^pd-harness: --seed must be an integer/],
  ] as const) {
    const r = await cli(...args);
    expect(r.exitCode, args.join(' ')).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
    expect(r.stderr).not.toContain('    at ');
  }
});
