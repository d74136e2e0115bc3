import { resolve } from 'node:path';
import { listSuiteFiles, loadSuite, type LoadedSuite } from './loader.ts';
import type { Suite } from './schema.ts';

export type SuiteProject = 'conformance' | 'chaos' | 'repro';

/**
 * The Playwright project a suite belongs to, decided once for `pd-harness run` (which project it starts) and
 * for the projects themselves (which suites they run): repro (the tag or spec.repro), chaos (the tag or
 * faults), else conformance.
 */
export function projectOf(suite: Suite): SuiteProject {
  const tags = suite.metadata.tags;
  if (tags.includes('repro') || suite.spec.repro) return 'repro';
  if (tags.includes('chaos') || suite.spec.faults.length > 0) return 'chaos';
  return 'conformance';
}

/**
 * The suites a Playwright project runs: those in suites/ that belong to it (projectOf), or only
 * PD_HARNESS_SUITE when `pd-harness run FILE` names one (the CLI chose the project with projectOf).
 */
export function suitesTagged(project: SuiteProject, dir = resolve('suites')): LoadedSuite[] {
  const one = process.env.PD_HARNESS_SUITE;
  const files = one ? [resolve(one)] : listSuiteFiles(dir);
  return files.map((f) => loadSuite(f)).filter((l) => one || projectOf(l.suite) === project);
}
