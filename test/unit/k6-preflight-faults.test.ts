import { expect, test } from '@playwright/test';
import { staticPreflight } from '../../chaos/preflight-static.ts';
import { loadSuite } from '../../suites/loader.ts';

/*
 * An afterRequests fault fires from the completed-request count the load reports while it runs; k6,
 * k6-operator and a k6 script on the built-in runtime report none until the end, so such a fault is refused
 * before the run (one line naming the fault and the engine) instead of silently never firing.
 */

const base = loadSuite('suites/chaos-decode-kill.suite.yaml').suite;
const faults = base.spec.faults.map((f, i) => {
  if (i !== 1 || !('podKill' in f)) return f;
  const { at: _at, ...body } = f.podKill;
  return { podKill: { ...body, afterRequests: 20 } };
});
const counted = { ...base, spec: { ...base.spec, faults } } as typeof base;
const withScript = {
  ...counted,
  spec: { ...counted.spec, load: { ...counted.spec.load!, script: 'test/fixtures/k6/corpus/01-hello-get.js' } },
};
const env = { PATH: process.env.PATH ?? '' };

test('an afterRequests fault is refused up front on k6 and k6-operator, naming the fault and the engine', () => {
  expect(() => staticPreflight({ suite: counted, engine: 'k6-operator', env })).toThrow(
    /^spec\.faults\[1\]\.podKill\.afterRequests: engine k6-operator does not report completed requests while the load runs, so the fault would never fire; use at: \(time into the load\) or --engine builtin$/,
  );
  // engine k6: refused for the fault before the k6-on-PATH check
  expect(() => staticPreflight({ suite: counted, engine: 'k6', env: { PATH: '/nonexistent' } })).toThrow(
    /^spec\.faults\[1\]\.podKill\.afterRequests: engine k6 does not report/,
  );
  expect(() => staticPreflight({ suite: withScript, engine: 'builtin', env })).toThrow(
    /^spec\.faults\[1\]\.podKill\.afterRequests: the built-in k6 runtime \(spec\.load\.script\) does not report completed requests while the load runs, so the fault would never fire; use at: \(time into the load\)$/,
  );
});

test('the built-in engine on a declarative load counts requests: afterRequests faults pass; at: faults pass on every engine', () => {
  expect(() => staticPreflight({ suite: counted, engine: 'builtin', env })).not.toThrow();
  expect(() => staticPreflight({ suite: base, engine: 'k6-operator', env })).not.toThrow();
});

test('a repro campaign is refused up front on k6 and k6-operator (its cells run on the built-in engine); builtin passes', () => {
  const repro = loadSuite('suites/repro-decode-index-error.suite.yaml').suite;
  for (const engine of ['k6', 'k6-operator'] as const) {
    expect(() => staticPreflight({ suite: repro, engine, env: { PATH: `${process.cwd()}/test/bin` } })).toThrow(
      new RegExp(`^engine ${engine}: a repro campaign \\(spec\\.repro\\) runs each cell's load on the built-in engine`),
    );
  }
  expect(() => staticPreflight({ suite: repro, engine: 'builtin', env })).not.toThrow();
});
