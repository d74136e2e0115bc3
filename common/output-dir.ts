import { existsSync, lstatSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';

/**
 * Path helpers shared with the suite loader (which keeps manifest paths inside the suite's repository).
 *
 * Output directories pd-harness cleans (the Allure report's `--out`, Playwright's `--output`) are cleaned
 * only when pd-harness wrote them: a marker file it leaves in each one after writing. A directory that is
 * missing or empty is fine; any other directory is refused unless the user says `--force`.
 */
export const OUTPUT_MARKER = '.pd-harness-output';

export class OutputDirRefused extends Error {
  override name = 'OutputDirRefused';
}

/** Throws OutputDirRefused (one line) when `dir` holds files and no pd-harness marker, unless `force`. */
export function checkOutputDir(dir: string, flag: string, opts: { force?: boolean } = {}): void {
  if (opts.force || !existsSync(dir)) return;
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new OutputDirRefused(`${flag} ${dir} is not a directory; give a directory pd-harness may write`);
  const entries = readdirSync(dir);
  if (entries.length === 0 || entries.includes(OUTPUT_MARKER)) return;
  throw new OutputDirRefused(`${flag} ${dir} is not empty and was not written by pd-harness; use --force`);
}

/** Leaves the marker that makes `dir` pd-harness's to clean next time. */
export function markOutputDir(dir: string): void {
  if (!existsSync(dir)) return;
  writeFileSync(join(dir, OUTPUT_MARKER), `${JSON.stringify({ writtenBy: 'pd-harness', at: new Date().toISOString() })}\n`);
}

/** The real path of `p`, or of its nearest existing ancestor joined with the rest (for paths not made yet). */
export function realPathLoose(p: string): string {
  const abs = resolve(p);
  let head = abs;
  const rest: string[] = [];
  while (!existsSync(head)) {
    const parent = dirname(head);
    if (parent === head) return abs;
    rest.unshift(head.slice(parent.length + (parent.endsWith(sep) ? 0 : 1)));
    head = parent;
  }
  return join(realpathSync(head), ...rest);
}

/** True when `inner` is `outer` or inside it, after symlinks. */
export function isSameOrInside(inner: string, outer: string): boolean {
  const rel = relative(realPathLoose(outer), realPathLoose(inner));
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}
