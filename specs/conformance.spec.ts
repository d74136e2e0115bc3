import { expect, test } from '../fixtures/index.ts';
import { assertionMessage } from '../reporters/categories.ts';
import { suitesTagged } from '../suites/select.ts';
import { testBudget } from '../core/timeouts.ts';
import { runTimeouts, timeoutOverridesFromEnv } from '../runner/timeouts.ts';

/** Each suite tagged `conformance` is one test: deploy, setup, load, observe, then one step per criterion. */
// suites are independent (each deploys and tears down its topology): spread them over the workers, one twin each
test.describe.configure({ mode: 'parallel' });

for (const loaded of suitesTagged('conformance')) {
  const { suite } = loaded;
  test(suite.metadata.name, { tag: suite.metadata.tags.map((t) => `@${t}`) }, async ({ runSuite, timeouts }, testInfo) => {
    // the project's budget, raised by however much the run's waits were raised (--timeout, spec.timeouts)
    test.setTimeout(testBudget(testInfo.timeout, runTimeouts(suite, timeoutOverridesFromEnv(timeouts))));
    const outcome = await runSuite(loaded);
    for (const v of outcome.verdicts) {
      await test.step(`criterion ${v.name}: ${v.ok ? 'pass' : 'FAIL'}: ${v.summary}`, async () => {
        expect.soft(v.ok, assertionMessage(v)).toBe(true);
      });
    }
  });
}
