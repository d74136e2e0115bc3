import { expect, test } from '@playwright/test';
import { realisticLogOptions, SEED_PIPELINE } from '../../bench/epp-analyzer.ts';
import { testTimings } from '../../bench/first-verdict.ts';
import {
  countDiff,
  deltas,
  parseStatCpuTicks,
  parseTimeVCpuSeconds,
  parseTimeVMaxRss,
  parseUniqCounts,
  parseVmRss,
  percentile,
} from '../../bench/parse.ts';
import { generateEppLog } from '../helpers/epp-log-gen.ts';

test('nearest-rank percentiles', () => {
  const xs = [5, 1, 4, 2, 3, 6, 7, 8, 9, 10];
  expect(percentile(xs, 50)).toBe(5);
  expect(percentile(xs, 99)).toBe(10);
  expect(percentile(xs, 0)).toBe(1);
  expect(percentile([], 50)).toBeNaN();
});

test('GNU time -v, uniq -c and /proc status parsers', () => {
  expect(parseTimeVMaxRss('\tElapsed (wall clock) time: 0:01.5\n\tMaximum resident set size (kbytes): 84100\n')).toBe(84100 * 1024);
  expect(parseTimeVMaxRss('nothing')).toBeUndefined();
  expect(parseUniqCounts('  25080 llm-d-vllm/a-rank-0\n     7 b\n\n')).toEqual({ 'llm-d-vllm/a-rank-0': 25080, b: 7 });
  expect(parseVmRss('Name:\tnode\nVmRSS:\t   81234 kB\nVmData: 1 kB\n')).toBe(81234 * 1024);
  expect(parseVmRss('Name:\tkthreadd\n')).toBeUndefined();
  expect(countDiff({ a: 1, b: 2 }, { a: 1, b: 3, c: 1 })).toEqual(['b: 2 vs 3', 'c: 0 vs 1']);
});

test('generated bench logs have the asked size and about 5% decisions', () => {
  const { lines, expected } = generateEppLog(realisticLogOptions(20_000));
  expect(lines).toHaveLength(20_000);
  expect(expected.decisions).toBe(1000);
  expect(lines.filter((l) => l.includes('"msg":"Scoring decision"'))).toHaveLength(1000);
});

test('the seed pipeline is written without the \\" escape ripgrep 13 rejects', () => {
  expect(SEED_PIPELINE).not.toContain('\\"');
  expect(SEED_PIPELINE).toContain(`rg -o 'selected":\\[[^]]+\\]'`);
});

test('Playwright JSON report: tests, status and top-level steps with fixture steps unfolded', () => {
  const report = {
    suites: [
      {
        suites: [
          {
            specs: [
              {
                title: 'proxy-performance',
                tests: [
                  {
                    results: [
                      {
                        status: 'passed',
                        startTime: '2026-01-01T00:00:10.000Z',
                        duration: 41000,
                        steps: [
                          { title: 'Before Hooks', duration: 15000, steps: [{ title: 'fixture: target', duration: 14000 }] },
                          { title: 'deploy 7 manifest(s)', duration: 20000 },
                        ],
                      },
                    ],
                  },
                ],
              },
            ],
          },
        ],
      },
    ],
  };
  expect(testTimings(report)).toEqual([
    {
      title: 'proxy-performance',
      status: 'passed',
      durationMs: 41000,
      endMs: Date.parse('2026-01-01T00:00:51.000Z'),
      steps: [
        { title: 'Before Hooks > fixture: target', durationMs: 14000 },
        { title: 'deploy 7 manifest(s)', durationMs: 20000 },
      ],
    },
  ]);
  const failed = testTimings({
    suites: [
      {
        specs: [
          {
            title: 'ab',
            tests: [
              { results: [{ status: 'failed', duration: 5, error: { message: '\u001b[31mError: 3 of 20 not 200\u001b[39m\n  at x' } }] },
            ],
          },
        ],
      },
    ],
  });
  expect(failed[0]?.error).toBe('Error: 3 of 20 not 200');
  expect(failed[0]?.endMs).toBeUndefined();
});

test('GNU time -v CPU seconds are user + system', () => {
  expect(parseTimeVCpuSeconds('\tUser time (seconds): 1.64\n\tSystem time (seconds): 0.56\n')).toBeCloseTo(2.2);
  expect(parseTimeVCpuSeconds('\tUser time (seconds): 1.64\n')).toBeUndefined();
});

test('/proc stat CPU ticks and per-key deltas', () => {
  const stat = '4242 (node (tsx) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 11 0 12345 1000 200';
  expect(parseStatCpuTicks(stat)).toBe(325);
  expect(parseStatCpuTicks('garbage')).toBeUndefined();
  expect(deltas({ a: 1, b: 2 }, { a: 3, b: 2, c: 5 })).toEqual({ a: 2, b: 0, c: 5 });
});
