import { expect, test } from '../fixtures/index.ts';
import { suitesTagged } from '../suites/select.ts';

/** Each suite tagged `conformance` is one test: deploy, setup, load, observe, then one step per criterion. */
// suites are independent (each deploys and tears down its topology): spread them over the workers, one twin each
test.describe.configure({ mode: 'parallel' });

for (const loaded of suitesTagged('conformance')) {
  const { suite } = loaded;
  test(suite.metadata.name, { tag: suite.metadata.tags.map((t) => `@${t}`) }, async ({ runSuite }) => {
    const outcome = await runSuite(loaded);
    for (const v of outcome.verdicts) {
      await test.step(`criterion ${v.name}: ${v.ok ? 'pass' : 'FAIL'}: ${v.summary}`, async () => {
        expect.soft(v.ok, `${v.name}: ${v.summary}`).toBe(true);
      });
    }
  });
}
