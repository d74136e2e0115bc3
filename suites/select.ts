import { resolve } from 'node:path';
import { listSuiteFiles, loadSuite, type LoadedSuite } from './loader.ts';

/**
 * The suites a Playwright project runs: those in suites/ with the tag, or only PD_HARNESS_SUITE when
 * `pd-harness run FILE` names one.
 */
export function suitesTagged(tag: string, dir = resolve('suites')): LoadedSuite[] {
  const one = process.env.PD_HARNESS_SUITE;
  const files = one ? [resolve(one)] : listSuiteFiles(dir);
  return files.map((f) => loadSuite(f)).filter((l) => one || l.suite.metadata.tags.includes(tag));
}
