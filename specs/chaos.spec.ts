import { expect, test } from '../fixtures/index.ts';
import { assertionMessage } from '../reporters/categories.ts';
import { suitesTagged } from '../suites/select.ts';
import { testBudget } from '../core/timeouts.ts';
import { runTimeouts, timeoutOverridesFromEnv } from '../runner/timeouts.ts';

/**
 * Each suite tagged `chaos` is one test: deploy, setup, steady state, load with faults, recovery, then one
 * step per criterion (recovery and faultsHappened included).
 */
// suites are independent (each deploys and tears down its topology): spread them over the workers, one twin each
test.describe.configure({ mode: 'parallel' });

for (const loaded of suitesTagged('chaos')) {
  const { suite } = loaded;
  test(suite.metadata.name, { tag: suite.metadata.tags.map((t) => `@${t}`) }, async ({ runSuite, timeouts }) => {
    const t = runTimeouts(suite, timeoutOverridesFromEnv(timeouts));
    test.setTimeout(testBudget(t.chaosTest, t));
    const outcome = await runSuite(loaded);
    for (const v of outcome.verdicts) {
      await test.step(`criterion ${v.name}: ${v.ok ? 'pass' : 'FAIL'}: ${v.summary}`, async () => {
        expect.soft(v.ok, assertionMessage(v)).toBe(true);
      });
    }
  });
}
