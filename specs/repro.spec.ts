/**
 * The `repro` project: one test per suite tagged `repro` (or only PD_HARNESS_SUITE), running its reproduction
 * campaign. PD_HARNESS_REPRO_CELL runs one cell, PD_HARNESS_REPRO_SEED overrides the seed and
 * PD_HARNESS_REPRO_OUT the output directory (default reports/repro).
 *
 * Crashes found are results, not failures. The test fails when the run itself broke: deploy/setup/preflight
 * (runner/run-repro.ts),
 * or on the twin a seeded crash that the harness could not find, bundle, or trace to the previous container.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as allure from 'allure-js-commons';
import { playwrightReporter } from '../fixtures/suite.ts';
import { test, expect } from '../fixtures/index.ts';
import { checkEngine } from '../fixtures/options.ts';
import { runTimeouts, timeoutOverridesFromEnv } from '../runner/timeouts.ts';
import { testBudget } from '../core/timeouts.ts';
import { suitesTagged } from '../suites/select.ts';
import { cellsToRun, DEFAULT_OUT_DIR } from '../chaos/repro/campaign.ts';
import { decodeIndexErrorFaults } from '../chaos/repro/inject.ts';
import { INDEX_ERROR, ENGINE_DEAD } from '../chaos/repro/detect.ts';

function seedFromEnv(): number | undefined {
  const raw = process.env.PD_HARNESS_REPRO_SEED;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new Error(`PD_HARNESS_REPRO_SEED must be an integer, got "${raw}"`);
  return n;
}

for (const loaded of suitesTagged('repro')) {
  const { suite } = loaded;
  test(suite.metadata.name, async ({ cluster, target, engine: engineOption, allowProtected, timeouts }, testInfo) => {
    const engine = checkEngine(engineOption);
    const cellId = process.env.PD_HARNESS_REPRO_CELL || undefined;
    const cells = cellsToRun(loaded, cellId);
    // Deploy and rollouts (~1 min on the twin) plus, per cell, its load bound and a possible restart; raised
    // waits (--timeout, spec.timeouts) raise the budget with them.
    const commandLine = timeoutOverridesFromEnv(timeouts);
    const t = runTimeouts(suite, commandLine);
    test.setTimeout(testBudget(t.reproTest + cells.length * t.reproCell, t));
    const rep = playwrightReporter(testInfo);
    await allure.labels({ name: 'suite', value: 'repro' }, { name: 'feature', value: suite.metadata.name });
    if (suite.metadata.severity) await allure.severity(suite.metadata.severity);
    await allure.parameter('target', `${target.kind} ${target.info.server}`);
    if (cellId) await allure.parameter('cell', cellId);
    if (suite.metadata.description) await allure.description(suite.metadata.description);
    const gatewayUrl = suite.spec.target.gateway ?? target.gatewayUrl;

    // guard, preflight, deploy, setup, the connectors answering, then the campaign: all the runner's
    const seed = seedFromEnv();
    // imported when the campaign runs, not when Playwright lists the tests (the runner loads client-node)
    const { runRepro } = await import('../runner/run-repro.ts');
    const result = await runRepro({
      cluster,
      gatewayUrl,
      loaded,
      target: target.kind,
      rep,
      allowRemote: target.allowRemote,
      timeouts: commandLine,
      allowProtected,
      ...(engine ? { engine } : {}),
      outDir: process.env.PD_HARNESS_REPRO_OUT || DEFAULT_OUT_DIR,
      ...(cellId ? { cellId } : {}),
      ...(seed !== undefined ? { seed } : {}),
    });

    await allure.link(pathToFileURL(result.dir).href, `repro campaign ${result.campaign}`);
    for (const b of result.bundles) {
      await allure.link(pathToFileURL(b.dir).href, `bundle ${basename(b.dir)}`);
      for (const file of b.files)
        await testInfo.attach(`${basename(b.dir)}/${basename(file)}`, {
          path: file,
          contentType: file.endsWith('.json') ? 'application/json' : 'text/plain',
        });
    }

    // The summary table exists, in both forms, and covers every cell.
    expect(existsSync(result.summaryFiles.markdown)).toBe(true);
    expect(readFileSync(result.summaryFiles.markdown, 'utf8')).toContain('| cell | connector |');
    const json = JSON.parse(readFileSync(result.summaryFiles.json, 'utf8')) as { cells: { id: string }[] };
    expect(json.cells.map((c) => c.id)).toEqual(cells.map((c) => c.id));
    expect(result.cleanupProblems, 'twin triggers left set').toEqual([]);

    // Every bundle's traceback came from the previous container's log.
    for (const b of result.bundles) {
      expect(b.bundle.traceback.source).toBe('previous');
      const previous = readFileSync(join(b.dir, b.bundle.files.previousLog), 'utf8');
      const traceback = readFileSync(join(b.dir, b.bundle.files.traceback), 'utf8');
      expect(previous.includes(INDEX_ERROR) || previous.includes(ENGINE_DEAD)).toBe(true);
      for (const line of traceback.split('\n').slice(1).filter(Boolean)) expect(previous).toContain(line);
      expect(readFileSync(join(b.dir, b.bundle.files.replay), 'utf8')).toContain(b.bundle.replay);
    }

    if (target.kind === 'twin' && decodeIndexErrorFaults(suite).length > 0) {
      const injected = result.outcomes.filter((o) => o.injected);
      // On the twin the bug is seeded: the harness must find it where it was seeded and nowhere else. A trigger
      // that fires by request count or seeded chance must show; abortedKv depends on the load and may not.
      const firesByCount = decodeIndexErrorFaults(suite).some((f) => f.trigger !== 'abortedKv');
      if (injected.length > 0 && firesByCount) {
        expect(result.summary.totals.crashes, 'crashes found in the cells where the twin seeded the IndexError').toBeGreaterThan(0);
      }
      expect(
        result.outcomes.filter((o) => !o.injected && o.crashes > 0).map((o) => o.cell.id),
        'cells that crashed with nothing seeded',
      ).toEqual([]);
    }
  });
}
