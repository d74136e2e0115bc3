import { expect, test } from '@playwright/test';
import { execa } from 'execa';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  DEFAULT_TIMEOUTS,
  formatTimeout,
  MAX_TIMEOUT_MS,
  resolveTimeouts,
  TIMEOUT_NAMES,
  testBudget,
  timeoutProblem,
} from '../../core/timeouts.ts';
import { UsageError } from '../../core/errors.ts';
import { formatTimeoutOverrides, parseTimeoutFlags, runTimeouts, timeoutOverridesFromEnv } from '../../runner/timeouts.ts';
import { formatProblem, loadSuite, validateSuiteText } from '../../suites/loader.ts';

/** The run's named waits (core/timeouts.ts): defaults < spec.timeouts < --timeout, refused when unknown or too long. */

const suiteText = (timeouts: string) => `apiVersion: pd-harness.dev/v1
kind: Suite
metadata: { name: timeouts-suite, tags: [conformance] }
spec:
  target: { namespaces: [llm-d-vllm] }
${timeouts ? `  timeouts: ${timeouts}\n` : ''}`;

/** The folders writeSuite made; removed once each test is done, passed or failed. */
const dirs: string[] = [];
test.afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function writeSuite(timeouts: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdh-timeouts-'));
  dirs.push(dir);
  const file = path.join(dir, 't.suite.yaml');
  fs.writeFileSync(file, suiteText(timeouts));
  return file;
}

test('formatTimeout names the value as a suite would write it', () => {
  expect([500, 35_000, 180_000, 90_000, 7_200_000, 5_400_000, 1_500].map(formatTimeout)).toEqual([
    '500ms',
    '35s',
    '3m',
    '1m30s',
    '2h',
    '1h30m',
    '1500ms',
  ]);
});

test('resolution: defaults, then spec.timeouts, then the command line (which wins)', () => {
  const suite = loadSuite(writeSuite('{ deploy: 4m, reconcile: 45s }')).suite;
  expect(suite.spec.timeouts).toEqual({ deploy: 240_000, reconcile: 45_000 });
  const fromSuite = runTimeouts(suite);
  expect(fromSuite.deploy).toBe(240_000);
  expect(fromSuite.reconcile).toBe(45_000);
  expect(fromSuite.podGone).toBe(DEFAULT_TIMEOUTS.podGone);
  const withFlag = runTimeouts(suite, parseTimeoutFlags(['deploy=5m']));
  expect(withFlag.deploy).toBe(300_000);
  expect(withFlag.reconcile).toBe(45_000);
  expect(resolveTimeouts({ deploy: 1 }, { deploy: undefined }).deploy).toBe(1);
  expect(Object.isFrozen(withFlag)).toBe(true);
});

test('--timeout values: NAME=DURATION, unknown names and values over the maximum refused in one line', () => {
  expect(parseTimeoutFlags(['deploy=5m', 'reconcile=1m30s'])).toEqual({ deploy: 300_000, reconcile: 90_000 });
  const refusal = (v: string) => {
    try {
      parseTimeoutFlags([v]);
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError);
      return (err as Error).message;
    }
    throw new Error(`accepted ${v}`);
  };
  expect(refusal('deploy=3h')).toBe('--timeout deploy=3h: timeout deploy must be at most 2h (got 3h)');
  expect(refusal('deploy=0')).toBe('--timeout deploy=0: timeout deploy must be more than 0');
  expect(refusal('deploy=soon')).toBe('--timeout deploy=soon: expected a duration like 500ms, 35s, 2m or 1h30m');
  expect(refusal('deploy')).toMatch(/^--timeout deploy: expected NAME=DURATION, e\.g\. deploy=5m \(names: deploy, reconcile, /);
  expect(refusal('deplyo=5m')).toBe(`--timeout deplyo=5m: unknown timeout "deplyo" (known: ${TIMEOUT_NAMES.join(', ')})`);
  expect(timeoutProblem('deploy', MAX_TIMEOUT_MS)).toBeUndefined();
});

test('the command line reaches the Playwright child as PD_HARNESS_TIMEOUTS and back unchanged', () => {
  const overrides = parseTimeoutFlags(['deploy=5m', 'steadyStateBeforeLoad=1m30s', 'simFaultCall=750ms']);
  const text = formatTimeoutOverrides(overrides);
  expect(text).toBe('deploy=5m,steadyStateBeforeLoad=1m30s,simFaultCall=750ms');
  expect(timeoutOverridesFromEnv(text)).toEqual(overrides);
  expect(timeoutOverridesFromEnv(undefined)).toEqual({});
  expect(timeoutOverridesFromEnv('')).toEqual({});
  expect(() => timeoutOverridesFromEnv('deploy=9h')).toThrow(/^PD_HARNESS_TIMEOUTS deploy=9h: timeout deploy must be at most 2h/);
});

test('spec.timeouts: an unknown name is refused with the list of known ones, a value over the maximum with the maximum', () => {
  const res = validateSuiteText('/tmp/t.suite.yaml', suiteText("{ deplyo: 5m, reconcile: 3h, podGone: '0' }"));
  expect(res.ok).toBe(false);
  expect(res.problems.map(formatProblem)).toEqual([
    '/tmp/t.suite.yaml:6:38: spec.timeouts.reconcile: must be at most 2h',
    '/tmp/t.suite.yaml:6:51: spec.timeouts.podGone: must be at least 1ms',
  ]);
  // the name check runs once the values parse
  const unknown = validateSuiteText('/tmp/t.suite.yaml', suiteText('{ deplyo: 5m }')).problems.map(formatProblem);
  expect(unknown).toEqual([`/tmp/t.suite.yaml:6:23: spec.timeouts.deplyo: unknown timeout (known: ${TIMEOUT_NAMES.join(', ')})`]);
});

test('a test budget grows by however much the waits were raised, never shrinks', () => {
  expect(testBudget(120_000, DEFAULT_TIMEOUTS)).toBe(120_000);
  expect(testBudget(120_000, resolveTimeouts({ deploy: DEFAULT_TIMEOUTS.deploy + 120_000 }))).toBe(240_000);
  expect(testBudget(120_000, resolveTimeouts({ deploy: 1000 }))).toBe(120_000);
  // the budgets themselves are not waits of the run
  expect(testBudget(120_000, resolveTimeouts({ chaosTest: 60 * 60_000 }))).toBe(120_000);
});

test('pd-harness run: a bad --timeout is one line, exit 2, before anything else', async () => {
  const file = writeSuite('');
  const res = await execa('node', ['bin/pd-harness.js', 'run', file, '--timeout', 'deploy=5m', '--timeout', 'deploy=3h', '--dry-run'], {
    reject: false,
  });
  expect(res.exitCode).toBe(2);
  expect(res.stderr.split('\n').filter((l) => !l.includes('rebuilding') && !l.includes('compiling'))).toEqual([
    'pd-harness: --timeout deploy=3h: timeout deploy must be at most 2h (got 3h)',
  ]);
  const repro = await execa('node', ['bin/pd-harness.js', 'repro', file, '--timeout', 'nope=1m'], { reject: false });
  expect(repro.exitCode).toBe(2);
  expect(repro.stderr).toContain('pd-harness: --timeout nope=1m: unknown timeout "nope" (known: deploy, ');
});
