import { expect, test } from '@playwright/test';
import { fmt, formatFigure, goalMet, markdownTable, missed, ratioOf, type Figure } from '../../bench/figures.ts';
import { replaceResults, RESULTS_END, RESULTS_START, resultsSection } from '../../bench/report.ts';

const wall: Figure = { name: 'epp wall', value: 2, unit: 's', baseline: 1, better: 'lower', goal: { on: 'ratio', op: '>=', target: 1 } };
const rps: Figure = {
  name: 'rps',
  value: 900,
  unit: 'req/s',
  baseline: 1000,
  better: 'higher',
  goal: { on: 'ratio', op: '>=', target: 0.8 },
};

test('ratio is oriented so that > 1 means pd-harness does better', () => {
  expect(ratioOf(wall)).toBe(0.5);
  expect(ratioOf(rps)).toBeCloseTo(0.9);
  expect(ratioOf({ value: 5, baseline: '180 s', better: 'lower' })).toBe(36);
  expect(ratioOf({ value: 0, baseline: 0, better: 'lower' })).toBeUndefined();
  expect(ratioOf({ value: 3, baseline: 0, better: 'higher' })).toBeUndefined();
  expect(ratioOf({ value: 1, baseline: 'not measured', better: 'lower' })).toBeUndefined();
});

test('goals on ratio and on value', () => {
  expect(goalMet(wall)).toBe(false);
  expect(goalMet(rps)).toBe(true);
  expect(goalMet({ ...wall, goal: { on: 'value', op: '<', target: 2 } })).toBe(false);
  expect(goalMet({ ...wall, goal: { on: 'value', op: '<=', target: 2 } })).toBe(true);
  expect(goalMet({ ...wall, goal: undefined })).toBeUndefined();
  expect(missed([wall, rps, { name: 'x', skipped: 'no rg' }]).map((f) => f.name)).toEqual(['epp wall']);
});

test('figure line has the name: value unit (baseline: value, ratio: r) shape and names a missed goal', () => {
  expect(formatFigure(wall)).toBe('epp wall: 2.00 s (baseline: 1.00, ratio: 0.500) goal ratio >= 1.00: MISSED');
  expect(formatFigure(rps)).toBe('rps: 900 req/s (baseline: 1000, ratio: 0.900) goal ratio >= 0.800: met');
  expect(formatFigure({ name: 'p50', value: 0.5, unit: 'ms', baseline: 0, better: 'lower', note: 'coarse' })).toBe(
    'p50: 0.500 ms (baseline: 0.000, ratio: n/a) [coarse]',
  );
  expect(formatFigure({ name: 'rg', skipped: 'install ripgrep' })).toBe('rg: skipped (install ripgrep)');
  expect(fmt(1234.5)).toBe('1235');
  expect(fmt(12.34)).toBe('12.3');
});

test('markdown table marks missed goals and escapes pipes', () => {
  const md = markdownTable([wall, rps, { name: 'a|b', skipped: 'x | y' }]);
  const rows = md.split('\n');
  expect(rows).toHaveLength(5);
  expect(rows[2]).toContain('**MISSED**');
  expect(rows[3]).toContain('| met |');
  expect(rows[4]).toContain('skipped: x \\| y');
});

test('results section replaces only the text between its markers', () => {
  const machine = {
    cpus: 2,
    cpuModel: 'cpu',
    memoryGiB: 8,
    node: 'v20',
    date: 'd',
    loadAvg: [1, 2, 3],
    command: 'npm run bench',
    durationS: 10,
  };
  const first = replaceResults('# Benchmarks\n\nhand-written notes\n', resultsSection(machine, [wall], ['line 1']));
  expect(first).toContain('hand-written notes');
  expect(first).toContain('Goals missed: epp wall.');
  const again = replaceResults(`${first}\n## Profiles\nkept\n`, resultsSection(machine, [rps], ['line 2']));
  expect(again.split(RESULTS_START)).toHaveLength(2);
  expect(again.split(RESULTS_END)).toHaveLength(2);
  expect(again).not.toContain('line 1');
  expect(again).toContain('Every goal was met.');
  expect(again).toContain('## Profiles\nkept');
  expect(again).toContain('hand-written notes');
});
