import { expect, test } from '@playwright/test';
import { DURATION_PATTERN, formatDuration, parseDuration, tryParseDuration } from '../../suites/durations.ts';

test('durations in suite syntax become milliseconds', () => {
  expect(parseDuration('500ms')).toBe(500);
  expect(parseDuration('35s')).toBe(35_000);
  expect(parseDuration('2m')).toBe(120_000);
  expect(parseDuration('1h30m')).toBe(5_400_000);
  expect(parseDuration('1h2m3s4ms')).toBe(3_723_004);
  expect(parseDuration('1.5s')).toBe(1_500);
  expect(parseDuration('0')).toBe(0);
  expect(parseDuration(' 10s ')).toBe(10_000);
});

test('text that is not a duration is rejected', () => {
  for (const bad of ['', '35', 's', '10x', '1s2m', '1s1s', '1 s', '-5s', '1.s', 'ms', '5d', '1h 30m', '0s0']) {
    expect(tryParseDuration(bad), bad).toBeUndefined();
  }
  expect(() => parseDuration('35')).toThrow('invalid duration "35": expected a duration like 500ms, 35s, 2m or 1h30m');
});

test('the JSON Schema pattern accepts exactly what the parser accepts', () => {
  const re = new RegExp(DURATION_PATTERN);
  const samples = ['0', '500ms', '35s', '2m', '1h30m', '1.5s', '1h2m3s4ms', '', '35', '1s2m', '1s1s', 'ms', '5d', '1h 30m', '2m0.5s'];
  for (const s of samples) expect(re.test(s), s).toBe(tryParseDuration(s) !== undefined);
});

test('formatDuration writes the shortest suite text and round-trips', () => {
  expect(formatDuration(0)).toBe('0');
  expect(formatDuration(90_000)).toBe('1m30s');
  expect(formatDuration(5_400_000)).toBe('1h30m');
  expect(formatDuration(1_500)).toBe('1s500ms');
  for (const ms of [1, 999, 1_000, 61_001, 3_600_000, 86_399_999]) expect(parseDuration(formatDuration(ms))).toBe(ms);
  expect(() => formatDuration(-1)).toThrow();
});
