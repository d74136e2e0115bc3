import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, expect } from '@playwright/test';

/**
 * `npm ci` runs no dependency's install script (no install step may download a binary): every package the
 * lockfile marks `hasInstallScript` is denied in package.json's `allowScripts` (npm >= 11.16 reads the field;
 * npm 12 blocks scripts it does not list). A new dependency with an install script fails here until someone
 * has looked at what its script does and listed it.
 */
const REPO = join(import.meta.dirname, '..', '..');
const readJson = (file: string): Record<string, unknown> => JSON.parse(readFileSync(join(REPO, file), 'utf8')) as Record<string, unknown>;

/** Package names of the lockfile entries (v2/v3 `packages`) that declare an install script. */
function withInstallScripts(lock: Record<string, unknown>): string[] {
  const packages = (lock.packages ?? {}) as Record<string, { hasInstallScript?: boolean; name?: string }>;
  const names = Object.entries(packages)
    .filter(([key, p]) => key !== '' && p.hasInstallScript)
    .map(([key, p]) => p.name ?? key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length));
  return [...new Set(names)].sort();
}

test('every dependency with an install script is denied in allowScripts', () => {
  const lock = readJson('package-lock.json');
  const pkg = readJson('package.json');
  const scripted = withInstallScripts(lock);
  // the lockfile does mark them: esbuild's postinstall is the one known today
  expect(scripted).toContain('esbuild');
  const allow = (pkg.allowScripts ?? {}) as Record<string, unknown>;
  expect(Object.fromEntries(scripted.map((name) => [name, allow[name]]))).toEqual(
    Object.fromEntries(scripted.map((name) => [name, false])),
  );
});

test('withInstallScripts reads nested and scoped entries, once per name', () => {
  const lock = {
    packages: {
      '': { name: 'root', hasInstallScript: true },
      'node_modules/a': { hasInstallScript: true },
      'node_modules/b': {},
      'node_modules/@s/c': { hasInstallScript: true },
      'node_modules/x/node_modules/a': { hasInstallScript: true },
    },
  };
  expect(withInstallScripts(lock)).toEqual(['@s/c', 'a']);
});
