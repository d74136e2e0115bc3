import { join } from 'node:path';
import { ESLint } from 'eslint';
import { test, expect } from '@playwright/test';
import { mayImport, readLayers } from '../../scripts/eslint-boundaries.js';

/** The import-boundary rule reads the Layers table of docs/architecture.md; a deliberate violation fails lint. */
const ROOT = join(import.meta.dirname, '..', '..');

async function boundaryMessages(file: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: ROOT });
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) });
  return result!.messages.filter((m) => m.ruleId === 'boundaries/layers').map((m) => m.message);
}

test('criteria importing the cluster driver is refused, naming the Layers row', async () => {
  const messages = await boundaryMessages(
    'criteria/zz-violation.ts',
    "import { Cluster } from '../cluster/driver.ts';\nexport const x = Cluster;\n",
  );
  expect(messages).toHaveLength(1);
  expect(messages[0]).toContain('criteria/ may not import cluster/driver.ts (docs/architecture.md, Layers:');
});

test('the twin importing the harness is refused; the harness reaching the twin beyond its launcher too', async () => {
  expect(await boundaryMessages('twin/zz.ts', "export { redact } from '../core/redact.ts';\n")).toHaveLength(1);
  expect(await boundaryMessages('fixtures/zz.ts', "export { listPids } from '../twin/runtime/pidfiles.ts';\n")).toHaveLength(1);
  expect(await boundaryMessages('fixtures/zz.ts', "export { startTwin } from '../twin/launcher.ts';\n")).toEqual([]);
});

test('allowed imports pass: criteria -> analysis, dynamic imports checked like static ones', async () => {
  expect(await boundaryMessages('criteria/zz.ts', "export { countDecisions } from '../analysis/epp-decisions.ts';\n")).toEqual([]);
  expect(await boundaryMessages('load/zz.ts', "export const m = () => import('../cli/main.ts');\n")).toHaveLength(1);
});

test('the Layers table parses: core and k8s-rules import nothing, test may import anything', () => {
  const layers = readLayers(
    `## Layers\n\n| folder | may import | why |\n|---|---|---|\n| \`core/\` | \`-\` | x |\n| \`cli/\` | \`core/\`, \`twin/launcher.ts\` | y |\n| \`test/\` | \`*\` | z |\n`,
  );
  expect(mayImport(layers, 'core', 'cluster/driver.ts')).toBe(false);
  expect(mayImport(layers, 'cli', 'twin/launcher.ts')).toBe(true);
  expect(mayImport(layers, 'cli', 'twin/runtime/pidfiles.ts')).toBe(false);
  expect(mayImport(layers, 'test', 'twin/runtime/pidfiles.ts')).toBe(true);
});
