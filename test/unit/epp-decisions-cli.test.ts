import { expect, test } from '@playwright/test';
import { execa } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asDecisionCounts, generateEppLog, writeEppLog, type EppLogOptions } from '../helpers/epp-log-gen.ts';

const CLI = 'bin/pd-harness.js';
let dir = '';

test.beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'pd-epp-cli-'));
});
test.afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const NOISY: EppLogOptions = {
  seed: 3,
  decisions: 300,
  otherJson: 80,
  nonJson: 40,
  blank: 5,
  decoyDecisions: 8,
  exhausted: 4,
  profileFailed: 3,
  bothFailures: 1,
  multiSelectEvery: 11,
  prefix: 'mixed',
};

test('--json on a file prints exactly the six keys with the exact counts', async () => {
  const file = join(dir, 'noisy.log');
  const expected = await writeEppLog(file, NOISY);
  const res = await execa(process.execPath, [CLI, 'epp-decisions', file, '--json'], { reject: false });
  expect(res.exitCode).toBe(0);
  const parsed = JSON.parse(res.stdout) as Record<string, unknown>;
  expect(Object.keys(parsed)).toEqual(['decisions', 'byEndpoint', 'byWorkload', 'failures', 'skippedLines', 'source']);
  expect(parsed).toEqual(asDecisionCounts(expected));
});

test('reads stdin when FILE is - or absent, and prints a table', async () => {
  const { lines, expected } = generateEppLog({ ...NOISY, seed: 4 });
  const input = `${lines.join('\n')}\n`;
  const dash = await execa(process.execPath, [CLI, 'epp-decisions', '-', '--json'], { input, reject: false });
  expect(JSON.parse(dash.stdout)).toEqual(asDecisionCounts(expected));
  const table = await execa(process.execPath, [CLI, 'epp-decisions'], { input, reject: false });
  expect(table.exitCode).toBe(0);
  const p2p = expected.byWorkload['vllm-p2p-proxy'] ?? 0;
  expect(table.stdout).toMatch(new RegExp(`^vllm-p2p-proxy +${p2p} +\\d+\\.\\d%$`, 'm'));
  expect(table.stdout).toMatch(new RegExp(`^InferencePoolResourceExhausted +${expected.failures.InferencePoolResourceExhausted}$`, 'm'));
});

test('a CRLF log with multi-byte text and no final newline gives the exact counts', async () => {
  const file = join(dir, 'crlf.log');
  const { lines, expected } = generateEppLog({ ...NOISY, seed: 8 });
  const extra = ['I1125 café — 日本語 😀 sidecar line', '😀 a Scoring decision in plain text'];
  writeFileSync(file, [...extra, ...lines].join('\r\n'));
  const res = await execa(process.execPath, [CLI, 'epp-decisions', file, '--json'], { reject: false });
  expect(res.exitCode, res.stderr).toBe(0);
  expect(JSON.parse(res.stdout)).toEqual(asDecisionCounts({ ...expected, skippedLines: expected.skippedLines + extra.length }));
});

test('--since-ts accepts epoch seconds and ISO dates', async () => {
  const file = join(dir, 'two-runs.log');
  const old = generateEppLog({ ...NOISY, seed: 5, prefix: 'timestamps', startTs: 1732400000 });
  const recent = generateEppLog({ ...NOISY, seed: 6, prefix: 'timestamps', startTs: 1732500000 });
  writeFileSync(file, `${[...old.lines, ...recent.lines].join('\n')}\n`);
  for (const since of ['1732450000', new Date(1732450000 * 1000).toISOString()]) {
    const res = await execa(process.execPath, [CLI, 'epp-decisions', file, '--json', '--since-ts', since], { reject: false });
    expect(res.exitCode).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual(asDecisionCounts(recent.expected));
  }
  const bad = await execa(process.execPath, [CLI, 'epp-decisions', file, '--since-ts', 'yesterday'], { reject: false });
  expect(bad.exitCode).toBe(2);
  expect(bad.stderr.trim().split('\n')).toHaveLength(1);
});

test('a missing file is one line on stderr and exit 2', async () => {
  const res = await execa(process.execPath, [CLI, 'epp-decisions', join(dir, 'nope.log')], { reject: false });
  expect(res.exitCode).toBe(2);
  expect(res.stderr.trim()).toBe(`pd-harness: no such file: ${join(dir, 'nope.log')}`);
  expect(res.stdout).toBe('');
});

