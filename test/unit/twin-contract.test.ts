import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';

/**
 * twin/CONTRACT.md promises one row per observable behaviour of the twin, each traced to the real
 * system's source and shown by a test. These checks keep the table honest: every row names a source
 * (or says it is a simplification and still names what it simplifies), a twin file that exists, and a
 * test file that exists and holds the quoted title.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const rows = readFileSync(join(ROOT, 'twin', 'CONTRACT.md'), 'utf8')
  .split('\n')
  .filter((l) => l.startsWith('|') && !/^\|\s*-/.test(l))
  .slice(1) // the header row
  .map((l) =>
    l
      .trim()
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim()),
  );

const SOURCE = /(llm-d|gateway-api|inference-extension|vllm|k6-operator|grafana\/k6|kubernetes)[^|]*\/[^|]*/i;

test('every contract row has five cells', () => {
  expect(rows.length).toBeGreaterThan(20);
  for (const r of rows) expect(r, r.join(' | ')).toHaveLength(5);
});

test('every contract row names a real source with a path', () => {
  for (const [behaviour, , source] of rows) expect(source, behaviour).toMatch(SOURCE);
});

test('every contract row names twin files that exist', () => {
  for (const [behaviour, , , files] of rows) {
    // `file (what in it)`: the parenthesis names functions, not files
    const paths = files!
      .replace(/\([^)]*\)/g, '')
      .split(',')
      .map((f) => f.trim().replace(/`/g, '').split(' ')[0]!)
      .filter(Boolean);
    expect(paths.length, behaviour).toBeGreaterThan(0);
    for (const p of paths) expect(existsSync(join(ROOT, p)), `${behaviour}: ${p}`).toBe(true);
  }
});

test('every contract row names a test file that holds the quoted title', () => {
  for (const [behaviour, , , , t] of rows) {
    const m = /^([^:]+\.ts): (.+)$/.exec(t!);
    expect(m, `${behaviour}: "${t}" is not "file: title"`).not.toBeNull();
    const [, file, title] = m!;
    expect(existsSync(join(ROOT, file!)), `${behaviour}: ${file}`).toBe(true);
    const text = readFileSync(join(ROOT, file!), 'utf8').replace(/\\'/g, "'");
    expect(
      text.includes(title!) || templateTitles(text).some((re) => re.test(title!)),
      `${behaviour}: no test titled "${title}" in ${file}`,
    ).toBe(true);
  }
});

/** Titles written as template literals (`... ${mode.title} ...`), as patterns where each `${...}` is any text. */
function templateTitles(source: string): RegExp[] {
  return [...source.matchAll(/test\(\s*`([^`]*\$\{[^`]*)`/g)].map(
    (m) =>
      new RegExp(
        `^${m[1]!
          .split(/\$\{[^}]*\}/)
          .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
      ),
  );
}