/** Runs the CLI under a preload that prints the process's peak RSS (KiB) on exit. */
async function cliPeakRss(file: string, extraNodeFlags: string[] = []): Promise<{ counts: unknown; maxRssKiB: number }> {
  const preload = join(dir, 'maxrss.mjs');
  writeFileSync(preload, "process.on('exit', () => process.stderr.write(`MAXRSS ${process.resourceUsage().maxRSS}\\n`));\n");
  // run node with the V8 flags of the bin's shebang (`#!/usr/bin/env -S node FLAGS`), as `npx pd-harness` does
  const nodeFlags = (readFileSync(CLI, 'utf8').split('\n')[0] ?? '')
    .replace(/^#!.*?\bnode\b/, '')
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  const res = await execa(process.execPath, [...nodeFlags, ...extraNodeFlags, '--import', preload, CLI, 'epp-decisions', file, '--json'], {
    reject: false,
  });
  expect(res.exitCode, res.stderr.slice(-1000)).toBe(0);
  const m = /MAXRSS (\d+)/.exec(res.stderr);
  expect(m).not.toBeNull();
  return { counts: JSON.parse(res.stdout), maxRssKiB: Number(m?.[1]) };
}

test('memory stays flat: 1,000,000 lines peak at about the same RSS as 100,000', async () => {
  test.setTimeout(240_000);
  // Mostly short noise lines keep the 1M-line file near 150 MB; the shape is the same for both sizes.
  const shape = (total: number): EppLogOptions => ({
    seed: 9,
    decisions: total * 0.1,
    // one breakdown line per decision + one profile line
    otherJson: total * 0.4 - 1,
    nonJson: total * 0.35,
    decoyDecisions: total * 0.01,
    exhausted: total * 0.02,
    profileFailed: total * 0.02,
    multiSelectEvery: 13,
    prefix: 'mixed',
  });
  const small = join(dir, 'small.log');
  const large = join(dir, 'large.log');
  const smallExpected = await writeEppLog(small, shape(100_000));
  const smallRun = await cliPeakRss(small);
  rmSync(small);
  const largeExpected = await writeEppLog(large, shape(1_000_000));
  expect(largeExpected.totalLines).toBe(1_000_000);
  // A JS heap far smaller than the file: an analyzer that held the file (or its lines) in memory dies here.
  // Without the cap V8 grows its old space lazily when it has room (CI once saw 104 MB at 100k, 172 MB at 1M).
  const largeRun = await cliPeakRss(large, ['--max-old-space-size=64']);
  rmSync(large);
  expect(smallRun.counts).toEqual(asDecisionCounts(smallExpected));
  expect(largeRun.counts).toEqual(asDecisionCounts(largeExpected));
  test.info().annotations.push({ type: 'peak RSS KiB', description: `100k: ${smallRun.maxRssKiB}, 1M: ${largeRun.maxRssKiB}` });
  // The large file is ~10x the small one (~150 MB); buffering it would add at least its size to the peak.
  expect(largeRun.maxRssKiB).toBeLessThan(smallRun.maxRssKiB + 64 * 1024);
});

test('--threads: a bad count is one line and exit 2; any good count gives the same counts', async () => {
  const file = join(dir, 'threads.log');
  const expected = await writeEppLog(file, { ...NOISY, seed: 12 });
  for (const bad of ['0', '1.5', 'two']) {
    const res = await execa(process.execPath, [CLI, 'epp-decisions', file, '--threads', bad], { reject: false });
    expect(res.exitCode).toBe(2);
    expect(res.stderr.trim()).toBe(`pd-harness: --threads: '${bad}' is not a whole number from 1 to 64`);
  }
  for (const threads of ['1', '3']) {
    const res = await execa(process.execPath, [CLI, 'epp-decisions', file, '--json', '--threads', threads], { reject: false });
    expect(JSON.parse(res.stdout)).toEqual(asDecisionCounts(expected));
  }
});

test('a log large enough for worker threads: the bin starts them (next to the bundle it runs) and the counts are exact', async () => {
  test.setTimeout(120_000);
  const file = join(dir, 'parallel.log');
  // over PARALLEL_MIN_BYTES (32 MiB) of realistic lines: several blocks for the threads to share
  const expected = await writeEppLog(file, { ...NOISY, seed: 21, decisions: 12_000, otherJson: 140_000, nonJson: 40_000 });
  for (const threads of ['2', '1']) {
    const res = await execa(process.execPath, [CLI, 'epp-decisions', file, '--json', '--threads', threads], { reject: false });
    expect(res.exitCode, res.stderr).toBe(0);
    expect(res.stderr).toBe('');
    expect(JSON.parse(res.stdout)).toEqual(asDecisionCounts(expected));
  }
  rmSync(file);
});
